"""ATNA audit (ITI-20): the node's audit trail (records, outbox, syslog sender) and the built-in Audit Record
Repository (``xds serve audit``). Modules are imported by what they hold; nothing is re-exported here so
that the protocol layers can import the trail without pulling in the repository's database code."""

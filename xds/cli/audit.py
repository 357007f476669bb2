"""``xds audit``: search the built-in Audit Record Repository, e.g. who saw a patient's data and when."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xds.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="search the audit records (ATNA Audit Record Repository)")
    p.add_argument("--pid", help="records naming this patient ID (ID^^^&OID&ISO)")
    p.add_argument("--user", help="records with this active participant (UserID or AlternativeUserID)")
    p.add_argument("--from", dest="since", metavar="TIME", help="EventDateTime from (ISO 8601)")
    p.add_argument("--to", dest="until", metavar="TIME", help="EventDateTime up to (ISO 8601)")
    p.add_argument("--event", help="EventID code or name (110112, Query) or transaction (ITI-18)")
    p.add_argument("--xml", action="store_true", help="print each record's XML as well")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--config", type=Path, help="TOML configuration file")


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    from xds.audit.store import AuditStore

    store = AuditStore(settings.effective_database_url)
    try:
        rows = store.find(
            patient=args.pid, user=args.user, since=args.since, until=args.until, event=args.event
        )
    finally:
        store.close()
    fields = ("event_time", "event_type", "event_name", "action", "outcome", "source_id", "peer", "valid")
    if args.json:
        records = [{f: getattr(r, f) for f in fields} | ({"xml": r.xml} if args.xml else {}) for r in rows]
        print(json.dumps(records, indent=2))
        return 0
    print(f"{'time':29s} {'transaction':12s} {'event':10s} act out {'source':20s} peer")
    for r in rows:
        print(f"{r.event_time or '-':29s} {r.event_type or '-':12s} {r.event_name or '-':10s} "
              f"{r.action or '-':3s} {r.outcome if r.outcome is not None else '-':<3} "
              f"{r.source_id or '-':20s} {r.peer}{'' if r.valid else '  (not a valid audit message)'}")
        if args.xml:
            print(r.xml)
    print(f"{len(rows)} record{'s' if len(rows) != 1 else ''}")
    return 0

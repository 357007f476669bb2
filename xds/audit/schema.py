"""The DICOM audit message schema (PS3.15 A.5.1; ours in ``schemas/audit``), to check records."""

from __future__ import annotations

from functools import cache

from lxml import etree

from xds.schemas import SCHEMA_DIR

AUDIT_XSD = SCHEMA_DIR / "audit" / "dicom-audit-message.xsd"


@cache
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(AUDIT_XSD), parser))


def schema_errors(document: etree._Element) -> list[str]:
    """What keeps ``document`` from being a DICOM audit message; empty when it is one."""
    schema = _schema()
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]

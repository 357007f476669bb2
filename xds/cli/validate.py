"""``xds validate FILE``: the rules a transaction applies, run on a request file, without a server."""

from __future__ import annotations

import sys
from pathlib import Path

from xds.config import Settings
from xds.ebrim import adhoc_query_request_from_ebrim, pnr_from_ebrim, submit_objects_from_ebrim
from xds.errors import SoapFault, XdsError
from xds.soap.xmlparser import parse_xml
from xds.transactions import Transaction
from xds.validation import ValidationConfig, validate
from xds.vocabulary import NS_LCM, NS_QUERY, NS_XDSB, Severity

_TRANSACTIONS = {
    "ITI-41": Transaction.ITI_41,
    "ITI-42": Transaction.ITI_42,
    "RAD-68": Transaction.RAD_68,
    "ITI-18": Transaction.ITI_18,
}


def _request(root, transaction: Transaction):  # noqa: ANN001, ANN202 - lxml element in, model out
    tag = root.tag
    if transaction is Transaction.ITI_18:
        if tag != f"{{{NS_QUERY}}}AdhocQueryRequest":
            raise ValueError("expected query:AdhocQueryRequest")
        return adhoc_query_request_from_ebrim(root)
    if transaction in (Transaction.ITI_41, Transaction.RAD_68):
        if tag != f"{{{NS_XDSB}}}ProvideAndRegisterDocumentSetRequest":
            raise ValueError("expected xdsb:ProvideAndRegisterDocumentSetRequest")
        return pnr_from_ebrim(root, {})
    if tag != f"{{{NS_LCM}}}SubmitObjectsRequest":
        raise ValueError("expected lcm:SubmitObjectsRequest")
    return submit_objects_from_ebrim(root)


def run_validate(path: Path, transaction_code: str, settings: Settings) -> int:
    transaction = _TRANSACTIONS[transaction_code]
    try:
        config = ValidationConfig.from_settings(settings)
        root = parse_xml(path.read_bytes(), max_bytes=settings.max_xml_bytes)
        findings = validate(_request(root, transaction), transaction, config)
    except (OSError, ValueError, SoapFault) as exc:
        print(f"xds validate: {path}: {exc}", file=sys.stderr)
        return 2
    except XdsError as exc:
        findings = list(exc.errors)
    for finding in findings:
        level = "error" if finding.severity == Severity.ERROR else "warning"
        where = f" [{finding.location}]" if finding.location else ""
        print(f"{level}: {finding.code}{where}: {finding.context}")
    errors = sum(1 for f in findings if f.severity == Severity.ERROR)
    print(f"{path}: {transaction_code}: {errors} error(s), {len(findings) - errors} warning(s)")
    return 1 if errors else 0

"""``xds submit FILE... --pid PID``: ITI-41 Provide and Register as a Document Source (ITI TF-2b 3.41)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xds.cli.query import add_endpoint_options
from xds.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "submit", help="ITI-41 Provide and Register local files",
        description="Submit files as one SubmissionSet. Codes are CODE (from the IHE-DE value sets) or "
        "CODE^^SCHEME; unset ones default to BEF / BERI / urn:ihe-d:mime / KHS / ALLG / N.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--pid", required=True, help="patient ID (XAD-PID, ID^^^&OID&ISO)")
    p.add_argument("--class", dest="class_code", metavar="CODE", help="classCode (default BEF)")
    p.add_argument("--type", dest="type_code", metavar="CODE", help="typeCode (default BERI)")
    p.add_argument("--format", dest="format_code", metavar="CODE", help="formatCode (default urn:ihe-d:mime)")
    p.add_argument("--facility", metavar="CODE", help="healthcareFacilityTypeCode (default KHS)")
    p.add_argument("--practice-setting", metavar="CODE", help="practiceSettingCode (default ALLG)")
    p.add_argument("--confidentiality", action="append", default=[], metavar="CODE", help="default N")
    p.add_argument("--event", action="append", default=[], metavar="CODE", help="eventCodeList entry")
    p.add_argument("--content-type", metavar="CODE", help="SubmissionSet contentTypeCode (default 1)")
    p.add_argument("--title", help="title (default: the file name)")
    p.add_argument("--mime-type", help="mime type (default: from the file extension)")
    p.add_argument("--language", default="de-DE", help="languageCode (default de-DE)")
    p.add_argument("--source-patient-id", metavar="CX", help="sourcePatientId (default: --pid)")
    p.add_argument("--source-id", metavar="OID", help="SubmissionSet sourceId")
    p.add_argument("--author", metavar="XCN", help="authorPerson, e.g. ^Mustermann^Erika^^^Dr.")
    p.add_argument("--institution", metavar="XON", help="authorInstitution")
    p.add_argument("--comments")
    p.add_argument("--replace", metavar="UUID", help="entryUUID (or uniqueId) of the document it replaces")
    p.add_argument("--config", type=Path, help="TOML configuration file")
    add_endpoint_options(p)


def run_submit(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.command import OK, make_client, run, warn
    from consumer.output import error_dict, table
    from consumer.submit import SubmitOptions

    def action() -> int:
        for path in args.files:
            if not path.is_file():
                raise FileNotFoundError(2, "no such file", str(path))
        options = SubmitOptions(
            patient_id=args.pid, class_code=args.class_code, type_code=args.type_code,
            format_code=args.format_code, healthcare_facility_type_code=args.facility,
            practice_setting_code=args.practice_setting, confidentiality_codes=args.confidentiality,
            event_codes=args.event, content_type_code=args.content_type, title=args.title,
            mime_type=args.mime_type, language_code=args.language, source_patient_id=args.source_patient_id,
            source_id=args.source_id, author_person=args.author, author_institution=args.institution,
            replace=args.replace, comments=args.comments,
        )
        with make_client(args, settings) as client:
            result = client.submit(args.files, options)
        ss = result.request.submission.submission_sets[0]
        entries = result.document_entries
        if args.json:
            body = {
                "submission_set": {"unique_id": ss.unique_id, "entry_uuid": ss.entry_uuid},
                "documents": [
                    {"unique_id": d.unique_id, "entry_uuid": d.entry_uuid, "mime_type": d.mime_type,
                     "title": d.title, "file": str(f)}
                    for d, f in zip(entries, args.files, strict=True)
                ],
                "errors": [error_dict(e) for e in result.response.errors],
            }
            print(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            print(f"SubmissionSet {ss.unique_id} registered")
            files = zip(entries, args.files, strict=True)
            rows = [(d.unique_id, d.entry_uuid, d.mime_type, f) for d, f in files]
            print(table(("uniqueId", "entryUUID", "mimeType", "file"), rows))
        warn(result.response.errors)
        return OK

    return run(action)

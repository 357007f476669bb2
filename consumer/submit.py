"""ITI-41 Provide and Register Document Set-b from local files, as a Document Source (ITI TF-2b 3.41).

Metadata is built from a few options; unset codes default to IHE-DE value set codes that fit a general
report (``SubmitOptions``). hash, size and repositoryUniqueId are left to the repository (ITI TF-3 Table
4.3.1-3: optional for the Document Source).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from consumer.codes import resolve_code
from consumer.files import mime_type
from xds.hl7v2 import CX, XCN, XON
from xds.model import (
    Association,
    Attachment,
    Author,
    Code,
    Document,
    DocumentEntry,
    ProvideAndRegisterRequest,
    Submission,
    SubmissionSet,
)
from xds.validation import syntax
from xds.vocabulary import AssociationType, SubmissionSetStatus

# IHE-DE value set codes (xds/data/ihe-de-value-sets.tsv) used when an option is not given
DEFAULT_CODES = {
    "classCode": "BEF",  # Befundbericht
    "typeCode": "BERI",  # Arztberichte
    "formatCode": "urn:ihe-d:mime",  # durch MIME Type beschrieben
    "healthcareFacilityTypeCode": "KHS",  # Krankenhaus
    "practiceSettingCode": "ALLG",  # Allgemeinmedizin
    "confidentialityCode": "N",  # normal (HL7 v3 Confidentiality)
    "contentTypeCode": "1",  # Patientenkontakt
}


@dataclass(frozen=True)
class SubmitOptions:
    patient_id: str  # XAD-PID, ID^^^&OID&ISO
    class_code: Code | str | None = None
    type_code: Code | str | None = None
    format_code: Code | str | None = None
    healthcare_facility_type_code: Code | str | None = None
    practice_setting_code: Code | str | None = None
    confidentiality_codes: Sequence[Code | str] = ()
    event_codes: Sequence[Code | str] = ()
    content_type_code: Code | str | None = None
    title: str | None = None  # default: the file name
    mime_type: str | None = None  # default: from the extension
    language_code: str = "de-DE"
    source_patient_id: str | None = None  # default: the patient id
    source_id: str | None = None  # SubmissionSet.sourceId; default: an OID of this host
    author_person: str | None = None  # XCN, e.g. ^Mustermann^Erika^^^Dr.
    author_institution: str | None = None  # XON, e.g. Klinik^^^^^&1.2.3&ISO^^^^4711
    replace: str | None = None  # entryUUID of the document this one replaces (RPLC)
    comments: str | None = None
    creation_time: str | None = None  # DTM; default: now


def uuid_oid() -> str:
    """A fresh OID under 2.25 (ITU-T X.667: an OID from a UUID), for uniqueIds that need no OID root."""
    return f"2.25.{uuid.uuid4().int}"


def entry_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def default_source_id() -> str:
    import socket

    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_DNS, socket.getfqdn()).int}"


def _code(attribute: str, value: Code | str | None) -> Code:
    return resolve_code(attribute, value if value is not None else DEFAULT_CODES[attribute])


def _patient(text: str) -> CX:
    cx = CX.parse(text)
    # ITI TF-3 4.2.3.2.16: patientId is an XAD-PID, CX.1 and CX.4 as &OID&ISO
    problem = syntax.patient_id_problem(cx)
    if problem:
        raise ValueError(f"patient id {text!r} {problem}")
    return cx


def _authors(o: SubmitOptions) -> tuple[Author, ...]:
    if not (o.author_person or o.author_institution):
        return ()
    person = XCN.parse(o.author_person) if o.author_person else None
    institutions = (XON.parse(o.author_institution),) if o.author_institution else ()
    return (Author(person=person, institutions=institutions),)


def _entry(path: Path, o: SubmitOptions, pid: CX, now: str) -> DocumentEntry:
    confidentiality = o.confidentiality_codes or [DEFAULT_CODES["confidentialityCode"]]
    mime = o.mime_type or mime_type(path)
    if not syntax.is_mime_type(mime):
        raise ValueError(f"{mime!r} is not a mime type")
    return DocumentEntry(
        entry_uuid=entry_uuid(),
        unique_id=uuid_oid(),
        patient_id=pid,
        mime_type=mime,
        class_code=_code("classCode", o.class_code),
        type_code=_code("typeCode", o.type_code),
        format_code=_code("formatCode", o.format_code),
        healthcare_facility_type_code=_code("healthcareFacilityTypeCode", o.healthcare_facility_type_code),
        practice_setting_code=_code("practiceSettingCode", o.practice_setting_code),
        confidentiality_codes=tuple(resolve_code("confidentialityCode", c) for c in confidentiality),
        event_codes=tuple(resolve_code("eventCodeList", c) for c in o.event_codes),
        authors=_authors(o),
        creation_time=o.creation_time or now,
        language_code=o.language_code,
        source_patient_id=_patient(o.source_patient_id) if o.source_patient_id else pid,
        title=o.title or path.name,
        comments=o.comments,
    )


def build_request(files: Sequence[Path], options: SubmitOptions) -> ProvideAndRegisterRequest:
    """One SubmissionSet holding one DocumentEntry per file (ITI TF-3 4.2.2.1 HasMember, Original)."""
    if not files:
        raise ValueError("no file to submit")
    if options.replace and len(files) != 1:
        raise ValueError("a replacement submits exactly one file")
    pid = _patient(options.patient_id)
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    entries = [_entry(path, options, pid, now) for path in files]
    ss = SubmissionSet(
        entry_uuid=entry_uuid(),
        unique_id=uuid_oid(),
        source_id=options.source_id or default_source_id(),
        patient_id=pid,
        submission_time=now,
        content_type_code=_code("contentTypeCode", options.content_type_code),
        authors=_authors(options),
        title=options.title if len(files) == 1 else None,
    )
    associations = [
        Association(entry_uuid(), AssociationType.HAS_MEMBER, ss.entry_uuid, de.entry_uuid,
                    submission_set_status=SubmissionSetStatus.ORIGINAL)
        for de in entries
    ]
    if options.replace:
        # ITI TF-3 4.2.2.2.1: RPLC from the new DocumentEntry (source) to the one it replaces (target)
        associations.append(
            Association(entry_uuid(), AssociationType.RPLC, entries[0].entry_uuid, options.replace)
        )
    documents = tuple(
        Document(de.entry_uuid, Attachment.from_file(path, de.mime_type))
        for de, path in zip(entries, files, strict=True)
    )
    submission = Submission(
        submission_sets=(ss,), document_entries=tuple(entries), associations=tuple(associations)
    )
    return ProvideAndRegisterRequest(submission, documents)

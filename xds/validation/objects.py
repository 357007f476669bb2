"""Per-object checks: required attributes and value syntax of DocumentEntry, SubmissionSet, Folder."""

from __future__ import annotations

from xds.hl7v2 import CX
from xds.model import Code, DocumentEntry, Folder, SubmissionSet
from xds.validation import required
from xds.validation import syntax as s
from xds.validation.findings import Findings
from xds.vocabulary import DOCUMENT_ENTRY_OBJECT_TYPES


def _entry_uuid(findings: Findings, entry_uuid: str, where: str) -> None:
    # ITI TF-3 4.2.3.2.9 / 4.2.3.3.6: entryUUID is a UUID in urn:uuid form; a symbolic id is allowed in a
    # submission (the Registry assigns the UUID, ITI TF-2b 3.42.4.1.3.7).
    if not entry_uuid:
        findings.metadata("entryUUID (id) missing", where)
    elif not s.is_symbolic_id(entry_uuid) and not s.is_uuid_urn(entry_uuid):
        findings.metadata(f"entryUUID {entry_uuid!r} is not a urn:uuid UUID", where)


def _patient_id(findings: Findings, cx: CX | None, name: str, where: str) -> None:
    if cx is None:
        return
    problem = s.patient_id_problem(cx)
    if problem:
        findings.metadata(f"{name} {cx.render()!r} {problem}", where)


def _time(findings: Findings, value: str | None, name: str, where: str) -> None:
    # ITI TF-3 Table 4.2.3.1.7-2 DTM
    if value is not None and not s.is_dtm(value):
        findings.metadata(f"{name} {value!r} is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]], UTC)", where)


def _codes(findings: Findings, codes: tuple[Code | None, ...], name: str, where: str) -> None:
    # ITI TF-3 4.2.3.1.2: a coded value has a code (nodeRepresentation) and a codingScheme slot
    for code in codes:
        if code is not None and not (code.code and code.scheme):
            findings.metadata(f"{name} {code.code!r} lacks its code or codingScheme", where)


def _missing(findings: Findings, names: list[str], kind: str, where: str) -> None:
    for name in names:
        findings.metadata(f"{kind}.{name} is required", where)


def check_document_entry(findings: Findings, de: DocumentEntry, register: bool) -> None:
    where = de.entry_uuid
    _missing(findings, required.missing_document_entry(de, register), "XDSDocumentEntry", where)
    _entry_uuid(findings, de.entry_uuid, where)
    # ITI TF-3 4.2.3.2.17 objectType: stable or On-Demand
    if de.object_type not in DOCUMENT_ENTRY_OBJECT_TYPES:
        findings.metadata(f"objectType {de.object_type!r} is not a DocumentEntry type", where)
    # ITI TF-3 4.2.3.2.26 uniqueId: OID (<= 64 chars) or OID^extension (extension <= 16 chars)
    if de.unique_id and not s.is_document_unique_id(de.unique_id):
        findings.metadata(f"uniqueId {de.unique_id!r} is not an OID or OID^extension", where)
    # ITI TF-3 4.2.3.2.16 patientId, 4.2.3.2.23 sourcePatientId (CX.1 + CX.4)
    _patient_id(findings, de.patient_id, "patientId", where)
    if de.source_patient_id is not None and not (
        de.source_patient_id.id_number and de.source_patient_id.assigning_authority
    ):
        findings.metadata("sourcePatientId needs an ID (CX.1) and an assigning authority (CX.4)", where)
    for name, value in (
        ("creationTime", de.creation_time),
        ("serviceStartTime", de.service_start_time),
        ("serviceStopTime", de.service_stop_time),
    ):
        _time(findings, value, name, where)
    # ITI TF-3 4.2.3.2.10 hash: SHA-1 as 40 hex digits; 4.2.3.2.25 size: non-negative integer
    if de.hash is not None and not s.is_sha1_hex(de.hash):
        findings.metadata(f"hash {de.hash!r} is not 40 hexadecimal digits", where)
    if de.size is not None and de.size < 0:
        findings.metadata(f"size {de.size} is negative", where)
    # ITI TF-3 4.2.3.2.15 mimeType (RFC 2045/6838 type/subtype); 4.2.3.2.13 languageCode (RFC 5646)
    if de.mime_type and not s.is_mime_type(de.mime_type):
        findings.metadata(f"mimeType {de.mime_type!r} is not type/subtype", where)
    if de.language_code is not None and not s.is_language_code(de.language_code):
        findings.metadata(f"languageCode {de.language_code!r} is not an RFC 5646 tag", where)
    # ITI TF-3 4.2.3.2.18 repositoryUniqueId: an OID
    if de.repository_unique_id and not s.is_oid(de.repository_unique_id):
        findings.metadata(f"repositoryUniqueId {de.repository_unique_id!r} is not an OID", where)
    # ITI TF-3 4.2.3.2.24 sourcePatientInfo: "PID-<n>|<value>" per value
    for line in de.source_patient_info:
        if not s.is_pid_line(line):
            findings.metadata(f"sourcePatientInfo value {line!r} is not 'PID-n|...'", where)
    _codes(
        findings,
        (de.class_code, de.type_code, de.format_code, de.healthcare_facility_type_code,
         de.practice_setting_code, *de.confidentiality_codes, *de.event_codes),
        "code",
        where,
    )


def check_submission_set(findings: Findings, ss: SubmissionSet) -> None:
    where = ss.entry_uuid
    _missing(findings, required.missing_submission_set(ss), "XDSSubmissionSet", where)
    _entry_uuid(findings, ss.entry_uuid, where)
    # ITI TF-3 4.2.3.3.12 uniqueId and 4.2.3.3.9 sourceId: OIDs
    if ss.unique_id and not s.is_oid(ss.unique_id):
        findings.metadata(f"SubmissionSet uniqueId {ss.unique_id!r} is not an OID", where)
    if ss.source_id and not s.is_oid(ss.source_id):
        findings.metadata(f"sourceId {ss.source_id!r} is not an OID", where)
    _patient_id(findings, ss.patient_id, "patientId", where)
    _time(findings, ss.submission_time, "submissionTime", where)
    _codes(findings, (ss.content_type_code,), "contentTypeCode", where)


def check_folder(findings: Findings, folder: Folder) -> None:
    where = folder.entry_uuid
    _missing(findings, required.missing_folder(folder), "XDSFolder", where)
    _entry_uuid(findings, folder.entry_uuid, where)
    # ITI TF-3 4.2.3.4.9 uniqueId: an OID
    if folder.unique_id and not s.is_oid(folder.unique_id):
        findings.metadata(f"Folder uniqueId {folder.unique_id!r} is not an OID", where)
    _patient_id(findings, folder.patient_id, "patientId", where)
    _time(findings, folder.last_update_time, "lastUpdateTime", where)
    _codes(findings, folder.codes, "codeList", where)

"""The Find queries: objects of one patient chosen by their attributes (ITI TF-2a 3.18.4.1.2.3.7.1-3,
3.18.4.1.2.3.7.14). Each is one indexed select: ix_registry_object_patient (patient_id, kind, status)
narrows to the patient, the rest filters."""

from __future__ import annotations

from registry.queries import filters as f
from registry.queries.params import Params
from registry.queries.plan import Plan, ro
from registry.tables import DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET

_DE = "$XDSDocumentEntry"
_SS = "$XDSSubmissionSet"


def _of_patient(kind: str, p: Params, patient_param: str, status_param: str) -> list:
    pid = p.patient(patient_param) or ""
    return [ro.c.kind == kind, f.patient_is(ro, pid), f.one_of(ro.c.status, p.strings(status_param))]


def find_documents(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.1 FindDocuments: the patient's DocumentEntries with one of the statuses
    that match every other parameter given."""
    conditions = _of_patient(DOCUMENT_ENTRY, p, f"{_DE}PatientId", f"{_DE}Status")
    conditions += f.entry_filters(ro, p)
    return Plan((f.all_of(conditions),), single_patient=False)


def find_documents_by_reference_id(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.14 FindDocumentsByReferenceId: FindDocuments, and one of the entry's
    referenceIdList values is one of $XDSDocumentEntryReferenceIdList."""
    conditions = _of_patient(DOCUMENT_ENTRY, p, f"{_DE}PatientId", f"{_DE}Status")
    conditions += f.entry_filters(ro, p)
    conditions += f.references_are(ro, p.references(f"{_DE}ReferenceIdList") or ((),))
    return Plan((f.all_of(conditions),), single_patient=False)


def find_submission_sets(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.2 FindSubmissionSets: by sourceId (one of), submissionTime range,
    authorPerson (one pattern) and contentTypeCode (one of)."""
    conditions = _of_patient(SUBMISSION_SET, p, f"{_SS}PatientId", f"{_SS}Status")
    source_ids = p.strings(f"{_SS}SourceId")
    if source_ids is not None:
        conditions.append(f.one_of(ro.c.source_id, source_ids))
    times = (f"{_SS}SubmissionTimeFrom", f"{_SS}SubmissionTimeTo")
    conditions += f.time_range(ro, "submission_time_key", p, *times)
    conditions += f.author_is(ro, p.strings(f"{_SS}AuthorPerson"))
    conditions += f.code_is(ro, "content_type_code", p, f"{_SS}ContentType")
    return Plan((f.all_of(conditions),), single_patient=False)


def find_folders(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.3 FindFolders: by lastUpdateTime range and codeList (AND/OR semantics)."""
    conditions = _of_patient(FOLDER, p, "$XDSFolderPatientId", "$XDSFolderStatus")
    times = ("$XDSFolderLastUpdateTimeFrom", "$XDSFolderLastUpdateTimeTo")
    conditions += f.time_range(ro, "last_update_time_key", p, *times)
    conditions += f.has_codes(ro, "folderCodeList", p, "$XDSFolderCodeList")
    return Plan((f.all_of(conditions),), single_patient=False)

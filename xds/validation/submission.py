"""Submission-wide checks: one SubmissionSet, one patient, unique ids (ITI TF-2b 3.42.4.1.3)."""

from __future__ import annotations

from collections import Counter

from xds.errors import ErrorCode
from xds.model import Submission
from xds.validation.findings import Findings


def check_submission_set_count(findings: Findings, submission: Submission) -> None:
    # ITI TF-3 4.1.4 / ITI TF-2b 3.42.4.1.2: a submission holds exactly one SubmissionSet
    count = len(submission.submission_sets)
    if count != 1:
        findings.metadata(f"a submission must hold exactly one SubmissionSet, found {count}")


def check_single_patient(findings: Findings, submission: Submission) -> None:
    """ITI TF-2b 3.42.4.1.3 (patient identity): the SubmissionSet, its DocumentEntries and Folders share
    one patientId, else XDSPatientIdDoesNotMatch. Entries only referenced (existing ones, reached by
    HasMember 'Reference' or document relationships) are not in the request and checked by the Registry.
    """
    ss = submission.submission_set
    if ss is None or ss.patient_id is None:
        return
    expected = ss.patient_id.render()
    others = [(de.entry_uuid, de.patient_id) for de in submission.document_entries]
    others += [(folder.entry_uuid, folder.patient_id) for folder in submission.folders]
    for entry_id, patient_id in others:
        if patient_id is not None and patient_id.render() != expected:
            findings.add(
                ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH,
                f"patientId {patient_id.render()!r} differs from the SubmissionSet's {expected!r}",
                entry_id,
            )


def check_unique_ids(findings: Findings, submission: Submission) -> None:
    # ITI TF-3 Table 4.2.4.1-2 XDSRegistryDuplicateUniqueIdInMessage / XDSRepositoryDuplicate...:
    # a uniqueId appears on more than one SubmissionSet, Folder or DocumentEntry of the message.
    unique_ids = [ss.unique_id for ss in submission.submission_sets]
    unique_ids += [de.unique_id for de in submission.document_entries]
    unique_ids += [folder.unique_id for folder in submission.folders]
    for value, count in Counter(u for u in unique_ids if u).items():
        if count > 1:
            findings.add(findings.duplicate_unique_id_code, f"uniqueId {value!r} appears {count} times")
    # ebRIM 3.0 2.5.1 (id): object ids are unique within a request
    ids = [ss.entry_uuid for ss in submission.submission_sets]
    ids += [de.entry_uuid for de in submission.document_entries]
    ids += [folder.entry_uuid for folder in submission.folders]
    ids += [assoc.entry_uuid for assoc in submission.associations]
    for value, count in Counter(i for i in ids if i).items():
        if count > 1:
            findings.metadata(f"id {value!r} names {count} objects of the submission", value)

"""Required attributes per sending context (ITI TF-3 Table 4.3.1-3 optionality, as referenced from the
per-object tables 4.2.3.2-1 DocumentEntry, 4.2.3.3-1 SubmissionSet and 4.2.3.4-1 Folder).

"R" attributes for the XDS Document Source (ITI-41, RAD-68) and for the Register transaction (ITI-42).
The model holds single-valued attributes in single fields, so "exactly one" reduces to "present";
multi-valued ones (confidentialityCode, codeList) need at least one value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xds.model import DocumentEntry, Folder, SubmissionSet

Getter = Callable[[Any], Any]

DOCUMENT_ENTRY_FIELDS: dict[str, Getter] = {
    "uniqueId": lambda de: de.unique_id,
    "patientId": lambda de: de.patient_id,
    "mimeType": lambda de: de.mime_type,
    "classCode": lambda de: de.class_code,
    "typeCode": lambda de: de.type_code,
    "formatCode": lambda de: de.format_code,
    "healthcareFacilityTypeCode": lambda de: de.healthcare_facility_type_code,
    "practiceSettingCode": lambda de: de.practice_setting_code,
    "confidentialityCode": lambda de: de.confidentiality_codes,
    "creationTime": lambda de: de.creation_time,
    "languageCode": lambda de: de.language_code,
    "sourcePatientId": lambda de: de.source_patient_id,
    "hash": lambda de: de.hash,
    "size": lambda de: de.size,
    "repositoryUniqueId": lambda de: de.repository_unique_id,
}
# ITI TF-3 Table 4.3.1-3, column XDS Document Source: R. hash, size and repositoryUniqueId are "O" for
# the source (the Repository fills them in, ITI TF-2b 3.41.4.1.3) and R for ITI-42 (stable entries).
DOCUMENT_ENTRY_SOURCE = (
    "uniqueId", "patientId", "mimeType", "classCode", "typeCode", "formatCode",
    "healthcareFacilityTypeCode", "practiceSettingCode", "confidentialityCode", "creationTime",
    "languageCode", "sourcePatientId",
)
DOCUMENT_ENTRY_REGISTER_STABLE = ("hash", "size", "repositoryUniqueId")
# ITI TF-3 4.2.3.2.22 / ITI TF-2b 3.61: an On-Demand entry has a repositoryUniqueId but no hash/size.
DOCUMENT_ENTRY_REGISTER_ON_DEMAND = ("repositoryUniqueId",)
# ITI TF-3 Table 4.3.1-3, Metadata-Limited column: with the limitedMetadata classification (ITI TF-3
# 4.2.3.2.13) only these stay R; the rest relax to R2.
DOCUMENT_ENTRY_LIMITED = ("uniqueId", "mimeType")

SUBMISSION_SET_FIELDS: dict[str, Getter] = {
    "uniqueId": lambda ss: ss.unique_id,
    "sourceId": lambda ss: ss.source_id,
    "patientId": lambda ss: ss.patient_id,
    "submissionTime": lambda ss: ss.submission_time,
    "contentTypeCode": lambda ss: ss.content_type_code,
}
SUBMISSION_SET_FULL = ("uniqueId", "sourceId", "patientId", "submissionTime", "contentTypeCode")
SUBMISSION_SET_LIMITED = ("uniqueId", "sourceId", "submissionTime")

FOLDER_FIELDS: dict[str, Getter] = {
    "uniqueId": lambda f: f.unique_id,
    "patientId": lambda f: f.patient_id,
    "title": lambda f: f.title,
    "codeList": lambda f: f.codes,
}
FOLDER_FULL = ("uniqueId", "patientId", "title", "codeList")
FOLDER_LIMITED = ("uniqueId",)


def _is_present(value: Any) -> bool:
    return value is not None and value != "" and value != ()


def missing_document_entry(de: DocumentEntry, register: bool) -> list[str]:
    names = list(DOCUMENT_ENTRY_LIMITED if de.limited_metadata else DOCUMENT_ENTRY_SOURCE)
    if register:
        names += DOCUMENT_ENTRY_REGISTER_ON_DEMAND if de.is_on_demand else DOCUMENT_ENTRY_REGISTER_STABLE
    return [n for n in names if not _is_present(DOCUMENT_ENTRY_FIELDS[n](de))]


def missing_submission_set(ss: SubmissionSet) -> list[str]:
    names = SUBMISSION_SET_LIMITED if ss.limited_metadata else SUBMISSION_SET_FULL
    return [n for n in names if not _is_present(SUBMISSION_SET_FIELDS[n](ss))]


def missing_folder(folder: Folder) -> list[str]:
    names = FOLDER_LIMITED if folder.limited_metadata else FOLDER_FULL
    return [n for n in names if not _is_present(FOLDER_FIELDS[n](folder))]

"""Valid baseline requests (DESIGN.md principle 10): every function returns a fresh, valid object.

Negative tests break exactly one thing with ``dataclasses.replace``. Codes come from the IHE-DE value sets
(xds/data/ihe-de-value-sets.tsv), so the default WARN code validation reports nothing for them.
"""

from __future__ import annotations

from dataclasses import replace

from xds.config import CONNECTATHON_DOMAIN_OID
from xds.hl7v2 import CX, XCN, XON
from xds.model import (
    AdhocQueryRequest,
    Association,
    Attachment,
    Author,
    Code,
    Document,
    DocumentEntry,
    Folder,
    ProvideAndRegisterRequest,
    QueryParameter,
    Submission,
    SubmissionSet,
)
from xds.vocabulary import (
    CODING_SCHEME_DICOM,
    FORMAT_CODE_DICOM_KOS,
    MIME_TYPE_DICOM,
    AssociationType,
    Status,
    StoredQuery,
    SubmissionSetStatus,
)

# IHE-DE code systems (ITI.XDS.VS 4.0.0) and the HL7 / IHE ones the sets include
CS_CLASS = "1.3.6.1.4.1.19376.3.276.1.5.8"
CS_TYPE = "1.3.6.1.4.1.19376.3.276.1.5.9"
CS_FORMAT_DE = "1.3.6.1.4.1.19376.3.276.1.5.6"
CS_FORMAT_IHE = "1.3.6.1.4.1.19376.1.2.3"
CS_FACILITY = "1.3.6.1.4.1.19376.3.276.1.5.2"
CS_PRACTICE = "1.3.6.1.4.1.19376.3.276.1.5.4"
CS_CONTENT_TYPE = "1.3.6.1.4.1.19376.3.276.1.5.12"
CS_FOLDER = "1.3.6.1.4.1.19376.3.276.1.5.7"
CS_EVENT_CONTEXT = "1.3.6.1.4.1.19376.3.276.1.5.16"
CS_AUTHOR_ROLE = "1.3.6.1.4.1.19376.3.276.1.5.13"
CS_CONFIDENTIALITY = "2.16.840.1.113883.5.25"

DOMAIN_OID = CONNECTATHON_DOMAIN_OID
PATIENT_ID = f"PAT-1000^^^&{DOMAIN_OID}&ISO"
SOURCE_PATIENT_ID = "4711^^^&1.2.276.0.76.4.17.9999.1&ISO"
REPOSITORY_UNIQUE_ID = "1.3.6.1.4.1.21367.2011.2.5.1"
SOURCE_ID = "1.2.276.0.7230010.3.1.1"
ROOT = "1.2.276.0.7230010.3.1"

REPORT_BYTES = b"%PDF-1.4\n% sample report for the XDS tests\n%%EOF\n"
SECOND_BYTES = b"%PDF-1.4\n% second sample document\n%%EOF\n"
KOS_BYTES = b"\0" * 128 + b"DICM" + b"sample KOS manifest placeholder"
KOS_SOP_INSTANCE_UID = "1.2.276.0.7230010.3.1.4.8323329.4711.1"


def patient_id() -> CX:
    return CX.parse(PATIENT_ID)


def author() -> Author:
    return Author(
        person=XCN.parse("^Mustermann^Erika^^^Dr. med."),
        institutions=(XON.parse(f"Radiologie Beispielstadt^^^^^&{ROOT}.9&ISO^^^^1234"),),
        roles=(f"4^Durchführender^^&{CS_AUTHOR_ROLE}&ISO",),
        specialties=("Radiologie",),
    )


def document_entry(entry_uuid: str = "Document01", unique_id: str = f"{ROOT}.4.1000.1") -> DocumentEntry:
    """A radiology report (BEF / BILD, IHE-DE Cookbook: reports of imaging are BEF with typeCode BILD)."""
    return DocumentEntry(
        entry_uuid=entry_uuid,
        unique_id=unique_id,
        patient_id=patient_id(),
        mime_type="application/pdf",
        class_code=Code("BEF", CS_CLASS, "Befundbericht"),
        type_code=Code("BILD", CS_TYPE, "Ergebnisse bildgebender Diagnostik"),
        format_code=Code("urn:ihe-d:mime", CS_FORMAT_DE, "durch MIME Type beschrieben"),
        healthcare_facility_type_code=Code("KHS", CS_FACILITY, "Krankenhaus"),
        practice_setting_code=Code("RADI", CS_PRACTICE, "Radiologie"),
        confidentiality_codes=(Code("N", CS_CONFIDENTIALITY, "normal"),),
        event_codes=(Code("E200", CS_EVENT_CONTEXT, "stationärer Aufenthalt"),),
        authors=(author(),),
        creation_time="20240115103000",
        service_start_time="20240115090000",
        service_stop_time="20240115093000",
        language_code="de-DE",
        legal_authenticator=XCN.parse(f"1234^Mustermann^Erika^^^Dr. med.^^^&{ROOT}.9&ISO"),
        source_patient_id=CX.parse(SOURCE_PATIENT_ID),
        source_patient_info=(
            f"PID-3|{SOURCE_PATIENT_ID}",
            "PID-5|Beispiel^Max^^^",
            "PID-7|19700101",
            "PID-8|M",
        ),
        title="CT Thorax - Befund",
    )


def submission_set(entry_uuid: str = "SubmissionSet01") -> SubmissionSet:
    return SubmissionSet(
        entry_uuid=entry_uuid,
        unique_id=f"{ROOT}.2.1000.1",
        source_id=SOURCE_ID,
        patient_id=patient_id(),
        submission_time="20240115110000",
        content_type_code=Code("1", CS_CONTENT_TYPE, "Patientenkontakt"),
        authors=(author(),),
        title="Befundversand",
    )


def folder(entry_uuid: str = "Folder01") -> Folder:
    return Folder(
        entry_uuid=entry_uuid,
        unique_id=f"{ROOT}.3.1000.1",
        patient_id=patient_id(),
        codes=(Code("ECR", CS_FOLDER, "Elektronische Fallakte (EFA)"),),
        title="Fallakte Thorax",
    )


def has_member(entry_uuid: str, source: str, target: str, status: str | None = None) -> Association:
    return Association(entry_uuid, AssociationType.HAS_MEMBER, source, target, submission_set_status=status)


def submission() -> Submission:
    """SubmissionSet + two DocumentEntries + a Folder holding the first (ITI TF-3 4.2.2.1)."""
    original = SubmissionSetStatus.ORIGINAL
    return Submission(
        submission_sets=(submission_set(),),
        document_entries=(
            document_entry(),
            replace(document_entry("Document02", f"{ROOT}.4.1000.2"), title="Röntgen Thorax - Befund"),
        ),
        folders=(folder(),),
        associations=(
            has_member("Assoc01", "SubmissionSet01", "Document01", original),
            has_member("Assoc02", "SubmissionSet01", "Document02", original),
            has_member("Assoc03", "SubmissionSet01", "Folder01"),
            has_member("Assoc04", "Folder01", "Document01"),
            has_member("Assoc05", "SubmissionSet01", "Assoc04"),
        ),
    )


def documents() -> tuple[Document, ...]:
    return (
        Document("Document01", Attachment.from_bytes(REPORT_BYTES, "application/pdf")),
        Document("Document02", Attachment.from_bytes(SECOND_BYTES, "application/pdf")),
    )


def pnr_request() -> ProvideAndRegisterRequest:
    """ITI-41: hash, size and repositoryUniqueId left to the Repository."""
    return ProvideAndRegisterRequest(submission(), documents())


def register_submission() -> Submission:
    """ITI-42: what the Repository forwards, with hash, size and repositoryUniqueId filled in."""
    contents = {doc.id: doc.content for doc in documents()}
    base = submission()
    entries = tuple(
        replace(
            de,
            hash=contents[de.entry_uuid].sha1,
            size=contents[de.entry_uuid].size,
            repository_unique_id=REPOSITORY_UNIQUE_ID,
        )
        for de in base.document_entries
    )
    return replace(base, document_entries=entries)


def kos_entry() -> DocumentEntry:
    """An XDS-I.b manifest (RAD TF-3 4.68.4.1.2.3): BIL / BILD, KOS formatCode, application/dicom."""
    return replace(
        document_entry("Manifest01", KOS_SOP_INSTANCE_UID),
        mime_type=MIME_TYPE_DICOM,
        class_code=Code("BIL", CS_CLASS, "Bilddaten"),
        format_code=Code(FORMAT_CODE_DICOM_KOS, CS_FORMAT_IHE, "DICOM Manifest"),
        event_codes=(Code("CT", CODING_SCHEME_DICOM, "Computed Tomography"),),
        title="CT Thorax",
    )


def rad68_request() -> ProvideAndRegisterRequest:
    sub = Submission(
        submission_sets=(submission_set(),),
        document_entries=(kos_entry(),),
        associations=(
            has_member("Assoc01", "SubmissionSet01", "Manifest01", SubmissionSetStatus.ORIGINAL),
        ),
    )
    kos = Attachment.from_bytes(KOS_BYTES, MIME_TYPE_DICOM)
    return ProvideAndRegisterRequest(sub, (Document("Manifest01", kos),))


def find_documents_query() -> AdhocQueryRequest:
    return AdhocQueryRequest(
        query_id=StoredQuery.FIND_DOCUMENTS,
        parameters=(
            QueryParameter("$XDSDocumentEntryPatientId", (f"'{PATIENT_ID}'",)),
            QueryParameter("$XDSDocumentEntryStatus", (f"('{Status.APPROVED}')",)),
        ),
    )

"""ITI-41 / RAD-68: documents against their DocumentEntries (ITI TF-2b 3.41.4.1.3, RAD TF-3 4.68.4.1.2)."""

from __future__ import annotations

from collections import Counter

from xds.errors import ErrorCode
from xds.model import ProvideAndRegisterRequest
from xds.validation.findings import Findings
from xds.vocabulary import FORMAT_CODE_DICOM_KOS, MIME_TYPE_DICOM


def check_documents(findings: Findings, request: ProvideAndRegisterRequest) -> None:
    entries = {de.entry_uuid: de for de in request.submission.document_entries}
    documents = Counter(doc.id for doc in request.documents)
    # ITI TF-2b 3.41.4.1.3: every DocumentEntry has its document (XDSMissingDocument) and every
    # document its DocumentEntry (XDSMissingDocumentMetadata)
    for entry_id in entries:
        if documents[entry_id] == 0:
            findings.add(ErrorCode.XDS_MISSING_DOCUMENT, f"no document for {entry_id}", entry_id)
        elif documents[entry_id] > 1:
            findings.metadata(f"{documents[entry_id]} documents for DocumentEntry {entry_id}", entry_id)
    for doc_id in documents:
        if doc_id not in entries:
            findings.add(
                ErrorCode.XDS_MISSING_DOCUMENT_METADATA, f"document {doc_id!r} has no DocumentEntry", doc_id
            )
    for doc in request.documents:
        de = entries.get(doc.id)
        if de is None:
            continue
        # ITI TF-2b 3.41.4.1.3 / NIST tests 11981, 12369: hash and size, when the source supplies them,
        # equal the document's (XDSRepositoryMetadataError); hex digits compare without case
        if de.hash and de.hash.lower() != doc.content.sha1.lower():
            findings.metadata(f"hash {de.hash} differs from the document's SHA-1 {doc.content.sha1}", doc.id)
        if de.size is not None and de.size != doc.content.size:
            findings.metadata(f"size {de.size} differs from the document's {doc.content.size} bytes", doc.id)


def _same_uid(code: str, uid: str) -> bool:
    # RAD TF-3 gives the KOS SOP Class UID bare, IHE-DE as urn:oid:...; both name the same format
    return code.removeprefix("urn:oid:") == uid.removeprefix("urn:oid:")


def check_imaging_manifest(findings: Findings, request: ProvideAndRegisterRequest) -> None:
    """RAD TF-3 4.68.4.1.2.3 (XDS-I.b manifest metadata): formatCode is the DICOM KOS SOP Class UID and
    mimeType application/dicom. (DocumentEntry.uniqueId = KOS SOP Instance UID needs the DICOM object and
    is checked where the KOS is built.)"""
    for de in request.submission.document_entries:
        if de.format_code is not None and not _same_uid(de.format_code.code, FORMAT_CODE_DICOM_KOS):
            findings.metadata(f"formatCode {de.format_code.code!r} is not the DICOM KOS", de.entry_uuid)
        if de.mime_type and de.mime_type != MIME_TYPE_DICOM:
            findings.metadata(f"mimeType {de.mime_type!r} is not {MIME_TYPE_DICOM}", de.entry_uuid)

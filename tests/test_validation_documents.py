"""ITI-41 / RAD-68: documents against DocumentEntries, hash/size, the imaging manifest rules."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sample_data as sd

from xds.errors import ErrorCode
from xds.model import Attachment, Code, Document
from xds.transactions import Transaction
from xds.validation import validate

REPOSITORY = ErrorCode.XDS_REPOSITORY_METADATA_ERROR


def codes(findings) -> set[str]:
    return {f.code for f in findings if f.is_error}


def pnr_with_entry(index: int = 0, **changes):
    req = sd.pnr_request()
    entries = list(req.submission.document_entries)
    entries[index] = replace(entries[index], **changes)
    return replace(req, submission=replace(req.submission, document_entries=tuple(entries)))


def test_entry_without_document():
    req = sd.pnr_request()
    req = replace(req, documents=req.documents[:1])
    assert codes(validate(req, Transaction.ITI_41)) == {ErrorCode.XDS_MISSING_DOCUMENT}


def test_document_without_entry():
    req = sd.pnr_request()
    extra = Document("Document99", Attachment.from_bytes(b"stray"))
    req = replace(req, documents=(*req.documents, extra))
    assert codes(validate(req, Transaction.ITI_41)) == {ErrorCode.XDS_MISSING_DOCUMENT_METADATA}


def test_two_documents_for_one_entry():
    req = sd.pnr_request()
    req = replace(req, documents=(*req.documents, req.documents[0]))
    assert codes(validate(req, Transaction.ITI_41)) == {REPOSITORY}


@pytest.mark.parametrize("upper", [False, True])
def test_right_hash_and_size_accepted(upper):
    # NIST 11981 sections submit / submit_uppercase_hash
    content = sd.pnr_request().documents[0].content
    sha1 = content.sha1.upper() if upper else content.sha1
    assert validate(pnr_with_entry(hash=sha1, size=content.size), Transaction.ITI_41) == []


def test_wrong_hash():
    # NIST 11981 submit_bad_hash / 12369
    assert codes(validate(pnr_with_entry(hash="0" * 40), Transaction.ITI_41)) == {REPOSITORY}


def test_wrong_size():
    size = sd.pnr_request().documents[0].content.size
    assert codes(validate(pnr_with_entry(size=size + 1), Transaction.ITI_41)) == {REPOSITORY}


def test_mime_type_required_in_iti41():
    assert codes(validate(pnr_with_entry(mime_type=""), Transaction.ITI_41)) == {REPOSITORY}


def rad68_with_entry(**changes):
    req = sd.rad68_request()
    de = replace(req.submission.document_entries[0], **changes)
    return replace(req, submission=replace(req.submission, document_entries=(de,)))


def test_rad68_format_code_must_be_kos():
    pdf = Code("urn:ihe-d:mime", sd.CS_FORMAT_DE)
    assert codes(validate(rad68_with_entry(format_code=pdf), Transaction.RAD_68)) == {REPOSITORY}


def test_rad68_mime_type_must_be_dicom():
    assert codes(validate(rad68_with_entry(mime_type="application/pdf"), Transaction.RAD_68)) == {REPOSITORY}


def test_rad68_bare_kos_uid_accepted():
    # RAD TF-3 writes the SOP Class UID bare, with the DICOM UID registry as scheme
    kos = Code("1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.2.6.1")
    assert validate(rad68_with_entry(format_code=kos), Transaction.RAD_68) == []


def test_pdf_report_is_not_checked_as_imaging_manifest_in_iti41():
    assert validate(sd.pnr_request(), Transaction.ITI_41) == []


def test_rad68_missing_document():
    req = replace(sd.rad68_request(), documents=())
    assert codes(validate(req, Transaction.RAD_68)) == {ErrorCode.XDS_MISSING_DOCUMENT}

"""Validation per transaction (DESIGN.md principle 4): the same rules, chosen by the transaction."""

from __future__ import annotations

from xds.errors import RegistryError, XdsError
from xds.model import AdhocQueryRequest, ProvideAndRegisterRequest, Submission
from xds.transactions import Transaction
from xds.validation.associations import check_associations
from xds.validation.codes import check_codes
from xds.validation.config import ValidationConfig
from xds.validation.documents import check_documents, check_imaging_manifest
from xds.validation.findings import Findings
from xds.validation.objects import check_document_entry, check_folder, check_submission_set
from xds.validation.stored_query import check_query
from xds.validation.submission import check_single_patient, check_submission_set_count, check_unique_ids

DEFAULT_CONFIG = ValidationConfig()
Request = ProvideAndRegisterRequest | Submission | AdhocQueryRequest
_SUBMISSIONS = {
    Transaction.ITI_41: ProvideAndRegisterRequest,
    Transaction.RAD_68: ProvideAndRegisterRequest,
    Transaction.ITI_42: Submission,
}


def _check_submission(findings: Findings, submission: Submission, config: ValidationConfig) -> None:
    # ITI-42 is the Register step: hash, size and repositoryUniqueId are then required (ITI TF-2b 3.42.4.1.3)
    register = findings.transaction == Transaction.ITI_42
    check_submission_set_count(findings, submission)
    for ss in submission.submission_sets:
        check_submission_set(findings, ss)
    for de in submission.document_entries:
        check_document_entry(findings, de, register)
    for folder in submission.folders:
        check_folder(findings, folder)
    check_single_patient(findings, submission)
    check_unique_ids(findings, submission)
    check_associations(findings, submission)
    check_codes(findings, submission, config)


def validate(
    request: Request, transaction: Transaction, config: ValidationConfig = DEFAULT_CONFIG
) -> list[RegistryError]:
    """Every finding (errors and warnings) for ``request`` received as ``transaction``."""
    findings = Findings(transaction)
    if transaction == Transaction.ITI_18:
        if not isinstance(request, AdhocQueryRequest):
            raise TypeError(f"ITI-18 validates an AdhocQueryRequest, not {type(request).__name__}")
        check_query(findings, request)
        return findings.items
    expected = _SUBMISSIONS.get(transaction)
    if expected is None:
        raise ValueError(f"no metadata validation for {transaction.info.code}")
    if not isinstance(request, expected):
        code = transaction.info.code
        raise TypeError(f"{code} validates a {expected.__name__}, not {type(request).__name__}")
    if isinstance(request, ProvideAndRegisterRequest):
        _check_submission(findings, request.submission, config)
        check_documents(findings, request)
        if transaction == Transaction.RAD_68:
            check_imaging_manifest(findings, request)
    else:
        _check_submission(findings, request, config)
    return findings.items


def validate_or_raise(
    request: Request, transaction: Transaction, config: ValidationConfig = DEFAULT_CONFIG
) -> list[RegistryError]:
    """Raise ``XdsError`` carrying every finding when any is an error; else return the warnings."""
    findings = validate(request, transaction, config)
    if any(f.is_error for f in findings):
        errors = sorted(findings, key=lambda f: not f.is_error)  # errors first: the XdsError's code
        raise XdsError.collect(errors)
    return findings

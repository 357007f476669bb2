"""Coded attributes against value sets: REJECT / WARN / IGNORE (ITI TF-3 4.2.3.1.2)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sample_data as sd

from xds.errors import ErrorCode
from xds.model import Code
from xds.transactions import Transaction
from xds.validation import CodeValidation, ValidationConfig, validate
from xds.valuesets import ValueSets
from xds.vocabulary import Severity

UNKNOWN = Code("XYZ", "1.2.3.4.5")
REJECT = ValidationConfig(CodeValidation.REJECT)


def entry_change(**changes):
    sub = sd.register_submission()
    return replace(
        sub, document_entries=(replace(sub.document_entries[0], **changes), *sub.document_entries[1:])
    )


def author_with(**changes):
    return (replace(sd.author(), **changes),)


CASES = {
    "classCode": entry_change(class_code=UNKNOWN),
    "typeCode": entry_change(type_code=UNKNOWN),
    "formatCode": entry_change(format_code=UNKNOWN),
    "healthcareFacilityTypeCode": entry_change(healthcare_facility_type_code=UNKNOWN),
    "practiceSettingCode": entry_change(practice_setting_code=UNKNOWN),
    "confidentialityCode": entry_change(confidentiality_codes=(UNKNOWN,)),
    "eventCodeList": entry_change(event_codes=(UNKNOWN,)),
    "authorRole": entry_change(authors=author_with(roles=("XYZ^^^&1.2.3.4.5&ISO",))),
}


def _folder_case():
    sub = sd.register_submission()
    return replace(sub, folders=(replace(sub.folders[0], codes=(UNKNOWN,)),))


def _content_type_case():
    sub = sd.register_submission()
    return replace(sub, submission_sets=(replace(sub.submission_sets[0], content_type_code=UNKNOWN),))


CASES["folderCodeList"] = _folder_case()
CASES["contentTypeCode"] = _content_type_case()


@pytest.mark.parametrize("attribute", sorted(CASES))
def test_reject_mode(attribute):
    findings = validate(CASES[attribute], Transaction.ITI_42, REJECT)
    assert [(f.code, f.severity) for f in findings] == [
        (ErrorCode.XDS_REGISTRY_METADATA_ERROR, Severity.ERROR)
    ]


@pytest.mark.parametrize("attribute", sorted(CASES))
def test_warn_mode(attribute):
    findings = validate(CASES[attribute], Transaction.ITI_42)
    assert [(f.code, f.severity) for f in findings] == [
        (ErrorCode.XDS_REGISTRY_METADATA_ERROR, Severity.WARNING)
    ]


@pytest.mark.parametrize("attribute", sorted(CASES))
def test_ignore_mode(attribute):
    assert validate(CASES[attribute], Transaction.ITI_42, ValidationConfig(CodeValidation.IGNORE)) == []


def test_reject_in_iti41_is_a_repository_error():
    req = sd.pnr_request()
    entries = (
        replace(req.submission.document_entries[0], class_code=UNKNOWN),
        *req.submission.document_entries[1:],
    )
    req = replace(req, submission=replace(req.submission, document_entries=entries))
    assert {f.code for f in validate(req, Transaction.ITI_41, REJECT)} == {
        ErrorCode.XDS_REPOSITORY_METADATA_ERROR
    }


def test_attribute_without_value_set_is_not_checked():
    only_class = ValueSets.from_rows([("classCode", "BEF", sd.CS_CLASS, "")])
    config = ValidationConfig(CodeValidation.REJECT, only_class)
    assert validate(entry_change(type_code=UNKNOWN), Transaction.ITI_42, config) == []
    assert validate(entry_change(class_code=UNKNOWN), Transaction.ITI_42, config) != []


def test_plain_string_author_role_is_not_coded():
    sub = entry_change(authors=author_with(roles=("Attending physician",)))
    assert validate(sub, Transaction.ITI_42, REJECT) == []


def test_same_code_other_scheme_is_outside():
    # "BIL" is a classCode (Bilddaten) and a facility type (Bildungseinrichtung): schemes tell them apart
    code = Code("BIL", "1.3.6.1.4.1.19376.3.276.1.5.3")
    assert validate(entry_change(class_code=code), Transaction.ITI_42, REJECT) != []

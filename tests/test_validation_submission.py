"""ITI-41 / ITI-42 / RAD-68 metadata validation: required attributes, syntax, patient, uniqueIds."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sample_data as sd

from xds.errors import ErrorCode, XdsError
from xds.hl7v2 import CX
from xds.model import ProvideAndRegisterRequest, Submission
from xds.transactions import Transaction
from xds.validation import CodeValidation, ValidationConfig, validate, validate_or_raise
from xds.vocabulary import OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY

REGISTRY = ErrorCode.XDS_REGISTRY_METADATA_ERROR
REPOSITORY = ErrorCode.XDS_REPOSITORY_METADATA_ERROR


def error_codes(findings) -> set[str]:
    return {f.code for f in findings if f.is_error}


def with_entry(sub: Submission, index: int = 0, **changes) -> Submission:
    entries = list(sub.document_entries)
    entries[index] = replace(entries[index], **changes)
    return replace(sub, document_entries=tuple(entries))


def iti42(**changes) -> list:
    return validate(with_entry(sd.register_submission(), **changes), Transaction.ITI_42)


def iti41(**changes) -> list:
    req = sd.pnr_request()
    return validate(replace(req, submission=with_entry(req.submission, **changes)), Transaction.ITI_41)


@pytest.mark.parametrize(
    ("factory", "transaction"),
    [
        (sd.pnr_request, Transaction.ITI_41),
        (sd.register_submission, Transaction.ITI_42),
        (sd.rad68_request, Transaction.RAD_68),
        (sd.find_documents_query, Transaction.ITI_18),
    ],
)
@pytest.mark.parametrize("mode", list(CodeValidation))
def test_baselines_are_clean_in_every_mode(factory, transaction, mode):
    # the baseline uses IHE-DE codes: not even WARN mode has anything to say
    assert validate(factory(), transaction, ValidationConfig(mode)) == []
    assert validate_or_raise(factory(), transaction) == []


# ITI TF-3 Table 4.3.1-3 / NIST 11998a: each required DocumentEntry attribute, one at a time
DE_REQUIRED = {
    "class_code": None,
    "type_code": None,
    "format_code": None,
    "healthcare_facility_type_code": None,
    "practice_setting_code": None,
    "confidentiality_codes": (),
    "creation_time": None,
    "language_code": None,
    "source_patient_id": None,
    "patient_id": None,
    "mime_type": "",
    "unique_id": "",
}


@pytest.mark.parametrize(("field", "empty"), DE_REQUIRED.items())
def test_required_document_entry_attribute_iti42(field, empty):
    assert error_codes(iti42(**{field: empty})) == {REGISTRY}


@pytest.mark.parametrize(("field", "empty"), DE_REQUIRED.items())
def test_required_document_entry_attribute_iti41_is_a_repository_error(field, empty):
    assert error_codes(iti41(**{field: empty})) == {REPOSITORY}


@pytest.mark.parametrize("field", ["hash", "size", "repository_unique_id"])
def test_repository_attributes_required_for_iti42(field):
    assert error_codes(iti42(**{field: None})) == {REGISTRY}


def test_repository_attributes_optional_for_iti41():
    assert iti41(hash=None, size=None, repository_unique_id=None) == []


def test_on_demand_entry_needs_no_hash_or_size_in_iti42():
    assert iti42(object_type=OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY, hash=None, size=None) == []


def test_limited_metadata_relaxes_document_entry():
    assert iti42(limited_metadata=True, class_code=None, type_code=None, creation_time=None) == []


def test_limited_metadata_keeps_unique_id_required():
    assert error_codes(iti42(limited_metadata=True, unique_id="")) == {REGISTRY}


@pytest.mark.parametrize(
    "changes",
    [
        {"content_type_code": None},
        {"source_id": ""},
        {"unique_id": ""},
        {"submission_time": None},
        {"patient_id": None},
    ],
)
def test_required_submission_set_attribute(changes):
    sub = sd.register_submission()
    sub = replace(sub, submission_sets=(replace(sub.submission_sets[0], **changes),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {REGISTRY}


def test_limited_submission_set_needs_no_content_type():
    sub = sd.register_submission()
    ss = replace(sub.submission_sets[0], limited_metadata=True, content_type_code=None)
    assert validate(replace(sub, submission_sets=(ss,)), Transaction.ITI_42) == []


@pytest.mark.parametrize("changes", [{"codes": ()}, {"title": None}, {"unique_id": ""}, {"patient_id": None}])
def test_required_folder_attribute(changes):
    sub = sd.register_submission()
    sub = replace(sub, folders=(replace(sub.folders[0], **changes),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {REGISTRY}


# Syntax (ITI TF-3 4.2.3.1.7, 4.2.3.2.x): one broken value each
@pytest.mark.parametrize(
    "changes",
    [
        {"unique_id": "1.2.03.4"},  # leading zero in an arc
        {"unique_id": "1.2.3.abc"},
        {"unique_id": "1." + "2" * 64},  # longer than 64
        {"unique_id": "1.2.3^" + "x" * 17},  # extension longer than 16
        {"unique_id": "1.2.3^"},
        {"creation_time": "2024011510300"},  # odd length
        {"creation_time": "20240230"},  # 30 February
        {"service_start_time": "20241301"},
        {"service_stop_time": "2024-01-15"},
        {"hash": "abc"},
        {"hash": "g" * 40},
        {"size": -1},
        {"mime_type": "pdf"},
        {"language_code": "de_DE"},
        {"patient_id": CX.parse("PAT-1000")},  # no assigning authority
        {"patient_id": CX.parse(f"PAT-1000^^^&{sd.DOMAIN_OID}&L")},  # not ISO
        {"patient_id": CX.parse("PAT-1000^^^&not.an.oid&ISO")},
        {"patient_id": CX.parse(f"^^^&{sd.DOMAIN_OID}&ISO")},  # no id
        {"source_patient_id": CX.parse("4711")},
        {"source_patient_info": ("PID-5 Beispiel^Max",)},
        {"repository_unique_id": "repo-1"},
        {"object_type": "urn:uuid:00000000-0000-0000-0000-000000000000"},
    ],
)
def test_syntax_errors(changes):
    findings = iti42(**changes)
    # a broken patientId also differs from the SubmissionSet's; everything else is a metadata error
    assert REGISTRY in error_codes(findings)
    assert error_codes(findings) <= {REGISTRY, ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH}


@pytest.mark.parametrize(
    "value", ["1.2.3", "1.2.3^sixteen-chars-ok", "2.25.0", "1.0.3^A"]
)
def test_document_unique_id_forms_accepted(value):
    assert iti42(unique_id=value) == []


@pytest.mark.parametrize("value", ["2024", "202401", "20240229", "20240115103059"])
def test_dtm_precisions_accepted(value):
    assert iti42(creation_time=value) == []


def test_upper_case_hash_is_valid_syntax():
    sub = sd.register_submission()
    de = sub.document_entries[0]
    assert validate(with_entry(sub, hash=de.hash.upper()), Transaction.ITI_42) == []


@pytest.mark.parametrize("changes", [{"unique_id": "1.2.3.x"}, {"source_id": "01.2"}])
def test_submission_set_oids(changes):
    sub = sd.register_submission()
    sub = replace(sub, submission_sets=(replace(sub.submission_sets[0], **changes),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {REGISTRY}


def test_submission_set_time_syntax():
    sub = sd.register_submission()
    sub = replace(sub, submission_sets=(replace(sub.submission_sets[0], submission_time="yesterday"),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {REGISTRY}


def test_folder_unique_id_is_an_oid():
    sub = sd.register_submission()
    sub = replace(sub, folders=(replace(sub.folders[0], unique_id="1.2.3^x"),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {REGISTRY}


def test_code_without_scheme():
    de = sd.register_submission().document_entries[0]
    assert REGISTRY in error_codes(iti42(class_code=replace(de.class_code, scheme="")))


# ITI TF-2b 3.42.4.1.3: one patient across SubmissionSet, DocumentEntries and Folders
OTHER_PATIENT = CX.parse(f"PAT-2000^^^&{sd.DOMAIN_OID}&ISO")


def test_document_entry_of_another_patient():
    assert error_codes(iti42(patient_id=OTHER_PATIENT)) == {ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH}


def test_folder_of_another_patient():
    sub = sd.register_submission()
    sub = replace(sub, folders=(replace(sub.folders[0], patient_id=OTHER_PATIENT),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH}


def test_patient_mismatch_in_iti41():
    assert error_codes(iti41(patient_id=OTHER_PATIENT)) == {ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH}


def test_two_submission_sets():
    sub = sd.register_submission()
    second = replace(sd.submission_set("SubmissionSet02"), unique_id=f"{sd.ROOT}.2.1000.2")
    sub = replace(sub, submission_sets=(*sub.submission_sets, second))
    assert REGISTRY in error_codes(validate(sub, Transaction.ITI_42))


def test_no_submission_set():
    sub = replace(sd.register_submission(), submission_sets=())
    # its HasMember associations now point nowhere as well
    assert error_codes(validate(sub, Transaction.ITI_42)) == {
        REGISTRY, ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION
    }


def test_entry_uuid_in_urn_uuid_form_must_be_a_uuid():
    bad = "urn:uuid:not-a-uuid"
    sub = with_entry(sd.register_submission(), 1, entry_uuid=bad)
    assocs = tuple(replace(a, target=bad) if a.target == "Document02" else a for a in sub.associations)
    assert error_codes(validate(replace(sub, associations=assocs), Transaction.ITI_42)) == {REGISTRY}


def test_entry_uuids_in_uuid_form_accepted():
    good = "urn:uuid:7b8ae2f1-3c38-4d5e-9a2b-0c1d2e3f4a5b"
    sub = with_entry(sd.register_submission(), 1, entry_uuid=good)
    assocs = tuple(replace(a, target=good) if a.target == "Document02" else a for a in sub.associations)
    assert validate(replace(sub, associations=assocs), Transaction.ITI_42) == []


def test_duplicate_unique_id_iti42():
    sub = sd.register_submission()
    same = sub.document_entries[0].unique_id
    assert error_codes(validate(with_entry(sub, 1, unique_id=same), Transaction.ITI_42)) == {
        ErrorCode.XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
    }


def test_duplicate_unique_id_iti41():
    req = sd.pnr_request()
    same = req.submission.document_entries[0].unique_id
    req = replace(req, submission=with_entry(req.submission, 1, unique_id=same))
    assert error_codes(validate(req, Transaction.ITI_41)) == {
        ErrorCode.XDS_REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
    }


def test_unique_id_shared_by_folder_and_submission_set():
    sub = sd.register_submission()
    sub = replace(sub, folders=(replace(sub.folders[0], unique_id=sub.submission_sets[0].unique_id),))
    assert error_codes(validate(sub, Transaction.ITI_42)) == {
        ErrorCode.XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
    }


def test_validate_or_raise_carries_every_error():
    sub = with_entry(sd.register_submission(), class_code=None, type_code=None)
    with pytest.raises(XdsError) as info:
        validate_or_raise(sub, Transaction.ITI_42)
    assert info.value.code == REGISTRY
    assert len(info.value.errors) == 2


def test_wrong_request_type_for_transaction():
    with pytest.raises(TypeError):
        validate(sd.register_submission(), Transaction.ITI_41)
    with pytest.raises(TypeError):
        validate(sd.pnr_request(), Transaction.ITI_42)
    with pytest.raises(ValueError):
        validate(sd.register_submission(), Transaction.ITI_43)
    assert isinstance(sd.pnr_request(), ProvideAndRegisterRequest)

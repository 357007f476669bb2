"""Association rules of a submission (ITI TF-3 4.2.2), each broken once from the ITI-42 baseline."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sample_data as sd

from xds.errors import ErrorCode
from xds.model import Association, Code
from xds.transactions import Transaction
from xds.validation import validate
from xds.vocabulary import AssociationType, SubmissionSetStatus

REGISTRY = ErrorCode.XDS_REGISTRY_METADATA_ERROR
UNRESOLVED = ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION
EXISTING = "urn:uuid:0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"


def codes_after(change) -> set[str]:
    sub = sd.register_submission()
    assocs = change(list(sub.associations))
    findings = validate(replace(sub, associations=tuple(assocs)), Transaction.ITI_42)
    return {f.code for f in findings if f.is_error}


def changed(index: int, **fields):
    def change(assocs: list[Association]) -> list[Association]:
        assocs[index] = replace(assocs[index], **fields)
        return assocs

    return change


def added(*new: Association):
    return lambda assocs: [*assocs, *new]


def removed(index: int):
    return lambda assocs: assocs[:index] + assocs[index + 1 :]


def test_unknown_association_type():
    # Document02 then also lacks its SubmissionSet membership: both are metadata errors
    assert codes_after(changed(1, association_type="urn:example:Likes")) == {REGISTRY}


def test_metadata_update_type_not_allowed_in_a_submission():
    change = changed(1, association_type=AssociationType.UPDATE_AVAILABILITY_STATUS)
    assert REGISTRY in codes_after(change)


@pytest.mark.parametrize("status", [None, "Copy"])
def test_submission_set_status_required_and_known(status):
    assert codes_after(changed(0, submission_set_status=status)) == {REGISTRY}


def test_original_must_name_an_entry_of_this_submission():
    link = sd.has_member("Assoc09", "SubmissionSet01", EXISTING, SubmissionSetStatus.ORIGINAL)
    assert codes_after(added(link)) == {REGISTRY}


def test_reference_to_an_existing_entry_is_fine():
    link = sd.has_member("Assoc09", "SubmissionSet01", EXISTING, SubmissionSetStatus.REFERENCE)
    assert codes_after(added(link)) == set()


def test_reference_status_for_a_new_entry():
    assert codes_after(changed(0, submission_set_status=SubmissionSetStatus.REFERENCE)) == {REGISTRY}


def test_document_entry_without_submission_set_membership():
    assert codes_after(removed(1)) == {REGISTRY}


def test_document_entry_with_two_submission_set_memberships():
    twice = sd.has_member("Assoc09", "SubmissionSet01", "Document02", SubmissionSetStatus.ORIGINAL)
    assert codes_after(added(twice)) == {REGISTRY}


def test_folder_not_member_of_submission_set():
    assert codes_after(removed(2)) == {REGISTRY}


def test_folder_membership_needs_its_submission_set_link():
    # ITI TF-3 4.2.2.1.3: SubmissionSet HasMember (Folder HasMember DocumentEntry)
    assert codes_after(removed(4)) == {REGISTRY}


def test_adding_existing_document_to_new_folder_is_fine():
    fol = sd.has_member("Assoc09", "Folder01", EXISTING)
    link = sd.has_member("Assoc10", "SubmissionSet01", "Assoc09")
    assert codes_after(added(fol, link)) == set()


@pytest.mark.parametrize("end", ["source", "target"])
def test_unresolved_symbolic_reference(end):
    assert codes_after(changed(3, **{end: "NoSuchObject"})) == {UNRESOLVED}


def test_reference_in_urn_uuid_form_must_be_a_uuid():
    assert REGISTRY in codes_after(changed(3, source="urn:uuid:xyz"))


def rplc(**fields) -> Association:
    return replace(Association("Assoc09", AssociationType.RPLC, "Document02", EXISTING), **fields)


def test_replacement_of_a_registered_entry_is_fine():
    assert codes_after(added(rplc())) == set()


@pytest.mark.parametrize("kind", [AssociationType.RPLC, AssociationType.XFRM_RPLC])
def test_replacement_target_must_be_registered(kind):
    # ITI TF-2b 3.42.4.1.3.5
    assert codes_after(added(rplc(association_type=kind, target="Document01"))) == {UNRESOLVED}


@pytest.mark.parametrize("kind", [AssociationType.XFRM, AssociationType.APND, AssociationType.SIGNS])
def test_transform_append_sign_may_target_a_new_document(kind):
    assert codes_after(added(rplc(association_type=kind, target="Document01"))) == set()


@pytest.mark.parametrize("kind", [AssociationType.XFRM, AssociationType.APND, AssociationType.SIGNS])
def test_relationship_to_a_new_folder_does_not_resolve(kind):
    assert codes_after(added(rplc(association_type=kind, target="Folder01"))) == {UNRESOLVED}


def test_relationship_source_must_be_a_new_document_entry():
    assert codes_after(added(rplc(source="Folder01"))) == {UNRESOLVED}


def test_association_documentation_on_relationship_accepted():
    doc = Code("Translation", "1.3.6.1.4.1.21367.100.1")
    assert codes_after(added(rplc(documentation=doc))) == set()


def test_association_documentation_on_has_member_rejected():
    # NIST test 12370 section not_configured
    doc = Code("Translation", "1.3.6.1.4.1.21367.100.1")
    assert codes_after(changed(0, documentation=doc)) == {REGISTRY}


def test_association_id_in_urn_uuid_form_must_be_a_uuid():
    assert codes_after(changed(1, entry_uuid="urn:uuid:1234")) == {REGISTRY}


def test_duplicate_object_ids():
    assert codes_after(changed(1, entry_uuid="Assoc01")) == {REGISTRY}


def test_iti41_reports_repository_metadata_error():
    req = sd.pnr_request()
    assocs = list(req.submission.associations)
    assocs[0] = replace(assocs[0], submission_set_status=None)
    req = replace(req, submission=replace(req.submission, associations=tuple(assocs)))
    assert {f.code for f in validate(req, Transaction.ITI_41)} == {ErrorCode.XDS_REPOSITORY_METADATA_ERROR}

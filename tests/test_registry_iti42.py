"""ITI-42 against a running registry, on SQLite and PostgreSQL: each acceptance and rejection rule of the
Document Registry (ITI TF-2b 3.42.4.1.3), and that a rejected submission leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from registry_helpers import RegistryServer, patient, related, running_registry, single_document
from sample_data import DOMAIN_OID, PATIENT_ID, register_submission

from registry import store as db
from registry.rows import object_row
from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET
from xds.ebrim import document_entry_from_ebrim, folder_from_ebrim
from xds.errors import ErrorCode
from xds.model import Association, RegistryResponse, Submission
from xds.vocabulary import AssociationType, ResponseStatus, Status, SubmissionSetStatus

OTHER_PATIENT = f"PAT-2000^^^&{DOMAIN_OID}&ISO"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[RegistryServer]:
    with running_registry(database_url, tmp_path / "data") as server:
        server.add_patient()
        yield server


def codes(response: RegistryResponse) -> list[str]:
    return [str(e.code) for e in response.errors]


def assert_success(response: RegistryResponse) -> None:
    assert response.status == ResponseStatus.SUCCESS, response.errors


def assert_failure(response: RegistryResponse, code: ErrorCode) -> None:
    assert response.status == ResponseStatus.FAILURE
    assert code in codes(response), codes(response)


def with_folder_member(submission, folder_id: str):  # noqa: ANN001, ANN201
    """``submission`` plus a HasMember from the registered Folder to its document, linked from its SS."""
    to_folder = Association("FD", AssociationType.HAS_MEMBER, folder_id, "Doc")
    ss_link = Association("SSFD", AssociationType.HAS_MEMBER, "SS", "FD")
    return replace(submission, associations=(*submission.associations, to_folder, ss_link))


def registered_id(registry: RegistryServer, unique_id: str) -> str:
    (row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, unique_id)
    return row.id


# --- acceptance -------------------------------------------------------------------------------------------


def test_baseline_is_stored_approved_with_uuids(registry: RegistryServer) -> None:
    submission = register_submission()
    assert_success(registry.register(submission))
    assert registry.count() == 1 + 2 + 1 + 5  # SubmissionSet, DocumentEntries, Folder, Associations
    for de in submission.document_entries:
        (row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, de.unique_id)
        # ITI TF-2b 3.42.4.1.3: symbolic ids become UUIDs; the registry sets availabilityStatus
        assert row.id.startswith("urn:uuid:") and row.status == Status.APPROVED
        stored = document_entry_from_ebrim(etree.fromstring(row.ebrim))
        assert (stored.logical_id, stored.version) == (row.id, "1")
        assert stored.availability_status == Status.APPROVED
    (folder_row,) = registry.rows_by_unique_id(FOLDER, submission.folders[0].unique_id)
    assert folder_from_ebrim(etree.fromstring(folder_row.ebrim)).last_update_time
    assert registry.count(ASSOCIATION) == 5


def test_uuids_sent_by_the_source_are_kept(registry: RegistryServer) -> None:
    submission = single_document("11")
    uuid = "urn:uuid:7d5b5d5e-1f3a-4c1e-9b8a-2c6d0e4f5a61"
    entry = replace(submission.document_entries[0], entry_uuid=uuid)
    member = replace(submission.associations[0], target=uuid)
    assert_success(registry.register(replace(submission, document_entries=(entry,), associations=(member,))))
    assert registry.row(uuid).kind == DOCUMENT_ENTRY


# --- patient ----------------------------------------------------------------------------------------------


def test_unknown_patient(registry: RegistryServer) -> None:
    assert_failure(registry.register(single_document("12", OTHER_PATIENT)), ErrorCode.XDS_UNKNOWN_PATIENT_ID)
    assert registry.count() == 0


def test_merged_patient_is_unknown(registry: RegistryServer) -> None:
    registry.add_patient(OTHER_PATIENT)
    with registry.store.write() as conn:
        db.mark_merged(conn, OTHER_PATIENT, PATIENT_ID)
    assert_failure(registry.register(single_document("13", OTHER_PATIENT)), ErrorCode.XDS_UNKNOWN_PATIENT_ID)


def test_metadata_error_stores_nothing(registry: RegistryServer) -> None:
    submission = single_document("14")
    broken = replace(submission.document_entries[0], class_code=None)
    response = registry.register(replace(submission, document_entries=(broken,)))
    assert_failure(response, ErrorCode.XDS_REGISTRY_METADATA_ERROR)
    assert registry.count() == 0


# --- uniqueness -------------------------------------------------------------------------------------------


def test_same_document_again_is_accepted(registry: RegistryServer) -> None:
    # ITI TF-2b 3.42.4.1.3.3.1: the same uniqueId with the same hash and size is a second DocumentEntry
    assert_success(registry.register(single_document("15")))
    again = single_document("15")
    again = replace(again, submission_sets=(replace(again.submission_sets[0], unique_id="1.2.3.99.15"),))
    assert_success(registry.register(again))
    assert len(registry.rows_by_unique_id(DOCUMENT_ENTRY, again.document_entries[0].unique_id)) == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [({"hash": "0" * 40}, ErrorCode.XDS_NON_IDENTICAL_HASH), ({"size": 7}, ErrorCode.XDS_NON_IDENTICAL_SIZE)],
)
def test_same_unique_id_other_content(registry: RegistryServer, change: dict, code: ErrorCode) -> None:
    assert_success(registry.register(single_document("16")))
    again = single_document("16")
    entry = replace(again.document_entries[0], **change)
    ss = replace(again.submission_sets[0], unique_id="1.2.3.99.16")
    assert_failure(registry.register(replace(again, submission_sets=(ss,), document_entries=(entry,))), code)
    assert registry.count(DOCUMENT_ENTRY) == 1


def test_other_content_reported_once_when_the_document_is_stored_twice(registry: RegistryServer) -> None:
    assert_success(registry.register(single_document("50")))
    again = single_document("50")
    ss = replace(again.submission_sets[0], unique_id="1.2.3.99.50")
    assert_success(registry.register(replace(again, submission_sets=(ss,))))  # identical: a second entry
    entry = replace(again.document_entries[0], hash="0" * 40)
    ss = replace(again.submission_sets[0], unique_id="1.2.3.99.51")
    response = registry.register(replace(again, submission_sets=(ss,), document_entries=(entry,)))
    assert codes(response) == [ErrorCode.XDS_NON_IDENTICAL_HASH]


def test_submission_set_unique_id_of_a_document(registry: RegistryServer) -> None:
    assert_success(registry.register(single_document("32")))
    again = single_document("33")
    ss = replace(again.submission_sets[0], unique_id=single_document("32").document_entries[0].unique_id)
    response = registry.register(replace(again, submission_sets=(ss,)))
    assert_failure(response, ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY)


def test_submission_set_unique_id_again(registry: RegistryServer) -> None:
    assert_success(registry.register(single_document("17")))
    again = single_document("17")
    entry = replace(again.document_entries[0], unique_id="1.2.3.99.17")
    response = registry.register(replace(again, document_entries=(entry,)))
    assert_failure(response, ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY)


def test_entry_uuid_already_registered(registry: RegistryServer) -> None:
    assert_success(registry.register(single_document("18")))
    existing = registered_id(registry, single_document("18").document_entries[0].unique_id)
    submission = single_document("19")
    entry = replace(submission.document_entries[0], entry_uuid=existing)
    member = replace(submission.associations[0], target=existing)
    response = registry.register(replace(submission, document_entries=(entry,), associations=(member,)))
    assert_failure(response, ErrorCode.XDS_REGISTRY_METADATA_ERROR)


# --- lifecycle --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [AssociationType.RPLC, AssociationType.XFRM_RPLC])
def test_replacement_deprecates_the_original(registry: RegistryServer, kind: AssociationType) -> None:
    assert_success(registry.register(single_document("20")))
    original = registered_id(registry, single_document("20").document_entries[0].unique_id)
    assert_success(registry.register(related("21", original, kind)))
    assert registry.row(original).status == Status.DEPRECATED
    stored_original = document_entry_from_ebrim(etree.fromstring(registry.row(original).ebrim))
    assert stored_original.availability_status == Status.DEPRECATED
    new_unique_id = single_document("21").document_entries[0].unique_id
    (new_row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, new_unique_id)
    # ITI TF-3 4.1.? versioning: the replacement continues the original's logicalID
    assert (new_row.logical_id, new_row.version, new_row.status) == (original, 2, Status.APPROVED)


@pytest.mark.parametrize(
    "kind",
    [AssociationType.RPLC, AssociationType.APND, AssociationType.XFRM, AssociationType.SIGNS],
)
def test_relationship_to_deprecated_document_fails(registry: RegistryServer, kind: AssociationType) -> None:
    assert_success(registry.register(single_document("22")))
    original = registered_id(registry, single_document("22").document_entries[0].unique_id)
    assert_success(registry.register(related("23", original, AssociationType.RPLC)))
    before = registry.count()
    response = registry.register(related("24", original, kind))
    assert_failure(response, ErrorCode.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR)
    assert registry.count() == before


@pytest.mark.parametrize("kind", [AssociationType.RPLC, AssociationType.APND, AssociationType.SIGNS])
def test_relationship_to_unknown_document_fails(registry: RegistryServer, kind: AssociationType) -> None:
    unknown = "urn:uuid:00000000-1111-2222-3333-444444444444"
    assert_failure(registry.register(related("25", unknown, kind)), ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION)
    assert registry.count() == 0


def test_replacement_of_another_patients_document_fails(registry: RegistryServer) -> None:
    registry.add_patient(OTHER_PATIENT)
    assert_success(registry.register(single_document("26", OTHER_PATIENT)))
    original = registered_id(registry, single_document("26").document_entries[0].unique_id)
    response = registry.register(related("27", original, AssociationType.RPLC))
    assert_failure(response, ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH)
    assert registry.row(original).status == Status.APPROVED


def test_append_keeps_the_original_approved(registry: RegistryServer) -> None:
    assert_success(registry.register(single_document("28")))
    original = registered_id(registry, single_document("28").document_entries[0].unique_id)
    assert_success(registry.register(related("29", original, AssociationType.APND)))
    assert registry.row(original).status == Status.APPROVED


# --- folders ----------------------------------------------------------------------------------------------


def test_document_added_to_existing_folder_updates_last_update_time(registry: RegistryServer) -> None:
    assert_success(registry.register(register_submission()))
    (folder_row,) = registry.rows_by_unique_id(FOLDER, register_submission().folders[0].unique_id)
    with registry.store.write() as conn:  # make the first lastUpdateTime recognisably old
        stored = folder_from_ebrim(etree.fromstring(folder_row.ebrim))
        old = replace(stored, last_update_time="20000101000000")
        db.replace_object(conn, object_row(old))
    assert_success(registry.register(with_folder_member(single_document("30"), folder_row.id)))
    updated = folder_from_ebrim(etree.fromstring(registry.row(folder_row.id).ebrim))
    assert updated.last_update_time > "20000101000000"
    assert registry.row(folder_row.id).last_update_time_key == updated.last_update_time.ljust(14, "0")


def test_document_added_to_another_patients_folder_fails(registry: RegistryServer) -> None:
    registry.add_patient(OTHER_PATIENT)
    other = register_submission()
    cx = patient(OTHER_PATIENT)
    other = replace(
        other,
        submission_sets=tuple(replace(s, patient_id=cx) for s in other.submission_sets),
        document_entries=tuple(replace(d, patient_id=cx) for d in other.document_entries),
        folders=tuple(replace(f, patient_id=cx) for f in other.folders),
    )
    assert_success(registry.register(other))
    (folder_row,) = registry.rows_by_unique_id(FOLDER, other.folders[0].unique_id)
    response = registry.register(with_folder_member(single_document("31"), folder_row.id))
    assert_failure(response, ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH)


def test_new_folder_gets_the_registry_last_update_time(registry: RegistryServer) -> None:
    submission = register_submission()
    folder = replace(submission.folders[0], last_update_time="20041224000000")
    assert_success(registry.register(replace(submission, folders=(folder,))))
    (row,) = registry.rows_by_unique_id(FOLDER, folder.unique_id)
    # ITI TF-2b 3.42.4.1.3.6: set by the registry, whatever was sent
    assert row.last_update_time_key > "20241224000000"


def test_document_of_folder_cannot_be_deprecated_member(registry: RegistryServer) -> None:
    assert_success(registry.register(register_submission()))
    (folder_row,) = registry.rows_by_unique_id(FOLDER, register_submission().folders[0].unique_id)
    assert_success(registry.register(single_document("34")))
    doc = registered_id(registry, single_document("34").document_entries[0].unique_id)
    assert_success(registry.register(related("35", doc, AssociationType.RPLC)))
    # an existing Folder and an existing, now deprecated DocumentEntry (ITI TF-2b 3.42.4.1.3.4)
    ss = replace(single_document("36").submission_sets[0])
    link = Association("FD", AssociationType.HAS_MEMBER, folder_row.id, doc)
    ss_link = Association("SSFD", AssociationType.HAS_MEMBER, ss.entry_uuid, "FD")
    response = registry.register(Submission(submission_sets=(ss,), associations=(link, ss_link)))
    assert_failure(response, ErrorCode.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR)


def test_existing_document_into_existing_folder(registry: RegistryServer) -> None:
    # NIST 12326: the submission holds only the SubmissionSet and the two HasMember associations
    assert_success(registry.register(register_submission()))
    (folder_row,) = registry.rows_by_unique_id(FOLDER, register_submission().folders[0].unique_id)
    assert_success(registry.register(single_document("37")))
    doc = registered_id(registry, single_document("37").document_entries[0].unique_id)
    ss = single_document("38").submission_sets[0]
    link = Association("FD", AssociationType.HAS_MEMBER, folder_row.id, doc)
    ss_link = Association("SSFD", AssociationType.HAS_MEMBER, ss.entry_uuid, "FD")
    assert_success(registry.register(Submission(submission_sets=(ss,), associations=(link, ss_link))))


def test_submission_set_cannot_take_an_existing_folder(registry: RegistryServer) -> None:
    assert_success(registry.register(register_submission()))
    (folder_row,) = registry.rows_by_unique_id(FOLDER, register_submission().folders[0].unique_id)
    submission = single_document("39")
    extra = Association("SSF", AssociationType.HAS_MEMBER, "SS", folder_row.id)
    response = registry.register(replace(submission, associations=(*submission.associations, extra)))
    assert_failure(response, ErrorCode.XDS_REGISTRY_METADATA_ERROR)


def test_reference_to_another_patients_document(registry: RegistryServer) -> None:
    # ITI TF-3 4.2.2.1.1: SubmissionSetStatus Reference may name a document of another patient
    registry.add_patient(OTHER_PATIENT)
    assert_success(registry.register(single_document("40", OTHER_PATIENT)))
    other_doc = registered_id(registry, single_document("40").document_entries[0].unique_id)
    submission = single_document("41")
    ref = Association("Ref", AssociationType.HAS_MEMBER, "SS", other_doc, SubmissionSetStatus.REFERENCE)
    assert_success(registry.register(replace(submission, associations=(*submission.associations, ref))))


def test_replacement_deprecates_transforms_and_addenda(registry: RegistryServer) -> None:
    # ITI TF-3 4.2.2.2.3, NIST 12022
    assert_success(registry.register(single_document("42")))
    original = registered_id(registry, single_document("42").document_entries[0].unique_id)
    dependents = []
    for tag, kind in (("43", AssociationType.XFRM), ("44", AssociationType.APND)):
        assert_success(registry.register(related(tag, original, kind)))
        dependents.append(registered_id(registry, single_document(tag).document_entries[0].unique_id))
    assert_success(registry.register(related("45", original, AssociationType.RPLC)))
    assert [registry.row(i).status for i in (original, *dependents)] == [Status.DEPRECATED] * 3
    new = registered_id(registry, single_document("45").document_entries[0].unique_id)
    assert registry.row(new).status == Status.APPROVED


def test_transformation_cannot_be_appended_to(registry: RegistryServer) -> None:
    assert_success(registry.register(single_document("46")))
    original = registered_id(registry, single_document("46").document_entries[0].unique_id)
    assert_success(registry.register(related("47", original, AssociationType.XFRM)))
    transform = registered_id(registry, single_document("47").document_entries[0].unique_id)
    response = registry.register(related("48", transform, AssociationType.APND))
    assert_failure(response, ErrorCode.XDS_REGISTRY_METADATA_ERROR)


def test_replacement_joins_the_folders_of_the_original(registry: RegistryServer) -> None:
    # ITI TF-2b 3.42.4.1.3.5, NIST 12327: Folder HasMember + SubmissionSet HasMember + lastUpdateTime
    submission = register_submission()
    assert_success(registry.register(submission))
    (folder_row,) = registry.rows_by_unique_id(FOLDER, submission.folders[0].unique_id)
    in_folder = registered_id(registry, submission.document_entries[0].unique_id)
    before = registry.count(ASSOCIATION)
    assert_success(registry.register(related("49", in_folder, AssociationType.RPLC)))
    new = registered_id(registry, single_document("49").document_entries[0].unique_id)
    assert registry.count(ASSOCIATION) == before + 2 + 2  # SS-DE, RPLC, Folder-DE, SS-(Folder-DE)
    with registry.store.read() as conn:
        (link,) = db.associations(conn, types=[AssociationType.HAS_MEMBER], targets=[new])[1:]
        assert link.source == folder_row.id
        (ss_link,) = db.associations(conn, types=[AssociationType.HAS_MEMBER], targets=[link.id])
    assert registry.row(ss_link.source).kind == SUBMISSION_SET
    assert registry.row(folder_row.id).last_update_time_key >= folder_row.last_update_time_key

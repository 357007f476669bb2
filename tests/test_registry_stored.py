"""The XML the registry stores for the objects of an ITI-42 submission (registry/submitted.py): the submitted
elements with the registry's changes, which decode to exactly the objects it registered; on SQLite and
PostgreSQL, and for every submission of the NIST Register tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from nist_testkit import CORPUS, TESTS, prepare_submission
from registry_helpers import RegistryServer, running_registry, single_document
from test_registry_register_nist import REGISTER_TESTS

from registry import store as db
from registry.identifiers import assign_uuids
from registry.rows import RegistryObject, ebrim_text, stored_object
from registry.submitted import stored_text, submitted_objects
from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, SUBMISSION_SET
from xds.ebrim import registry_response_from_ebrim, submit_objects_from_ebrim, submit_objects_to_ebrim
from xds.ebrim.xml import rim
from xds.model import Association, DocumentEntry, SubmissionSet
from xds.transactions import Transaction
from xds.vocabulary import (
    CLASSIFICATION_NODE_SUBMISSION_SET,
    SS_UNIQUE_ID,
    AssociationType,
    ResponseStatus,
    Status,
)

KINDS = {DocumentEntry: DOCUMENT_ENTRY, SubmissionSet: SUBMISSION_SET, Association: ASSOCIATION}
UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[RegistryServer]:
    with running_registry(database_url, tmp_path / "data") as server:
        server.add_patient()
        yield server


def register(registry: RegistryServer, request: etree._Element) -> None:
    reply = registry.client.call(registry.url, Transaction.ITI_42, request)
    response = registry_response_from_ebrim(reply.body)
    assert response.status == ResponseStatus.SUCCESS, response.errors


def registered(obj: RegistryObject) -> RegistryObject:
    """``obj`` as the registry registers a new object (ITI TF-2b 3.42.4.1.3.3.5: Approved; a DocumentEntry
    the first version of its logical document)."""
    approved = replace(obj, availability_status=Status.APPROVED)
    if isinstance(approved, DocumentEntry):
        return replace(approved, logical_id=approved.entry_uuid, version="1")
    return approved


def untidy(request: etree._Element) -> etree._Element:
    """``request`` as other sources send it: the SubmissionSet's classification and uniqueId at the top of
    the RegistryObjectList (ITI TF-3 4.2.3.3), a title in a second language, a comment, indentation."""
    objects = request.find(rim("RegistryObjectList"))
    package = objects.find(rim("RegistryPackage"))
    objects.extend(
        part
        for part in list(package)
        if part.get("classificationNode") == CLASSIFICATION_NODE_SUBMISSION_SET
        or part.get("identificationScheme") == SS_UNIQUE_ID
    )
    entry = objects.find(rim("ExtrinsicObject"))
    title = entry.find(rim("Name"))
    etree.SubElement(title, rim("LocalizedString"), {"value": "CT chest - report", "charset": "UTF-8"})
    entry.insert(0, etree.Comment("sent by the test"))
    return etree.fromstring(etree.tostring(request, pretty_print=True))


def test_objects_are_stored_as_submitted_with_the_registry_changes(registry: RegistryServer) -> None:
    submission = single_document("60")
    register(registry, untidy(submit_objects_to_ebrim(submission)))
    (ss,), (entry,) = submission.submission_sets, submission.document_entries
    (member,) = submission.associations
    (ss_row,) = registry.rows_by_unique_id(SUBMISSION_SET, ss.unique_id)
    (entry_row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, entry.unique_id)
    with registry.store.read() as conn:
        (member_row,) = db.associations(conn, types=[AssociationType.HAS_MEMBER], sources=[ss_row.id])
    # ITI TF-3 4.2.3.1.5: symbolic ids replaced by UUIDs, in the objects and in the association's ends
    ends = {"source": ss_row.id, "target": entry_row.id}
    expected = [
        (ss_row, registered(replace(ss, entry_uuid=ss_row.id))),
        (entry_row, registered(replace(entry, entry_uuid=entry_row.id))),
        (member_row, registered(replace(member, entry_uuid=member_row.id, **ends))),
    ]
    for row, obj in expected:
        assert stored_object(row.kind, row.ebrim) == obj
        stored = etree.fromstring(row.ebrim)
        for part in (*stored.iterfind(rim("Classification")), *stored.iterfind(rim("ExternalIdentifier"))):
            # every part belongs to the object, with an id of the registry
            assert part.get("classifiedObject", part.get("registryObject")) == row.id
            assert UUID_URN.fullmatch(part.get("id"))
        # neither the comment nor the indentation is kept
        assert "<!--" not in row.ebrim and "\n" not in row.ebrim
    # what the model does not keep stays as sent: the title in its second language
    assert 'value="CT chest - report" charset="UTF-8"' in entry_row.ebrim
    # the classification and uniqueId sent at the top of the list are now inside the SubmissionSet
    package = etree.fromstring(ss_row.ebrim)
    nodes = [c.get("classificationNode") for c in package.iterfind(rim("Classification"))]
    assert nodes.count(CLASSIFICATION_NODE_SUBMISSION_SET) == 1


def test_an_element_with_other_content_is_encoded_from_the_object(registry: RegistryServer) -> None:
    submission = single_document("61")
    request = submit_objects_to_ebrim(submission)
    entry = request.find(f"{rim('RegistryObjectList')}/{rim('ExtrinsicObject')}")
    etree.SubElement(entry, rim("ContentVersionInfo"), {"versionName": "2"})  # regrep-rim-3.0 2.9.1
    register(registry, request)
    (row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, submission.document_entries[0].unique_id)
    assert row.ebrim == ebrim_text(stored_object(DOCUMENT_ENTRY, row.ebrim))
    assert "ContentVersionInfo" not in row.ebrim


def _nist_submissions() -> list[Path]:
    """The requests of the Register tests that test_registry_register_nist.py replays."""
    if not CORPUS.is_dir():
        return []
    files = (p for test in REGISTER_TESTS for p in (TESTS / test).rglob("*.xml"))
    return sorted(p for p in files if "SubmitObjectsRequest" in p.read_text(errors="ignore"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared conformance corpus not present")
@pytest.mark.parametrize("path", _nist_submissions(), ids=lambda p: str(p.relative_to(TESTS)))
def test_stored_xml_of_nist_submissions_decodes_to_the_registered_objects(path: Path) -> None:
    uids = iter(range(1, 10_000))
    request, _ = prepare_submission(
        path, {}, lambda: f"1.2.3.{next(uids)}", patient_id="P1^^^&1.2.3&ISO", assign_uuids=False
    )
    submission = submit_objects_from_ebrim(request)
    sent = submitted_objects(request)
    final, uuids = assign_uuids(submission)
    sent_ids = {uuid: sent_id for sent_id, uuid in uuids.items()}
    for obj in (*final.submission_sets, *final.document_entries, *final.associations):
        expected = registered(obj)
        text = stored_text(expected, sent[sent_ids.get(obj.entry_uuid, obj.entry_uuid)])
        assert stored_object(KINDS[type(obj)], text) == expected

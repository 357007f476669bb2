"""ITI-41 Provide and Register at the Document Repository, over HTTP, forwarded to a real registry, on SQLite
and PostgreSQL: MTOM and inline documents, several per submission, each rejection of ITI TF-2b 3.41.4.1.3
with its error code, the registry's errors passed back, a registry that is down -- and after every
rejection nothing left behind, neither at the registry nor in the repository."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from registry_helpers import running_registry
from repository_helpers import (
    OTHER_REPOSITORY_ID,
    REPOSITORY_ID,
    Domain,
    RepositoryServer,
    doc_unique_id,
    pnr,
    running_domain,
    running_repository,
    with_file,
)

from registry.tables import DOCUMENT_ENTRY
from repository import NewDocument
from xds.errors import ErrorCode
from xds.model import Attachment, Document, ProvideAndRegisterRequest, RegistryResponse
from xds.vocabulary import ResponseStatus

TEXT = b"This is my document.\n\nIt is great!\n"


@pytest.fixture
def domain(database_url: str, tmp_path: Path) -> Iterator[Domain]:
    with running_domain(database_url, tmp_path) as running:
        yield running


def codes(response: RegistryResponse) -> list[str]:
    return [str(e.code) for e in response.errors]


def wait_spool_empty(repository: RepositoryServer, limit: float = 20.0) -> None:
    """The request's spool folder goes once the response is out; wait for that, then look."""
    deadline = time.monotonic() + limit
    while any(repository.store.folders.spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)


def assert_nothing_left(domain: Domain) -> None:
    """After a rejection: no registry object, no blob row, no file in the repository's folders."""
    assert domain.registry.count() == 0
    assert domain.repository.store.counts() == {"pending": 0, "registered": 0}
    wait_spool_empty(domain.repository)
    assert domain.repository.files() == set()


def assert_failed(response: RegistryResponse, *expected: ErrorCode) -> None:
    assert response.status == ResponseStatus.FAILURE
    assert set(codes(response)) == {str(code) for code in expected}


# --- accepted submissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("xop", [True, False], ids=["mtom", "inline"])
def test_one_document_is_stored_and_registered(domain: Domain, xop: bool) -> None:
    request = pnr("1", TEXT)
    response = domain.repository.provide(request, xop=xop)
    assert response.status == ResponseStatus.SUCCESS, codes(response)
    # ITI TF-2b 3.41.4.1.3: hash, size and repositoryUniqueId were filled in by the repository
    (row,) = domain.registry.rows_by_unique_id(DOCUMENT_ENTRY, doc_unique_id("1"))
    content = Attachment.from_bytes(TEXT)
    assert (row.hash, row.size, row.repository_unique_id) == (content.sha1, len(TEXT), REPOSITORY_ID)
    assert domain.repository.store.counts() == {"pending": 0, "registered": 1}
    (document,) = domain.repository.retrieve(doc_unique_id("1")).documents
    assert document.content.read() == TEXT and document.mime_type == "text/plain"


def test_several_documents_in_one_submission(domain: Domain, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 12_000)  # 3 MB: spooled to disk on both sides
    request = with_file(pnr("2", TEXT, b"second", b"placeholder"), 2, big)
    response = domain.repository.provide(request)
    assert response.status == ResponseStatus.SUCCESS, codes(response)
    assert domain.registry.count(DOCUMENT_ENTRY) == 3
    retrieved = domain.repository.retrieve(*(doc_unique_id("2", n) for n in (1, 2, 3)))
    assert [d.content.read() for d in retrieved.documents] == [TEXT, b"second", big.read_bytes()]
    rows = [domain.registry.rows_by_unique_id(DOCUMENT_ENTRY, doc_unique_id("2", n))[0] for n in (1, 2, 3)]
    assert [r.size for r in rows] == [len(TEXT), 6, big.stat().st_size]


def test_supplied_hash_and_size_that_match_are_accepted_in_any_case(domain: Domain) -> None:
    request = pnr("3", TEXT)
    content = request.documents[0].content
    (entry,) = request.submission.document_entries
    entry = replace(entry, hash=content.sha1.upper(), size=content.size)
    request = replace(request, submission=replace(request.submission, document_entries=(entry,)))
    assert domain.repository.provide(request).status == ResponseStatus.SUCCESS
    (row,) = domain.registry.rows_by_unique_id(DOCUMENT_ENTRY, doc_unique_id("3"))
    assert row.hash == content.sha1  # the repository's own (lower-case) value travels on


def test_empty_document(domain: Domain) -> None:
    assert domain.repository.provide(pnr("4", b"")).status == ResponseStatus.SUCCESS
    (document,) = domain.repository.retrieve(doc_unique_id("4")).documents
    assert document.content.read() == b""


def test_same_document_again_keeps_one_blob(domain: Domain) -> None:
    assert domain.repository.provide(pnr("5", TEXT)).status == ResponseStatus.SUCCESS
    again = pnr("5", TEXT)
    again_ss = replace(again.submission.submission_sets[0], unique_id="1.2.276.0.7230010.3.1.2.5.2")
    again = replace(again, submission=replace(again.submission, submission_sets=(again_ss,)))
    # the registry accepts an identical document again (ITI TF-2b 3.42.4.1.3); the repository keeps one blob
    assert domain.repository.provide(again).status == ResponseStatus.SUCCESS
    assert domain.repository.blob_count() == 1
    assert domain.repository.store.counts() == {"pending": 0, "registered": 1}
    (document,) = domain.repository.retrieve(doc_unique_id("5")).documents
    assert document.content.read() == TEXT


# --- rejections: nothing left behind ---------------------------------------------------------------------


def with_entry(request: ProvideAndRegisterRequest, **changes: object) -> ProvideAndRegisterRequest:
    entries = request.submission.document_entries
    entries = (replace(entries[0], **changes), *entries[1:])
    return replace(request, submission=replace(request.submission, document_entries=entries))


def test_wrong_hash_is_a_repository_metadata_error(domain: Domain) -> None:
    request = with_entry(pnr("10", TEXT), hash="da39a3ee5e6b4b0d3255bfef95601890afd80709")
    assert_failed(domain.repository.provide(request), ErrorCode.XDS_REPOSITORY_METADATA_ERROR)
    assert_nothing_left(domain)


def test_wrong_size_is_a_repository_metadata_error(domain: Domain) -> None:
    request = with_entry(pnr("11", TEXT, b"second"), size=len(TEXT) + 1)
    assert_failed(domain.repository.provide(request), ErrorCode.XDS_REPOSITORY_METADATA_ERROR)
    assert_nothing_left(domain)


def test_entry_without_document_is_missing_document(domain: Domain) -> None:
    request = pnr("12", TEXT, b"second")
    request = replace(request, documents=request.documents[:1])
    assert_failed(domain.repository.provide(request), ErrorCode.XDS_MISSING_DOCUMENT)
    assert_nothing_left(domain)


def test_document_without_entry_is_missing_document_metadata(domain: Domain) -> None:
    request = pnr("13", TEXT)
    extra = Document("Document99", Attachment.from_bytes(b"stray", "text/plain"))
    request = replace(request, documents=(*request.documents, extra))
    assert_failed(domain.repository.provide(request), ErrorCode.XDS_MISSING_DOCUMENT_METADATA)
    assert_nothing_left(domain)


def test_another_repositorys_unique_id_is_refused(domain: Domain) -> None:
    request = with_entry(pnr("14", TEXT), repository_unique_id=OTHER_REPOSITORY_ID)
    assert_failed(domain.repository.provide(request), ErrorCode.XDS_REPOSITORY_METADATA_ERROR)
    assert_nothing_left(domain)


def test_registry_errors_come_back_unchanged(domain: Domain) -> None:
    # a patient the registry was never fed: the registry refuses the ITI-42 (ITI TF-2b 3.42.4.1.3)
    request = pnr("15", TEXT, b"second", pid="UNKNOWN-1^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO")
    for xop in (True, False):
        assert_failed(domain.repository.provide(request, xop=xop), ErrorCode.XDS_UNKNOWN_PATIENT_ID)
        assert_nothing_left(domain)


def test_changed_bytes_under_a_known_unique_id_are_refused(domain: Domain) -> None:
    assert domain.repository.provide(pnr("16", TEXT)).status == ResponseStatus.SUCCESS
    before = domain.registry.count()
    changed = pnr("16.1", b"other bytes")
    changed = with_entry(changed, unique_id=doc_unique_id("16"))
    assert_failed(domain.repository.provide(changed), ErrorCode.XDS_NON_IDENTICAL_HASH)
    assert domain.registry.count() == before and domain.repository.blob_count() == 1
    (document,) = domain.repository.retrieve(doc_unique_id("16")).documents
    assert document.content.read() == TEXT


def test_registry_down_is_registry_not_available(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path / "registry") as registry:
        url = registry.url  # a port that answered once and is closed now
    with running_repository(database_url, tmp_path / "repository", url) as repository:
        for xop in (True, False):
            response = repository.provide(pnr("17", TEXT, b"second"), xop=xop)
            assert_failed(response, ErrorCode.XDS_REGISTRY_NOT_AVAILABLE)
            assert repository.store.counts() == {"pending": 0, "registered": 0}
            wait_spool_empty(repository)
            assert repository.files() == set()


def test_registry_url_that_is_no_registry(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path / "registry") as registry:
        registry.add_patient()
        not_soap = registry.url.rsplit("/xds/", 1)[0] + "/health"
        with running_repository(database_url, tmp_path / "repository", not_soap) as repository:
            assert_failed(repository.provide(pnr("18", TEXT)), ErrorCode.XDS_REGISTRY_NOT_AVAILABLE)
            assert repository.store.counts() == {"pending": 0, "registered": 0}
            assert repository.blob_count() == 0
        assert registry.count() == 0


def test_document_still_being_registered_is_repository_busy(domain: Domain) -> None:
    # another submission of the same document is between storing and registering (its blob is pending)
    in_flight = pnr("19", TEXT)
    (entry,) = in_flight.submission.document_entries
    staged = domain.repository.store.stage(
        [NewDocument(entry.unique_id, "text/plain", in_flight.documents[0].content)]
    )
    response = domain.repository.provide(pnr("19", TEXT))
    assert_failed(response, ErrorCode.XDS_REPOSITORY_BUSY)
    assert domain.registry.count() == 0
    assert domain.repository.store.counts() == {"pending": 1, "registered": 0}  # the other one's, untouched
    domain.repository.store.discard(staged)
    assert_nothing_left(domain)

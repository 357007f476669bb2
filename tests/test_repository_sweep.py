"""A crash at any moment loses no accepted document and leaves no half-registered one (DESIGN quality bar;
issue 4: the start-up sweep). The repository is killed with SIGKILL while its registry holds the ITI-42
(before and after processing it) and during a large upload, then started again: afterwards every document
the registry knows has its bytes, and no bytes are left that the registry does not know. Also: the sweep
of blobs found pending at start-up, and an ITI-42 whose answer is lost on the way back."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from registry_helpers import RegistryServer, running_registry
from repository_helpers import (
    REPOSITORY_ID,
    FaultyLink,
    RepositoryProcess,
    RepositoryServer,
    doc_unique_id,
    pnr,
    repository_settings,
    running_repository,
    wait_for,
    with_file,
)

from registry.tables import DOCUMENT_ENTRY
from repository import BlobFolders, BlobStore, NewDocument
from repository.iti41 import for_registry
from xds.ebrim import pnr_to_ebrim_with_parts
from xds.errors import ErrorCode
from xds.model import Attachment
from xds.mtom import iter_mtom, mtom_content_type, new_boundary
from xds.soap import SoapClient, build_envelope
from xds.soap.addressing import new_message_id, request_headers
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus

TEXT = b"This is my document.\n"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[RegistryServer]:
    with running_registry(database_url, tmp_path / "registry") as server:
        server.add_patient()
        yield server


def open_store(database_url: str, data_dir: Path) -> BlobStore:
    return BlobStore(database_url, BlobFolders.for_repository(data_dir, REPOSITORY_ID), REPOSITORY_ID)


def files_of(store: BlobStore) -> set[str]:
    root = store.folders.root
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def registered_at(registry: RegistryServer, unique_id: str) -> bool:
    return bool(registry.rows_by_unique_id(DOCUMENT_ENTRY, unique_id))


def test_start_up_sweep_settles_pending_blobs(
    registry: RegistryServer, database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "repository"
    store = open_store(database_url, data_dir)
    try:
        # as a crash leaves them: A stored and registered (the answer never arrived), B stored only
        registered, orphan = pnr("30", TEXT), pnr("31", b"never registered")
        for request in (registered, orphan):
            (entry,) = request.submission.document_entries
            store.stage([NewDocument(entry.unique_id, entry.mime_type, request.documents[0].content)])
        assert registry.register(for_registry(registered, REPOSITORY_ID)).status == ResponseStatus.SUCCESS
        (store.folders.tmp / "half-written.tmp").write_bytes(b"x" * 100)
        (store.folders.spool / "tmpabc").mkdir()
        (store.folders.spool / "tmpabc" / "mtom-1.part").write_bytes(b"y" * 100)
        assert store.counts() == {"pending": 2, "registered": 0}

        with running_repository(database_url, data_dir, registry.url) as repository:
            wait_for(lambda: store.counts()["pending"] == 0, "the sweep")
            assert store.counts() == {"pending": 0, "registered": 1}
            (document,) = repository.retrieve(doc_unique_id("30")).documents
            assert document.content.read() == TEXT
            assert repository.retrieve(doc_unique_id("31")).response.status == ResponseStatus.FAILURE
            assert files_of(store) == {f"blobs/{p}" for p in store.known_paths()}
            assert len(store.known_paths()) == 1
    finally:
        store.close()


def test_lost_answer_is_settled_by_asking_the_registry(
    registry: RegistryServer, database_url: str, tmp_path: Path
) -> None:
    link = FaultyLink(registry.url, mode="drop_response")
    try:
        with running_repository(database_url, tmp_path / "repository", link.url) as repository:
            # the registry registers, its answer is lost, and so is the answer to the repository's question:
            # the outcome is unknown, the bytes stay (pending, invisible) and the sweeper keeps asking
            response = repository.provide(pnr("40", TEXT))
            assert [e.code for e in response.errors] == [ErrorCode.XDS_REGISTRY_NOT_AVAILABLE]
            assert registered_at(registry, doc_unique_id("40"))
            assert repository.store.counts() == {"pending": 1, "registered": 0}
            assert repository.retrieve(doc_unique_id("40")).response.status == ResponseStatus.FAILURE
            link.mode = "pass"
            wait_for(lambda: repository.store.counts()["pending"] == 0, "the sweeper")
            (document,) = repository.retrieve(doc_unique_id("40")).documents
            assert document.content.read() == TEXT
    finally:
        link.close()


def test_lost_answer_of_a_refused_submission_removes_the_bytes(
    registry: RegistryServer, database_url: str, tmp_path: Path
) -> None:
    link = FaultyLink(registry.url, mode="drop_response")
    try:
        with running_repository(database_url, tmp_path / "repository", link.url) as repository:
            unknown_patient = "NOBODY^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO"
            response = repository.provide(pnr("41", TEXT, pid=unknown_patient))
            assert [e.code for e in response.errors] == [ErrorCode.XDS_REGISTRY_NOT_AVAILABLE]
            link.mode = "pass"
            wait_for(lambda: repository.store.counts()["pending"] == 0, "the sweeper")
            assert repository.store.counts() == {"pending": 0, "registered": 0}
            assert repository.blob_count() == 0 and not registered_at(registry, doc_unique_id("41"))
    finally:
        link.close()


# --- SIGKILL ---------------------------------------------------------------------------------------------


def send_in_background(url: str, body: etree._Element, parts: list[Attachment]) -> threading.Thread:
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with SoapClient() as client:
                client.call(url, Transaction.ITI_41, body, parts)
        except BaseException as exc:  # the server dies under it: expected
            errors.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("fault", "registered"),
    [("hold", False), ("hold_response", True)],
    ids=["killed-before-registry-processed", "killed-after-registry-processed"],
)
def test_sigkill_during_registration(
    registry: RegistryServer, database_url: str, tmp_path: Path, fault: str, registered: bool
) -> None:
    link = FaultyLink(registry.url, mode=fault)
    settings = repository_settings(database_url, tmp_path / "repository", link.url)
    process = RepositoryProcess(settings, tmp_path / "repository.log")
    store = open_store(database_url, settings.data_dir)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 8192)  # 2 MB, spooled
    request = pnr("50", TEXT, b"placeholder")
    request = with_file(request, 1, big)
    try:
        process.start()
        sender = send_in_background(process.url, *pnr_to_ebrim_with_parts(request))
        wait_for(link.answered.is_set if registered else link.request_seen.is_set, "the ITI-42")
        # the moment of the crash: the bytes are stored, their registration outcome unknown to the repository
        assert store.counts() == {"pending": 2, "registered": 0}
        assert len(store.folders.blob_files()) == 2
        process.kill()
        sender.join(timeout=60)
        assert registered_at(registry, doc_unique_id("50", 1)) is registered

        link.mode = "pass"
        process.start()
        wait_for(lambda: store.counts()["pending"] == 0, "the start-up sweep")
        if registered:
            # no document registered without its bytes
            assert store.counts() == {"pending": 0, "registered": 2}
            with SoapClient(spool_dir=tmp_path / "client") as client:
                repository = RepositoryServer(process.url, store, client, settings)
                retrieved = repository.retrieve(doc_unique_id("50", 1), doc_unique_id("50", 2))
            assert [d.content.read() for d in retrieved.documents] == [TEXT, big.read_bytes()]
        else:
            # no bytes left without registration
            assert store.counts() == {"pending": 0, "registered": 0}
            assert files_of(store) == set()
    finally:
        process.stop()
        link.close()
        store.close()


def test_sigkill_during_a_large_upload(registry: RegistryServer, database_url: str, tmp_path: Path) -> None:
    settings = repository_settings(database_url, tmp_path / "repository", registry.url)
    process = RepositoryProcess(settings, tmp_path / "repository.log")
    store = open_store(database_url, settings.data_dir)
    request = pnr("60", TEXT)
    body, parts = pnr_to_ebrim_with_parts(request)
    halfway = threading.Event()
    release = threading.Event()
    try:
        process.start()
        boundary, start = new_boundary(), "root@test"
        content_type = mtom_content_type(boundary, start, Transaction.ITI_41.info.action)

        def stream() -> Iterator[bytes]:
            envelope = build_envelope(
                body, request_headers(Transaction.ITI_41.info.action, process.url, new_message_id())
            )
            for chunk in iter_mtom(envelope, parts, boundary, start):
                if chunk == parts[0].data:
                    for n in range(64):
                        if n == 16:
                            halfway.set()
                            release.wait(60)
                            return
                        yield b"z" * (1 << 20)
                else:
                    yield chunk

        def upload() -> None:
            # the server dies under it: expected
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(process.url, content=stream(), headers={"content-type": content_type}, timeout=60)

        sender = threading.Thread(target=upload, daemon=True)
        sender.start()
        wait_for(halfway.is_set, "16 MB uploaded")
        wait_for(lambda: spool_bytes(store) >= 8 << 20, "the upload to reach the spool")
        process.kill()
        release.set()
        sender.join(timeout=60)
        assert spool_bytes(store) > 0  # the crash left a partial upload behind

        process.start()
        assert files_of(store) == set()  # swept before the endpoint took requests
        assert store.counts() == {"pending": 0, "registered": 0}
        assert not registered_at(registry, doc_unique_id("60"))
    finally:
        release.set()
        process.stop()
        store.close()


def spool_bytes(store: BlobStore) -> int:
    return sum(p.stat().st_size for p in store.folders.spool.rglob("*") if p.is_file())

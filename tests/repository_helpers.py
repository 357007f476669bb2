"""A running Document Repository (with the registry it forwards to) for the tests, and ITI-41/43 calls.

The repository runs as in production (repository.service on uvicorn) with its own HTTP port; its registry is
a real one (registry_helpers.running_registry) reached over HTTP, as across hospitals. Tests talk to both
with our SOAP client; a second BlobStore on the same database and data folder lets them look behind the
endpoint (no document file without its row, rows' states).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from registry_helpers import RegistryServer, free_port, running_registry
from sample_data import PATIENT_ID, ROOT, document_entry, has_member, submission_set
from soap_helpers import serving

from repository import PATH, BlobFolders, BlobStore, service
from xds.config import Settings
from xds.ebrim import (
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
    retrieve_request_to_ebrim,
    retrieve_response_from_ebrim,
)
from xds.hl7v2 import CX
from xds.model import (
    Attachment,
    Document,
    DocumentRequest,
    ProvideAndRegisterRequest,
    RegistryResponse,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
    Submission,
)
from xds.runtime import services_app
from xds.soap import SoapClient, SoapReply
from xds.transactions import Transaction
from xds.vocabulary import SubmissionSetStatus

REPOSITORY_ID = "1.3.6.1.4.1.21367.2011.2.5.1"
OTHER_REPOSITORY_ID = "1.2.276.0.7230010.3.1.99.2"


@dataclass
class RepositoryServer:
    url: str
    store: BlobStore  # a second view on the repository's database and blob folder
    client: SoapClient
    settings: Settings

    @property
    def unique_id(self) -> str:
        return self.settings.repository_unique_id

    def provide(self, request: ProvideAndRegisterRequest, *, xop: bool = True) -> RegistryResponse:
        """ITI-41 as MTOM/XOP (``xop``) or as plain SOAP with the documents inline in base64."""
        body, parts = pnr_to_ebrim_with_parts(request, xop=xop)
        reply = self.client.call(self.url, Transaction.ITI_41, body, parts, mtom=xop)
        return registry_response_from_ebrim(reply.body)

    def retrieve_reply(self, *requests: DocumentRequest) -> SoapReply:
        body = retrieve_request_to_ebrim(RetrieveDocumentSetRequest(tuple(requests)))
        return self.client.call(self.url, Transaction.ITI_43, body)

    def retrieve(self, *unique_ids: str) -> RetrieveDocumentSetResponse:
        """ITI-43 for documents of this repository; the contents are read into memory (small tests)."""
        reply = self.retrieve_reply(*(DocumentRequest(self.unique_id, uid) for uid in unique_ids))
        try:
            response = retrieve_response_from_ebrim(reply.body, reply.attachments)
            documents = tuple(
                replace(d, content=Attachment.from_bytes(d.content.read(), d.content.content_type))
                for d in response.documents
            )
            return replace(response, documents=documents)
        finally:
            reply.discard()

    def files(self) -> set[str]:
        """Every file under the repository's folder, relative to it (blobs, tmp, spool)."""
        root = self.store.folders.root
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    def blob_count(self) -> int:
        return len(self.store.folders.blob_files())


def repository_settings(database_url: str, data_dir: Path, registry_url: str, **settings: object) -> Settings:
    values: dict[str, object] = {"repository_unique_id": REPOSITORY_ID} | settings
    return Settings(data_dir=data_dir, database_url=database_url, registry_url=registry_url, **values)


@contextmanager
def running_repository(
    database_url: str, data_dir: Path, registry_url: str, **settings: object
) -> Iterator[RepositoryServer]:
    config = repository_settings(database_url, data_dir, registry_url, **settings)
    actor = service(config)
    folders = BlobFolders.for_repository(config.data_dir, config.repository_unique_id)
    store = BlobStore(database_url, folders, config.repository_unique_id)
    try:
        with serving(services_app([actor])) as base, SoapClient(spool_dir=data_dir / "client") as client:
            yield RepositoryServer(base + PATH, store, client, config)
    finally:
        store.close()


@dataclass
class Domain:
    registry: RegistryServer
    repository: RepositoryServer


@contextmanager
def running_domain(database_url: str, tmp_path: Path, **settings: object) -> Iterator[Domain]:
    """A registry (with the sample patient fed) and a repository forwarding to it, on one database."""
    with ExitStack() as stack:
        registry = stack.enter_context(running_registry(database_url, tmp_path / "registry"))
        registry.add_patient()
        repository = stack.enter_context(
            running_repository(database_url, tmp_path / "repository", registry.url, **settings)
        )
        yield Domain(registry, repository)


def pnr(
    tag: str, *contents: bytes, pid: str = PATIENT_ID, mime_type: str = "text/plain"
) -> ProvideAndRegisterRequest:
    """A SubmissionSet with one DocumentEntry per content; ``tag`` (digits, dots) makes the uniqueIds new.
    Hash, size and repositoryUniqueId are left to the repository."""
    cx = CX.parse(pid)
    entries, documents, members = [], [], []
    for n, data in enumerate(contents, start=1):
        entry_id = f"Document{n:02d}"
        entries.append(
            replace(
                document_entry(entry_id, doc_unique_id(tag, n)),
                patient_id=cx,
                mime_type=mime_type,
            )
        )
        documents.append(Document(entry_id, Attachment.from_bytes(data, mime_type)))
        members.append(has_member(f"Assoc{n:02d}", "SubmissionSet01", entry_id, SubmissionSetStatus.ORIGINAL))
    ss = replace(submission_set(), unique_id=f"{ROOT}.2.{tag}", patient_id=cx)
    submission = Submission(
        submission_sets=(ss,), document_entries=tuple(entries), associations=tuple(members)
    )
    return ProvideAndRegisterRequest(submission, tuple(documents))


def doc_unique_id(tag: str, n: int = 1) -> str:
    return f"{ROOT}.4.{tag}.{n}"


def with_file(request: ProvideAndRegisterRequest, index: int, path: Path) -> ProvideAndRegisterRequest:
    """The request with document ``index`` read from ``path`` (streamed by the client, hashed in chunks)."""
    documents = list(request.documents)
    old = documents[index]
    documents[index] = Document(old.id, Attachment.from_file(path, old.content.content_type))
    return replace(request, documents=tuple(documents))


class FaultyLink:
    """A TCP relay in front of a real server (the registry), with a fault that can be switched on:

    ``pass``           relay both ways
    ``hold``           take the request, never forward it, never answer (a registry that stalls)
    ``hold_response``  forward the request, take the server's answer, never pass it on
    ``drop_response``  forward the request, take the answer, close the client's connection instead

    ``request_seen`` is set when a request arrived, ``answered`` when the server's answer was taken."""

    def __init__(self, upstream_url: str, mode: str = "pass") -> None:
        parsed = httpx.URL(upstream_url)
        self.upstream = (parsed.host, parsed.port or 80)
        self.path = parsed.raw_path.decode()
        self.mode = mode
        self.request_seen = threading.Event()
        self.answered = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}{self.path}"

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client, self.mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        with contextlib.suppress(OSError):
            if mode == "hold":
                while client.recv(65536):
                    self.request_seen.set()
                return
            server = socket.create_connection(self.upstream)
            self._sockets.append(server)
            threading.Thread(target=self._pump, args=(client, server, self.request_seen), daemon=True).start()
            if mode == "pass":
                self._pump(server, client, None)
                return
            server.recv(65536)  # the start of the answer: the server has processed the request
            self.answered.set()
            if mode == "drop_response":
                client.shutdown(socket.SHUT_RDWR)
                client.close()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, seen: threading.Event | None) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if seen is not None:
                    seen.set()
                target.sendall(chunk)
            target.shutdown(socket.SHUT_WR)


def wait_for(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Poll until ``condition`` holds (a deadline against hangs, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class RepositoryProcess:
    """``xds serve repository`` as a subprocess (to be killed with SIGKILL and started again)."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base + PATH

    def start(self) -> None:
        env = {
            **os.environ,
            "XDS_DATA_DIR": str(self.settings.data_dir),
            "XDS_DATABASE_URL": self.settings.database_url,
            "XDS_HTTP_PORT": str(self.port),
            "XDS_REGISTRY_URL": self.settings.registry_url,
            "XDS_REPOSITORY_UNIQUE_ID": self.settings.repository_unique_id,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xds.cli", "serve", "repository"], env=env, stdout=log, stderr=log
            )

        def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()
            try:
                return httpx.get(self.base + "/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, "the repository process to serve")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

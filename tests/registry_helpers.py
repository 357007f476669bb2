"""A running Document Registry for the tests, and submissions built from the sample_data baseline.

The registry runs as in production (registry.service on uvicorn, a real database); the tests talk to it
with our SOAP client. Patients are fed through ITI-8 where a test is about the feed; elsewhere they are
written with the registry's store, the same call the feed handler makes.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from sample_data import PATIENT_ID, REPOSITORY_UNIQUE_ID, ROOT, document_entry, has_member, submission_set
from soap_helpers import serving
from sqlalchemy import func, select

from registry import store as db
from registry.service import PATH, service
from registry.tables import registry_object
from xds.config import Settings
from xds.ebrim import registry_response_from_ebrim, submit_objects_to_ebrim
from xds.hl7v2 import CX
from xds.model import Association, RegistryResponse, Submission
from xds.runtime import services_app
from xds.soap import SoapClient
from xds.transactions import Transaction
from xds.vocabulary import AssociationType, SubmissionSetStatus


@dataclass
class RegistryServer:
    url: str
    store: db.RegistryStore  # a second connection pool on the same database, for set-up and checks
    client: SoapClient
    mllp_port: int

    def register(self, submission: Submission) -> RegistryResponse:
        reply = self.client.call(self.url, Transaction.ITI_42, submit_objects_to_ebrim(submission))
        return registry_response_from_ebrim(reply.body)

    def add_patient(self, pid: str = PATIENT_ID) -> None:
        with self.store.write() as conn:
            db.save_patient(conn, pid, name="DOE^JANE", birth_date="19700101", sex="F")

    def count(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(registry_object)
        if kind is not None:
            query = query.where(registry_object.c.kind == kind)
        with self.store.read() as conn:
            return conn.execute(query).scalar_one()

    def row(self, object_id: str):  # noqa: ANN201 - a SQLAlchemy Row
        with self.store.read() as conn:
            return db.objects_by_id(conn, [object_id]).get(object_id)

    def rows_by_unique_id(self, kind: str, unique_id: str):  # noqa: ANN201
        with self.store.read() as conn:
            return db.objects_by_unique_id(conn, kind, [unique_id])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_registry(database_url: str, data_dir: Path, **settings: object) -> Iterator[RegistryServer]:
    mllp_port = free_port()
    config = Settings(data_dir=data_dir, database_url=database_url, registry_mllp_port=mllp_port, **settings)
    registry = service(config)
    store = db.RegistryStore.open(database_url)
    try:
        with serving(services_app([registry])) as base, SoapClient() as client:
            yield RegistryServer(base + PATH, store, client, config.registry_mllp_port)
    finally:
        store.close()


def patient(pid: str = PATIENT_ID) -> CX:
    return CX.parse(pid)


def single_document(tag: str, pid: str = PATIENT_ID, *extra: Association) -> Submission:
    """SubmissionSet + one DocumentEntry + its HasMember; ``tag`` (digits, dots) makes the uniqueIds new."""
    cx = patient(pid)
    entry = replace(
        document_entry("Doc", f"{ROOT}.4.{tag}"),
        patient_id=cx,
        hash="da39a3ee5e6b4b0d3255bfef95601890afd80709",
        size=0,
        repository_unique_id=REPOSITORY_UNIQUE_ID,
    )
    ss = replace(submission_set("SS"), unique_id=f"{ROOT}.2.{tag}", patient_id=cx)
    member = has_member("HM", "SS", "Doc", SubmissionSetStatus.ORIGINAL)
    return Submission(submission_sets=(ss,), document_entries=(entry,), associations=(member, *extra))


def related(tag: str, target: str, kind: AssociationType, pid: str = PATIENT_ID) -> Submission:
    """A new document with ``kind`` (RPLC, APND, XFRM, XFRM_RPLC, signs) to the registered ``target``."""
    return single_document(tag, pid, Association("Rel", kind, "Doc", target))


SB, EB, CR = b"\x0b", b"\x1c", b"\r"


def adt(event: str, pid3: str, mrg1: str | None = None, version: str = "2.5", control: str = "C1") -> bytes:
    structure = {"A40": "ADT_A39"}.get(event, "ADT_A01")
    segments = [
        f"MSH|^~\\&|KIS|HOSPITAL|XDS|REGISTRY|20240115120000||ADT^{event}^{structure}|{control}|P|{version}",
        f"EVN|{event}|20240115120000",
        f"PID|||{pid3}||DOE^JANE||19700101|F",
    ]
    if mrg1 is not None:
        segments.append(f"MRG|{mrg1}")
    return "\r".join(segments).encode() + CR


class Mllp:
    """A raw MLLP peer: frames by hand, reads until the end block."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def send(self, message: bytes) -> dict[str, list[str]]:
        self.sock.sendall(SB + message + EB + CR)
        while EB + CR not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed without an ACK"
            self.buffer += chunk
        frame, _, self.buffer = self.buffer.partition(EB + CR)
        assert frame.startswith(SB)
        segments = [s.split("|") for s in frame[1:].decode().split("\r") if s]
        return {fields[0]: fields for fields in segments}

    def close(self) -> None:
        self.sock.close()

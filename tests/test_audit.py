"""ATNA audit (ITI-20): records in the DICOM audit message format, syslog framing, the node's outbox while
the Audit Record Repository is down, the repository's listeners, and a scripted sequence of transactions
through a running ``xds up`` with exactly one valid record per transaction and actor side."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import XDS, start_xds, stop_xds, xds_env
from lxml import etree
from registry_helpers import adt, free_port, single_document
from repository_helpers import pnr
from sample_data import PATIENT_ID, find_documents_query

from xds.audit import syslog
from xds.audit.events import Exchange, Node, answer_status, hl7_record, soap_record
from xds.audit.message import ActiveParticipant
from xds.audit.receiver import DatagramListener, StreamListener
from xds.audit.schema import schema_errors
from xds.audit.sender import AuditSender, Destination, Outbox
from xds.audit.store import AuditStore, Received
from xds.ebrim import (
    adhoc_query_request_to_ebrim,
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
    retrieve_request_to_ebrim,
    retrieve_response_to_ebrim,
    submit_objects_to_ebrim,
)
from xds.mllp import MllpClient
from xds.model import (
    DocumentRequest,
    RegistryResponse,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
)
from xds.soap import SoapClient
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus

NODE = Node("XDS_TEST_NODE", "1.2.3", "testhost")
ACK = b"MSH|^~\\&|R|F|K|H|20240101||ACK|1|P|2.5\rMSA|AA|C1"


def exchange(
    tx: Transaction, request: etree._Element | None, status: str = ResponseStatus.SUCCESS
) -> Exchange:
    return Exchange(tx, "http://www.w3.org/2005/08/addressing/anonymous", "10.0.0.7",
                    "http://node/xds/registry", request, status)


def retrieve_request() -> etree._Element:
    return retrieve_request_to_ebrim(RetrieveDocumentSetRequest((DocumentRequest("1.2.3", "1.2.3.4.5"),)))


RECORDS = {
    "ITI-42 registry": lambda: soap_record(NODE, exchange(Transaction.ITI_42,
                                                          submit_objects_to_ebrim(single_document("1")))),
    "ITI-42 repository": lambda: soap_record(NODE, exchange(Transaction.ITI_42,
                                                            submit_objects_to_ebrim(single_document("1"))),
                                             initiator=True),
    "ITI-18": lambda: soap_record(NODE, exchange(Transaction.ITI_18,
                                                 adhoc_query_request_to_ebrim(find_documents_query()))),
    "ITI-43 partial": lambda: soap_record(NODE, exchange(Transaction.ITI_43, retrieve_request(),
                                                         ResponseStatus.PARTIAL_SUCCESS)),
    "ITI-8": lambda: hl7_record(NODE, adt("A01", PATIENT_ID), ACK, "10.0.0.7", "node:2576"),
    "ITI-8 merge": lambda: hl7_record(NODE, adt("A40", PATIENT_ID, "OLD^^^&1.2.3&ISO"),
                                      ACK.replace(b"MSA|AA", b"MSA|AE"), None, "node:2576"),
}


@pytest.mark.parametrize("name", RECORDS)
def test_records_are_dicom_audit_messages(name: str) -> None:
    message = RECORDS[name]()
    assert message is not None
    document = etree.fromstring(message.to_xml())
    assert schema_errors(document) == []
    # the patient is named wherever the request names one (not in an ITI-43 request)
    assert (PATIENT_ID in message.patients()) == (name != "ITI-43 partial")
    if name == "ITI-8 merge":
        assert "OLD^^^&1.2.3&ISO" in message.patients() and message.outcome == 8
    if name == "ITI-43 partial":
        assert message.outcome == 4


def test_the_schema_refuses_a_record_without_its_source() -> None:
    document = etree.fromstring(RECORDS["ITI-18"]().to_xml())
    document.remove(document.find("AuditSourceIdentification"))
    assert schema_errors(document)


def test_syslog_message_round_trips_and_frames_survive_any_chunking() -> None:
    xml = RECORDS["ITI-18"]().to_xml()
    data = syslog.encode(xml, hostname="node 1", app_name="xds", procid="42")
    assert data.startswith(b"<85>1 ") and b" IHE+RFC-3881 - \xef\xbb\xbf<?xml" in data
    record = syslog.parse(data)
    assert (record.pri, record.hostname, record.msgid, record.msg) == (85, "node1", "IHE+RFC-3881", xml)
    stream = b"".join(syslog.frame(m) for m in (data, b"<13>1 - - - - - - x", data))
    rnd = random.Random(7)
    for _ in range(20):
        decoder, got, i = syslog.FrameDecoder(), [], 0
        while i < len(stream):
            n = rnd.randint(1, 300)
            got += decoder.feed(stream[i : i + n])
            i += n
        assert got == [data, b"<13>1 - - - - - - x", data] and not decoder.pending


@pytest.mark.parametrize("bad", [b"abc 12", b"012 x", b"99999999999999 ", b"5x"])
def test_broken_frames_are_refused(bad: bytes) -> None:
    with pytest.raises(syslog.SyslogError):
        syslog.FrameDecoder(max_message_bytes=1000).feed(bad + b" " * 20)


@pytest.mark.parametrize("bad", [b"hello", b"<999>1 - - - - - -", b"<85>2 - - - - - - x", b""])
def test_non_syslog_is_refused(bad: bytes) -> None:
    with pytest.raises(syslog.SyslogError):
        syslog.parse(bad)


# --- the outbox and the repository's listeners ---------------------------------------------------------


class Repository:
    """The Audit Record Repository's listeners and store, on an event loop thread of their own."""

    def __init__(self, database_url: str, tcp_port: int = 0, udp_port: int = 0) -> None:
        self.store = AuditStore(database_url)
        self.loop = asyncio.new_event_loop()
        self.stream = StreamListener(self._handle, "127.0.0.1", tcp_port)
        self.datagrams = DatagramListener(self._handle, "127.0.0.1", udp_port)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _handle(self, received: Received) -> None:
        await asyncio.to_thread(self.store.add, received)

    def _run(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)  # type: ignore[arg-type]

    def __enter__(self) -> Repository:
        self.thread.start()
        self._run(self.stream.start())
        self._run(self.datagrams.start())
        return self

    def __exit__(self, *_exc: object) -> None:
        self._run(self.stream.close())
        self._run(self.datagrams.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.store.close()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    yield box


def sender(outbox: Outbox, destination: Destination) -> AuditSender:
    return AuditSender(outbox, destination, hostname="node", app_name="xds")


def test_records_made_while_the_repository_is_down_arrive_when_it_is_back(
    outbox: Outbox, database_url: str
) -> None:
    port = free_port()
    trail = sender(outbox, Destination("tls", "127.0.0.1", port))
    trail.start()
    for name in ("ITI-18", "ITI-8", "ITI-43 partial"):
        trail.record(RECORDS[name]())
    time.sleep(0.5)  # the sender has tried and failed: nothing listens yet
    assert len(outbox) == 3
    with Repository(database_url, tcp_port=port) as repository:
        assert trail.flush(30)
        deadline = time.monotonic() + 10
        while len(repository.store.find()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        rows = repository.store.find()
        assert [r.event_type for r in rows] == ["ITI-18", "ITI-8", "ITI-43"] and all(r.valid for r in rows)
        assert [r.event_type for r in repository.store.find(patient=PATIENT_ID)] == ["ITI-18", "ITI-8"]
        assert repository.store.find(event="Query")[0].event_type == "ITI-18"
    trail.stop()


def test_udp_records_arrive(outbox: Outbox, tmp_path: Path) -> None:
    with Repository(f"sqlite:///{tmp_path / 'arr.sqlite'}") as repository:
        trail = sender(outbox, Destination("udp", "127.0.0.1", repository.datagrams.port))
        trail.start()
        trail.record(RECORDS["ITI-8"]())
        assert trail.flush(10)
        deadline = time.monotonic() + 10
        while not repository.store.find() and time.monotonic() < deadline:
            time.sleep(0.05)
        [row] = repository.store.find()
        assert (row.transport, row.event_type, row.valid) == ("udp", "ITI-8", True)
        trail.stop()


def test_the_repository_survives_garbage_and_keeps_invalid_records(tmp_path: Path) -> None:
    with Repository(f"sqlite:///{tmp_path / 'arr.sqlite'}") as repository:
        address = ("127.0.0.1", repository.stream.port)
        with socket.create_connection(address) as sock:  # no length in front: the stream is closed
            sock.sendall(b"garbage without framing\n" * 3)
            assert sock.recv(10) == b""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"\x00\x01 not syslog", ("127.0.0.1", repository.datagrams.port))
        with socket.create_connection(address) as sock:
            not_syslog = b"hello"
            not_xml = syslog.encode(b"<AuditMessage><broken", hostname="n", app_name="a", procid="1")
            good = syslog.encode(RECORDS["ITI-18"]().to_xml(), hostname="n", app_name="a", procid="1")
            sock.sendall(b"".join(syslog.frame(m) for m in (not_syslog, not_xml, good)))
            deadline = time.monotonic() + 10
            while len(repository.store.find()) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        rows = repository.store.find()
        assert sorted(r.valid for r in rows) == [False, True]


# --- a running domain ---------------------------------------------------------------------------------


def test_each_transaction_leaves_one_valid_record_per_actor_side(tmp_path: Path) -> None:
    mllp_port, audit_port = free_port(), free_port()
    env = {
        **xds_env(tmp_path),
        "XDS_ACTORS": "registry,repository,audit",
        "XDS_REGISTRY_MLLP_PORT": str(mllp_port),
        "XDS_AUDIT_TLS_PORT": str(audit_port),
    }
    proc, url = start_xds(["up"], env)
    try:
        with MllpClient("127.0.0.1", mllp_port) as mllp:
            assert b"MSA|AA" in mllp.send(adt("A01", PATIENT_ID))  # ITI-8
        request = pnr("77", b"report")
        with SoapClient() as client:
            body, parts = pnr_to_ebrim_with_parts(request, xop=True)
            reply = client.call(url + "/xds/repository", Transaction.ITI_41, body, parts)  # ITI-41 -> ITI-42
            assert registry_response_from_ebrim(reply.body).status == ResponseStatus.SUCCESS
            query = adhoc_query_request_to_ebrim(find_documents_query())
            client.call(url + "/xds/registry", Transaction.ITI_18, query)  # ITI-18
            unique_id = request.submission.document_entries[0].unique_id
            retrieve = retrieve_request_to_ebrim(RetrieveDocumentSetRequest(
                (DocumentRequest("1.3.6.1.4.1.21367.2011.2.5.1", unique_id),)))
            client.call(url + "/xds/repository", Transaction.ITI_43, retrieve).discard()  # ITI-43
        expected = Counter({"ITI-8": 1, "ITI-41": 1, "ITI-42": 2, "ITI-18": 1, "ITI-43": 1})

        def records(*args: str) -> list[dict]:
            result = subprocess.run(XDS + ["audit", "--json", *args], env=env, capture_output=True, text=True,
                                    timeout=60)
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout)

        deadline = time.monotonic() + 30
        while sum(expected.values()) > len(found := records()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Counter(r["event_type"] for r in found) == expected
        failed = [(r["event_type"], r["outcome"]) for r in found if r["outcome"] or not r["valid"]]
        assert failed == []
        sides = {(r["event_type"], r["event_name"]) for r in found}
        assert ("ITI-42", "Export") in sides and ("ITI-42", "Import") in sides  # repository and registry
        patient = Counter(r["event_type"] for r in records("--pid", PATIENT_ID))
        assert patient == Counter({"ITI-8": 1, "ITI-41": 1, "ITI-42": 2, "ITI-18": 1})
    finally:
        stop_xds(proc)


def test_a_control_character_from_a_peer_does_not_cost_the_record() -> None:
    # ITI TF-2a 3.20: the transaction is recorded whatever the peer put into its fields
    message = hl7_record(NODE, adt("A01", PATIENT_ID).replace(b"|KIS|", b"|K\x01IS|"), ACK, None, "node:2576")
    document = etree.fromstring(message.to_xml())
    assert schema_errors(document) == []
    assert "K\ufffdIS" in etree.tostring(document, encoding="unicode")


def test_the_status_of_a_retrieve_answer_is_in_its_registry_response() -> None:
    success = RegistryResponse(ResponseStatus.SUCCESS)
    body, _ = retrieve_response_to_ebrim(RetrieveDocumentSetResponse(success))
    assert body.get("status") is None and answer_status(body) == ResponseStatus.SUCCESS
    assert answer_status(b'<q:AdhocQueryResponse xmlns:q="urn:q" status="urn:x:Failure">') == "urn:x:Failure"
    assert answer_status(None) is None


def test_syslog_header_fields_must_be_printable_ascii() -> None:
    with pytest.raises(syslog.SyslogError):
        syslog.parse("<85>1 2026-01-01T00:00:00Z höst app 1 IHE+RFC-3881 - x".encode())


def test_tls_audit_repository_without_the_node_certificate_is_refused(tmp_path: Path) -> None:
    env = {**xds_env(tmp_path), "XDS_AUDIT_REPOSITORY": "tls://127.0.0.1:6514", "XDS_ACTORS": "registry"}
    result = subprocess.run(XDS + ["up"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "tcp://" in result.stderr


def test_values_with_markup_characters_come_back_as_they_were_sent() -> None:
    tricky = 'a"b&c<d>e\nf\tg\rh \U0001f600 ü'
    message = RECORDS["ITI-18"]()
    person = ActiveParticipant(tricky, True, user_name=tricky)
    message = replace(message, participants=(*message.participants, person), outcome_description=tricky)
    document = etree.fromstring(message.to_xml())
    assert schema_errors(document) == []
    [written] = [p for p in document.findall("ActiveParticipant") if p.get("UserName") is not None]
    assert written.get("UserID") == written.get("UserName") == tricky
    assert document.findtext("EventIdentification/EventOutcomeDescription") == tricky

"""The storage fast path of the DICOM listener (imaging_source.store_scp) against peers that break PS3.8:
raw sockets with hand-built PDUs get the A-ASSOCIATE-RJ or A-ABORT the standard names, nothing is kept, and
the listener goes on serving (dcmtk echoscu/storescu afterwards). Also: C-ECHO on the fast path, a C-STORE
whose data set is another instance than its command names, the association limit, and the start-up check
of instances not yet made durable."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from imaging_helpers import (
    RunningSource,
    dataset_part,
    imaging_settings,
    running_source,
    storescu,
    tool,
    write_study,
)

from imaging_source.store_scu import StoreScu
from imaging_source.vocabulary import IMPLEMENTATION_CLASS_UID

CT_IMAGE = b"1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = b"1.2.840.10008.1.2.1"
APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"


def item(item_type: int, value: bytes) -> bytes:
    return struct.pack(">BxH", item_type, len(value)) + value


def associate_rq(
    *,
    application_context: bytes = APPLICATION_CONTEXT,
    version: int = 1,
    max_length: int = 16384,
    contexts: tuple[tuple[int, bytes], ...] = ((1, CT_IMAGE),),
) -> bytes:
    """PS3.8 9.3.2: an A-ASSOCIATE-RQ proposing (id, abstract syntax) contexts, by default CT Image Storage
    as context 1, each in Explicit VR Little Endian."""
    body = struct.pack(">HH", version, 0) + b"XDSI_SOURCE".ljust(16) + b"RAWSCU".ljust(16) + bytes(32)
    body += item(0x10, application_context)
    for context_id, abstract in contexts:
        body += item(0x20, bytes((context_id, 0, 0, 0)) + item(0x30, abstract) + item(0x40, EXPLICIT_LE))
    body += item(0x50, item(0x51, struct.pack(">I", max_length)) + item(0x52, b"1.2.3.4"))
    return struct.pack(">BxI", 0x01, len(body)) + body


def pdata(context_id: int, control: int, data: bytes) -> bytes:
    """PS3.8 9.3.5: a P-DATA-TF with one PDV (control bit 0: command, bit 1: last fragment)."""
    pdv = struct.pack(">IBB", len(data) + 2, context_id, control) + data
    return struct.pack(">BxI", 0x04, len(pdv)) + pdv


def command_element(number: int, value: bytes) -> bytes:
    return struct.pack("<HHI", 0, number, len(value)) + value


def store_rq(sop_instance_uid: bytes, sop_class_uid: bytes = CT_IMAGE, field: int = 0x0001) -> bytes:
    """PS3.7 9.3.1.1: a C-STORE-RQ command set (or another command field), Implicit VR Little Endian, with its
    group length."""
    elements = b"".join((
        command_element(0x0002, sop_class_uid + b"\0" * (len(sop_class_uid) % 2)),
        command_element(0x0100, struct.pack("<H", field)),
        command_element(0x0110, struct.pack("<H", 7)),
        command_element(0x0700, struct.pack("<H", 0)),
        command_element(0x0800, struct.pack("<H", 0x0000 if field == 0x0001 else 0x0101)),
        command_element(0x1000, sop_instance_uid + b"\0" * (len(sop_instance_uid) % 2)),
    ))
    return command_element(0x0000, struct.pack("<I", len(elements))) + elements


def answered_status(sock: socket.socket) -> int:
    """The Status (0000,0900) of the response command that comes next (one PDV, PS3.7 Table E.1-1)."""
    pdu_type, body = read_pdu(sock)
    assert pdu_type == 0x04, body
    at = body.index(struct.pack("<HHI", 0, 0x0900, 2))
    return int(struct.unpack_from("<H", body, at + 8)[0])


def read_pdu(sock: socket.socket) -> tuple[int, bytes]:
    head = b""
    while len(head) < 6:
        chunk = sock.recv(6 - len(head))
        assert chunk, "connection closed without a PDU"
        head += chunk
    pdu_type, length = struct.unpack(">BxI", head)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        assert chunk
        body += chunk
    return pdu_type, body


@contextmanager
def connected(port: int) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        yield sock


def associated(sock: socket.socket) -> None:
    sock.sendall(associate_rq())
    pdu_type, body = read_pdu(sock)
    assert pdu_type == 0x02, body  # A-ASSOCIATE-AC
    # PS3.8 9.3.3.2: the presentation context item (0x21) of context 1, result 0 (acceptance)
    at = body.index(b"\x21\x00", 68)
    assert body[at + 4] == 1 and body[at + 6] == 0


def still_serving(src: RunningSource, tmp_path: Path) -> None:
    """Nothing half-received is left, and dcmtk still gets through."""
    deadline = time.monotonic() + 30
    while list(src.store.tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the association's thread removes its file when it ends
    assert list(src.store.tmp.iterdir()) == []
    assert src.store.counts()["instances"] == 0
    echo = tool("echoscu", "-aec", "XDSI_SOURCE", "127.0.0.1", str(src.port))
    assert echo.returncode == 0, echo.stderr
    study = write_study(tmp_path / f"after-{time.monotonic_ns()}", slices=1)
    assert storescu(src.port, *study.files).returncode == 0


@pytest.fixture
def src(tmp_path: Path) -> Iterator[RunningSource]:
    settings = imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")
    with running_source(settings) as running:
        yield running


def test_echoscu_is_answered_on_the_storage_path(src: RunningSource) -> None:
    run = tool("echoscu", "-v", "-aec", "XDSI_SOURCE", "127.0.0.1", str(src.port))
    assert run.returncode == 0, run.stderr
    assert "received echo response (success)" in (run.stdout + run.stderr).lower()


@pytest.mark.parametrize(
    ("request_bytes", "answer"),
    [
        # PS3.7 A.2.1 / PS3.8 Table 9-21: permanent, service-user, application-context-name-not-supported
        (associate_rq(application_context=b"1.2.3.4"), bytes((0, 1, 1, 2))),
        # PS3.8 9.3.2 Table 9-11 (bit 0 of the protocol version) / Table 9-21: permanent, ACSE, version
        (associate_rq(version=2), bytes((0, 1, 2, 2))),
        # PS3.8 D.1: a maximum length that leaves no room for data after the PDV header: permanent, user,
        # no-reason-given
        (associate_rq(max_length=6), bytes((0, 1, 1, 1))),
    ],
    ids=["application-context", "protocol-version", "no-room-in-a-pdu"],
)
def test_bad_association_request_is_rejected(
    src: RunningSource, tmp_path: Path, request_bytes: bytes, answer: bytes
) -> None:
    with connected(src.port) as sock:
        sock.sendall(request_bytes)
        assert read_pdu(sock) == (0x03, answer)  # A-ASSOCIATE-RJ
    still_serving(src, tmp_path)


@pytest.mark.parametrize(
    ("after_association", "reason"),
    [
        # PS3.8 9.3.8 Table 9-26: unexpected-PDU (2): a data set with no C-STORE-RQ before it
        (pdata(1, 0x02, b"\x08\x00\x18\x00UI\x04\x001.2\0"), 2),
        # invalid-PDU-parameter-value (6): a PDV on a presentation context that was not accepted
        (pdata(3, 0x03, store_rq(b"1.2.3")), 6),
        # unrecognized-PDU (1): no such PDU type
        (struct.pack(">BxI", 0x09, 4) + bytes(4), 1),
        # unexpected-PDU (2): a second A-ASSOCIATE-RQ in an established association
        (associate_rq(), 2),
        # invalid-PDU-parameter-value (6): a command set that does not decode
        (pdata(1, 0x03, b"\x00\x00\x00\x01\xff\xff\xff\x7f"), 6),
        # invalid-PDU-parameter-value (6): command fragments beyond any command set's size (64 KiB)
        (pdata(1, 0x01, bytes(40_000)) + pdata(1, 0x01, bytes(40_000)), 6),
    ],
    ids=["data-without-command", "unaccepted-context", "unknown-pdu", "second-request", "bad-command",
         "endless-command"],
)
def test_protocol_errors_abort_the_association(
    src: RunningSource, tmp_path: Path, after_association: bytes, reason: int
) -> None:
    with connected(src.port) as sock:
        associated(sock)
        sock.sendall(after_association)
        assert read_pdu(sock) == (0x07, bytes((0, 0, 2, reason)))  # A-ABORT from the service provider
    still_serving(src, tmp_path)


def test_connection_lost_in_a_data_set_keeps_nothing(src: RunningSource, tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=1)
    data = dataset_part(study.files[0])
    with connected(src.port) as sock:
        associated(sock)
        sock.sendall(pdata(1, 0x03, store_rq(b"1.2.3.4.5")))
        sock.sendall(pdata(1, 0x00, data[: len(data) // 2]))  # not the last fragment
        deadline = time.monotonic() + 30
        while not list(src.store.tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.01)  # the source is writing the file when the connection goes
        assert list(src.store.tmp.iterdir())
    still_serving(src, tmp_path)


def test_data_set_of_another_instance_than_named_is_a900(src: RunningSource, tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=1)
    scu = StoreScu.open(
        "127.0.0.1", src.port, called_ae="XDSI_SOURCE", calling_ae="RAWSCU",
        contexts=[(CT_IMAGE.decode(), [EXPLICIT_LE.decode()])], timeout=30,
    )
    try:
        # PS3.4 Table B.2-1: A900 Error, Data Set does not match SOP Class (here: not the instance named)
        status = scu.send(
            study.files[0], CT_IMAGE.decode(), "1.2.826.0.1.3680043.10.543.999", EXPLICIT_LE.decode(),
            message_id=1,
        )
        assert status == 0xA900
    finally:
        scu.release()
    still_serving(src, tmp_path)


def test_associations_over_the_limit_are_rejected_transiently(src: RunningSource, tmp_path: Path) -> None:
    limit = src.source.listener.ae.maximum_associations
    sockets = [socket.create_connection(("127.0.0.1", src.port), timeout=30) for _ in range(limit + 1)]
    try:
        for sock in sockets[:limit]:
            associated(sock)
        sockets[limit].sendall(associate_rq())
        # PS3.8 Table 9-21: rejected-transient, service-provider (presentation), local-limit-exceeded
        assert read_pdu(sockets[limit]) == (0x03, bytes((0, 2, 3, 2)))
    finally:
        for sock in sockets:
            sock.close()
    still_serving(src, tmp_path)


def test_instances_a_power_loss_took_are_dropped_at_start(tmp_path: Path) -> None:
    settings = imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")
    study = write_study(tmp_path / "in", slices=3)
    with running_source(settings) as src:
        assert storescu(src.port, *study.files).returncode == 0
        held = src.store.find_instances(study_uid=study.study_uid)
    # what a power loss can do to files not yet fsynced (the study is not published): gone, or cut short
    held[0].path.unlink()
    held[1].path.write_bytes(held[1].path.read_bytes()[:1000])
    with running_source(settings) as src:
        left = src.store.find_instances(study_uid=study.study_uid)
        assert [i.sop_instance_uid for i in left] == [held[2].sop_instance_uid]
        # the two come back when the modality sends them again
        assert storescu(src.port, *study.files).returncode == 0
        assert len(src.store.find_instances(study_uid=study.study_uid)) == 3


def test_store_of_a_sop_class_other_than_the_contexts_is_0122(src: RunningSource, tmp_path: Path) -> None:
    """PS3.7 9.1.1.1: the Affected SOP Class UID is the presentation context's abstract syntax; PS3.7 C.5:
    0122 Refused: SOP Class not supported. The data set that follows is read and dropped."""
    study = write_study(tmp_path / "in", slices=1)
    mr_image = b"1.2.840.10008.5.1.4.1.1.4"
    with connected(src.port) as sock:
        associated(sock)
        sock.sendall(pdata(1, 0x03, store_rq(b"1.2.3.4.5", sop_class_uid=mr_image)))
        sock.sendall(pdata(1, 0x02, dataset_part(study.files[0])))
        assert answered_status(sock) == 0x0122
    still_serving(src, tmp_path)


def test_echo_on_a_storage_context_is_0122(src: RunningSource, tmp_path: Path) -> None:
    """PS3.7 9.3.5: C-ECHO is the Verification SOP Class's; on a CT Image Storage context it is refused."""
    with connected(src.port) as sock:
        associated(sock)
        sock.sendall(pdata(1, 0x03, store_rq(b"", field=0x0030)))
        assert answered_status(sock) == 0x0122
    still_serving(src, tmp_path)


def test_even_and_repeated_context_ids_are_rejected(src: RunningSource) -> None:
    """PS3.8 9.3.2.2: presentation context ids are odd and unique; the others get result 2 (no-reason,
    provider rejection) in the A-ASSOCIATE-AC, and the first context 3 is accepted."""
    with connected(src.port) as sock:
        sock.sendall(associate_rq(contexts=((2, CT_IMAGE), (3, CT_IMAGE), (3, CT_IMAGE))))
        pdu_type, body = read_pdu(sock)
        assert pdu_type == 0x02
        results = []
        at = 68
        while at < len(body):
            item_type, length = struct.unpack_from(">BxH", body, at)
            if item_type == 0x21:
                results.append((body[at + 4], body[at + 6]))
            at += 4 + length
        assert results == [(2, 2), (3, 0), (3, 2)]


def test_a_request_in_several_segments_takes_the_storage_path(src: RunningSource) -> None:
    """The listener peeks at the whole A-ASSOCIATE-RQ, however TCP cuts it: the answer comes from our Upper
    Layer (its Implementation Class UID), not pynetdicom's."""
    request = associate_rq()
    with connected(src.port) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(request), 7):
            sock.sendall(request[start : start + 7])
            time.sleep(0.01)
        pdu_type, body = read_pdu(sock)
        assert pdu_type == 0x02
        assert IMPLEMENTATION_CLASS_UID.encode() in body

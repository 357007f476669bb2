"""Malformed input to the PIX Manager's MLLP listener: every message gets AE/AR with the HL7 error code and
location, or (framing broken beyond repair) the connection is closed; the listener always goes on serving."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pix_helpers import CR, EB, SB, Mllp, PixServer, adt, cx, err_codes, msa_code, running_pix

VALID = adt("A01", cx("4711"))
# any bytes but the MLLP block characters, not starting with MSH
GARBAGE = (
    bytes(range(1, 11)) + bytes(range(14, 28)) + os.urandom(200).replace(b"\x0b", b"").replace(b"\x1c", b"")
)


@pytest.fixture(scope="module")
def pix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PixServer]:
    tmp = tmp_path_factory.mktemp("pix")
    with running_pix(f"sqlite:///{tmp / 'pix.sqlite'}", tmp / "data") as server:
        yield server


def still_serving(pix: PixServer) -> bool:
    with pix.peer() as peer:
        return msa_code(peer.send(VALID)) == "AA"


def replace(message: bytes, old: bytes, new: bytes) -> bytes:
    assert old in message
    return message.replace(old, new, 1)


CASES = {
    "no-msh": (b"PID|||4711^^^&1.2&ISO||DOE^JOHN\r", "AR", [("MSH^1", "100")]),
    "empty": (b"", "AR", [("MSH^1", "100")]),
    "alphanumeric-field-separator": (replace(VALID, b"MSH|^~", b"MSHX^~"), "AR", [("MSH^1^1", "102")]),
    "bad-encoding-characters": (replace(VALID, b"MSH|^~\\&|", b"MSH|^^\\&|"), "AR", [("MSH^1^2", "102")]),
    # declared '#', sent '|': MSH-2 runs on to the end of the segment
    "wrong-field-separator": (replace(VALID, b"MSH|^~\\&|", b"MSH#^~\\&|"), "AR", [("MSH^1^2", "102")]),
    "unknown-event": (replace(VALID, b"ADT^A01^ADT_A01", b"ADT^A99^ADT_A01"), "AR", [("MSH^1^9^^2", "201")]),
    "unknown-message-type": (
        replace(VALID, b"ADT^A01^ADT_A01", b"ORU^R01^ORU_R01"),
        "AR",
        [("MSH^1^9^^1", "200")],
    ),
    "unsupported-version": (replace(VALID, b"|P|2.5", b"|P|2.9"), "AR", [("MSH^1^12", "203")]),
    "bad-processing-id": (replace(VALID, b"|P|2.5", b"|X|2.5"), "AR", [("MSH^1^11", "103")]),
    "no-control-id": (replace(VALID, b"|C1|", b"||"), "AR", [("MSH^1^10", "101")]),
    "missing-pid3": (
        replace(VALID, b"PID|||4711^^^&1.2.276.0.76.3.1.99.1&ISO||", b"PID|||||"),
        "AE",
        [("PID^1^3", "101")],
    ),
    "no-pid-segment": (
        b"\r".join(s for s in VALID.split(b"\r") if not s.startswith(b"PID")),
        "AE",
        [("PID^1", "100")],
    ),
    "birth-date": (replace(VALID, b"|19700101|", b"|1970-01-01|"), "AE", [("PID^1^7", "102")]),
    "bad-segment-id": (VALID + b"pid|||1\r", "AE", [("pid^1", "100")]),
    "not-utf8": (replace(VALID, "MÜLLER".encode(), "MÜLLER".encode("latin-1")), "AR", [("MSH^1^18", "102")]),
    "unknown-charset": (replace(VALID, b"UNICODE UTF-8", b"EBCDIC"), "AR", [("MSH^1^18", "103")]),
    "ascii-with-umlaut": (replace(VALID, b"UNICODE UTF-8", b"ASCII"), "AR", [("MSH^1^18", "102")]),
    "binary-garbage-in-frame": (GARBAGE, "AR", [("MSH^1", "100")]),
}


@pytest.mark.parametrize(("message", "code", "errors"), CASES.values(), ids=CASES.keys())
def test_answered_with_the_error(pix: PixServer, message: bytes, code: str, errors: list) -> None:
    with pix.peer() as peer:
        reply = peer.send(message)
        assert msa_code(reply) == code and err_codes(reply) == errors
        # the same connection goes on
        assert msa_code(peer.send(VALID)) == "AA"


def test_bytes_outside_a_frame_are_skipped(pix: PixServer) -> None:
    with pix.peer() as peer:
        peer.send_raw(b"\x00\xff garbage \r\n" + os.urandom(100).replace(b"\x0b", b""))
        assert msa_code(peer.send(VALID)) == "AA"


def test_a_truncated_frame_then_a_new_one(pix: PixServer) -> None:
    with pix.peer() as peer:
        peer.send_raw(SB + VALID[: len(VALID) // 2])  # no end block; a new start block abandons it
        assert msa_code(peer.send(VALID)) == "AA"


def test_a_truncated_frame_and_the_peer_leaves(pix: PixServer) -> None:
    with pix.peer() as peer:
        peer.send_raw(SB + VALID[:40])
    assert still_serving(pix)


def test_a_10_mb_message_closes_the_connection(pix: PixServer) -> None:
    huge = VALID.replace("MÜLLER".encode(), b"X" * (10 * 1024 * 1024))
    with pix.peer() as peer:
        # the PIX Manager may close while we are still sending
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            peer.send_raw(SB + huge + EB + CR)
        assert peer.closed_by_peer()
    assert still_serving(pix)


def test_a_peer_that_connects_and_vanishes(pix: PixServer) -> None:
    sock = socket.create_connection(("127.0.0.1", pix.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # reset
    assert still_serving(pix)


def test_many_bad_messages_on_one_connection(pix: PixServer) -> None:
    with Mllp(pix.port) as peer:
        for message, code, _errors in CASES.values():
            assert msa_code(peer.send(message)) == code
    assert still_serving(pix)


def test_nothing_of_the_bad_messages_is_stored(tmp_path: Path) -> None:
    with running_pix(f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path) as pix, pix.peer() as peer:
        for message, _code, _errors in CASES.values():
            peer.send(message)
        from pix.tables import patient

        with pix.store.read() as conn:
            assert conn.execute(patient.select()).first() is None

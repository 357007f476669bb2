"""MLLP (HL7 v2.5 Appendix C.4): the sans-IO decoder, and the asyncio server with real socket clients."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xds.hl7v2 import Hl7Error, build_ack, parse_patient_feed
from xds.mllp import (
    AsyncMllpClient,
    MllpClient,
    MllpDecoder,
    MllpError,
    MllpHandler,
    MllpServer,
    frame,
    serve_mllp,
)

SB, EB, CR = b"\x0b", b"\x1c", b"\r"

# message content never holds the block characters (HL7 v2.5 Appendix C.4)
payloads = st.binary(max_size=300).map(lambda data: data.replace(SB, b"").replace(EB, b""))
garbage = st.binary(max_size=20).map(lambda data: data.replace(SB, b"").replace(EB, b""))


def chunked(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    for start, end in zip(points, points[1:], strict=False):
        yield data[start:end]


def decode_all(decoder: MllpDecoder, chunks: Iterator[bytes]) -> list[bytes]:
    return [message for chunk in chunks for message in decoder.feed(chunk)]


# ---------------------------------------------------------------------------------------------------
# framing and decoder


def test_frame_wraps_in_start_and_end_block() -> None:
    assert frame(b"MSH|^~\\&|A\r") == b"\x0bMSH|^~\\&|A\r\x1c\r"


@pytest.mark.parametrize("bad", [b"a\x1cb", b"a\x0bb"])
def test_frame_refuses_block_characters_in_the_message(bad: bytes) -> None:
    with pytest.raises(MllpError):
        frame(bad)


@given(messages=st.lists(payloads, max_size=6), cuts=st.lists(st.integers(min_value=0), max_size=30))
def test_decoder_any_chunking(messages: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(message) for message in messages)
    decoder = MllpDecoder()
    assert decode_all(decoder, chunked(stream, cuts)) == messages
    assert not decoder.in_frame
    assert decoder.discarded_bytes == 0


@given(
    pairs=st.lists(st.tuples(garbage, payloads), max_size=5),
    tail=garbage,
    cuts=st.lists(st.integers(min_value=0), max_size=30),
)
def test_decoder_drops_bytes_between_frames(
    pairs: list[tuple[bytes, bytes]], tail: bytes, cuts: list[int]
) -> None:
    stream = b"".join(junk + frame(message) for junk, message in pairs) + tail
    decoder = MllpDecoder()
    assert decode_all(decoder, chunked(stream, cuts)) == [message for _, message in pairs]
    assert decoder.discarded_bytes == sum(len(junk) for junk, _ in pairs) + len(tail)


def test_decoder_one_byte_at_a_time() -> None:
    stream = frame(b"first") + b"\n" + frame(b"second")
    decoder = MllpDecoder()
    assert decode_all(decoder, (stream[i : i + 1] for i in range(len(stream)))) == [b"first", b"second"]


def test_strict_decoder_raises_on_bytes_outside_a_frame() -> None:
    decoder = MllpDecoder(strict=True)
    assert decoder.feed(frame(b"one")) == [b"one"]
    with pytest.raises(MllpError):
        decoder.feed(b"\n" + frame(b"two"))


def test_end_block_without_carriage_return() -> None:
    assert MllpDecoder().feed(b"\x0bA\x1c\x0bB\x1c\r") == [b"A", b"B"]
    with pytest.raises(MllpError):
        MllpDecoder(strict=True).feed(b"\x0bA\x1c\x0bB\x1c\r")


def test_start_block_inside_a_frame_restarts_it() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(b"\x0bcut off\x0bwhole\x1c\r") == [b"whole"]
    assert decoder.discarded_bytes == len(b"\x0bcut off")
    with pytest.raises(MllpError):
        MllpDecoder(strict=True).feed(b"\x0bcut off\x0bwhole\x1c\r")


def test_empty_message() -> None:
    assert MllpDecoder().feed(frame(b"")) == [b""]


def test_in_frame_tracks_an_open_frame() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(b"\x0bMSH|") == []
    assert decoder.in_frame
    assert decoder.feed(b"\x1c") == [b"MSH|"]
    assert not decoder.in_frame


def test_frame_of_exactly_the_limit_passes() -> None:
    assert MllpDecoder(max_message_bytes=10).feed(frame(b"x" * 10)) == [b"x" * 10]


@given(cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_oversize_frame_raises_however_chunked(cuts: list[int]) -> None:
    decoder = MllpDecoder(max_message_bytes=10)
    with pytest.raises(MllpError):
        decode_all(decoder, chunked(frame(b"x" * 11), cuts))


def test_oversize_frame_raises_before_its_end_arrives() -> None:
    decoder = MllpDecoder(max_message_bytes=100)
    decoder.feed(SB + b"x" * 60)
    with pytest.raises(MllpError):
        decoder.feed(b"x" * 60)


def test_default_limit_is_16_mib() -> None:
    assert MllpDecoder().max_message_bytes == 16 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------
# server on a loopback port, clients on real sockets

calls: list[tuple[bytes, str | None]] = []


async def echo_handler(message: bytes, peer: str | None) -> bytes:
    """Answers ``ACK:<message>``; fails on messages starting with FAIL."""
    calls.append((message, peer))
    if message.startswith(b"FAIL"):
        raise RuntimeError("handler failure for the test")
    return b"ACK:" + message


class ServerThread:
    """An MllpServer on its own event loop in a thread, so tests can use blocking sockets."""

    def __init__(self, handler: MllpHandler, **options: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        start = serve_mllp(handler, "127.0.0.1", 0, **options)
        self.server: MllpServer = asyncio.run_coroutine_threadsafe(start, self.loop).result(10)
        self.port = self.server.port

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def server() -> Iterator[ServerThread]:
    calls.clear()
    running = ServerThread(echo_handler, max_message_bytes=1024)
    yield running
    running.close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def receive(sock: socket.socket, count: int) -> bytes:
    """Read until ``count`` end blocks arrived (no decoder: the raw bytes are checked)."""
    data = b""
    while data.count(EB + CR) < count:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def receive_eof(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_several_messages_on_one_connection(server: ServerThread) -> None:
    with connect(server.port) as sock:
        for n in range(3):
            sock.sendall(frame(b"MSG%d" % n))
            assert receive(sock, 1) == frame(b"ACK:MSG%d" % n)
    assert [message for message, _ in calls] == [b"MSG0", b"MSG1", b"MSG2"]


def test_several_messages_in_one_write_answered_in_order(server: ServerThread) -> None:
    messages = [b"MSH|%d" % n for n in range(5)]
    with connect(server.port) as sock:
        sock.sendall(b"".join(frame(message) for message in messages))
        assert receive(sock, 5) == b"".join(frame(b"ACK:" + message) for message in messages)


def test_slow_client_a_byte_at_a_time(server: ServerThread) -> None:
    stream = frame(b"MSH|^~\\&|SLOW|SENDER") + frame(b"second")
    with connect(server.port) as sock:
        for i in range(len(stream)):
            sock.sendall(stream[i : i + 1])
        assert receive(sock, 2) == frame(b"ACK:MSH|^~\\&|SLOW|SENDER") + frame(b"ACK:second")


def test_garbage_between_frames_is_ignored(server: ServerThread) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"\r\n" + frame(b"one") + b"\n\n" + frame(b"two"))
        assert receive(sock, 2) == frame(b"ACK:one") + frame(b"ACK:two")


def test_handler_sees_the_peer_address(server: ServerThread) -> None:
    with connect(server.port) as sock:
        sock.sendall(frame(b"who"))
        receive(sock, 1)
        host, port = sock.getsockname()[:2]
    assert calls == [(b"who", f"{host}:{port}")]


def test_disconnect_mid_frame_does_not_stop_the_server(server: ServerThread) -> None:
    with connect(server.port) as sock:
        sock.sendall(SB + b"MSH|^~\\&|half a mess")
    with connect(server.port) as sock:
        sock.sendall(frame(b"next"))
        assert receive(sock, 1) == frame(b"ACK:next")
    assert [message for message, _ in calls] == [b"next"]


def test_handler_exception_closes_that_connection_only(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="xds.mllp.server")
    with connect(server.port) as sock:
        sock.sendall(frame(b"FAIL please"))
        assert receive_eof(sock) == b""
    assert any(record.exc_info for record in caplog.records)
    with connect(server.port) as sock:
        sock.sendall(frame(b"after"))
        assert receive(sock, 1) == frame(b"ACK:after")


def test_oversize_message_closes_the_connection(server: ServerThread) -> None:
    with connect(server.port) as sock:
        sock.sendall(frame(b"x" * 2000))
        assert receive_eof(sock) == b""
    assert calls == []
    with connect(server.port) as sock:
        sock.sendall(frame(b"small"))
        assert receive(sock, 1) == frame(b"ACK:small")


def test_blocking_client_keeps_its_connection(server: ServerThread) -> None:
    with MllpClient("127.0.0.1", server.port, timeout=10) as client:
        assert client.send(b"a") == b"ACK:a"
        assert client.send(b"b", timeout=10) == b"ACK:b"
    assert len({peer for _, peer in calls}) == 1


def test_blocking_client_reports_a_closed_connection(server: ServerThread) -> None:
    with MllpClient("127.0.0.1", server.port, timeout=10) as client:
        with pytest.raises(MllpError):
            client.send(b"FAIL")
        assert client.send(b"again") == b"ACK:again"  # reconnects


def test_async_client(server: ServerThread) -> None:
    async def exchange() -> list[bytes]:
        async with AsyncMllpClient("127.0.0.1", server.port, timeout=10) as client:
            return [await client.send(b"one"), await client.send(b"two")]

    assert asyncio.run(exchange()) == [b"ACK:one", b"ACK:two"]


def test_idle_connection_is_closed() -> None:
    running = ServerThread(echo_handler, idle_timeout=0.2)
    try:
        with connect(running.port) as sock:
            sock.sendall(frame(b"hello"))
            assert receive(sock, 1) == frame(b"ACK:hello")
            assert receive_eof(sock) == b""
    finally:
        running.close()


def test_close_ends_open_connections() -> None:
    running = ServerThread(echo_handler)
    with connect(running.port) as sock:
        sock.sendall(frame(b"hello"))
        assert receive(sock, 1) == frame(b"ACK:hello")
        running.close()
        try:
            rest = receive_eof(sock)
        except ConnectionResetError:
            rest = b""
    assert rest == b""


def test_server_and_client_in_one_event_loop() -> None:
    async def scenario() -> bytes:
        async with MllpServer(echo_handler) as listener:
            client = AsyncMllpClient("127.0.0.1", listener.port, timeout=10)
            try:
                return await client.send(b"same loop")
            finally:
                await client.close()

    assert asyncio.run(scenario()) == b"ACK:same loop"


# ---------------------------------------------------------------------------------------------------
# the way the registry uses it: parse the ITI-8 feed, answer with an ACK


async def feed_handler(message: bytes, peer: str | None) -> bytes:
    try:
        feed = parse_patient_feed(message)
    except Hl7Error as error:
        return build_ack(message, error.ack_code, error=error)
    return build_ack(feed, "AA")


def test_patient_feed_over_mllp() -> None:
    running = ServerThread(feed_handler)
    good = (
        b"MSH|^~\\&|KIS|KLINIKUM|XDS|DOMAIN|20240315101500||ADT^A01|C1|P|2.3.1\r"
        b"PID|||4711^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO||DOE^JANE\r"
    )
    try:
        with MllpClient("127.0.0.1", running.port, timeout=10) as client:
            accepted = client.send(good).split(b"\r")
            rejected = client.send(good.replace(b"ADT^A01", b"ADT^A03")).split(b"\r")
    finally:
        running.close()
    assert accepted[1] == b"MSA|AA|C1"
    assert rejected[1].startswith(b"MSA|AR|C1|")

"""MLLP clients: ``MllpClient`` (blocking socket) and ``AsyncMllpClient`` (asyncio streams).

Both keep one connection for many request/reply exchanges (HL7 v2.5 Appendix C.4) and connect lazily
on the first ``send``. A reply is the next complete frame; a connection closed before it arrives, or a
framing error, raises ``MllpError``; a timeout raises ``TimeoutError``. After an error the connection
is closed (the stream is out of step), and the next ``send`` opens a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from ssl import SSLContext

from xds.audit.trail import current as current_trail
from xds.mllp.framing import DEFAULT_MAX_MESSAGE_BYTES, MllpDecoder, MllpError, frame

_READ_CHUNK_BYTES = 64 * 1024


def _sent(message: bytes, reply: bytes, host: str, port: int) -> None:
    """ITI-20: the initiator's record of a message the peer answered (ITI-8 sent by the Patient Identity
    Source, ITI-10 by the PIX Manager; xds.audit, nothing without a trail). A message without a reply is
    not recorded here: it is sent again, and recorded once answered."""
    trail = current_trail()
    if trail is not None:
        trail.hl7(message, reply, host, f"{host}:{port}", initiator=True)


class MllpClient:
    """Blocking MLLP client; use as a context manager or call ``close()``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None = 30.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        ssl: SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.ssl = ssl  # TLS (ATNA node authentication, xds.tls.client_context) or plain TCP
        self._max_message_bytes = max_message_bytes
        self._sock: socket.socket | None = None
        self._decoder = MllpDecoder(max_message_bytes)
        self._replies: deque[bytes] = deque()

    def connect(self) -> None:
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl is not None:
                try:
                    sock = self.ssl.wrap_socket(sock, server_hostname=self.host)
                except BaseException:
                    sock.close()
                    raise
            self._sock = sock
            self._decoder = MllpDecoder(self._max_message_bytes)
            self._replies.clear()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> MllpClient:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: bytes, timeout: float | None = None) -> bytes:
        """Send one message and return the (unframed) reply; ``timeout`` overrides the default."""
        framed = frame(message)
        self.connect()
        sock = self._sock
        assert sock is not None
        try:
            sock.settimeout(self.timeout if timeout is None else timeout)
            sock.sendall(framed)
            while not self._replies:
                data = sock.recv(_READ_CHUNK_BYTES)
                if not data:
                    raise MllpError("connection closed before the reply arrived")
                self._replies.extend(self._decoder.feed(data))
        except BaseException:
            self.close()
            raise
        reply = self._replies.popleft()
        _sent(message, reply, self.host, self.port)
        return reply


class AsyncMllpClient:
    """asyncio MLLP client; use as an async context manager or call ``await close()``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None = 30.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        ssl: SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.ssl = ssl
        self._max_message_bytes = max_message_bytes
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = MllpDecoder(max_message_bytes)
        self._replies: deque[bytes] = deque()

    async def connect(self) -> None:
        if self._writer is None:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.host if self.ssl is not None else None,
                ),
                self.timeout,
            )
            self._decoder = MllpDecoder(self._max_message_bytes)
            self._replies.clear()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def __aenter__(self) -> AsyncMllpClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send(self, message: bytes, timeout: float | None = None) -> bytes:
        """Send one message and return the (unframed) reply; ``timeout`` overrides the default."""
        framed = frame(message)
        await self.connect()
        try:
            limit = self.timeout if timeout is None else timeout
            reply = await asyncio.wait_for(self._exchange(framed), limit)
        except BaseException:
            await self.close()
            raise
        _sent(message, reply, self.host, self.port)
        return reply

    async def _exchange(self, framed: bytes) -> bytes:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        writer.write(framed)
        await writer.drain()
        while not self._replies:
            data = await reader.read(_READ_CHUNK_BYTES)
            if not data:
                raise MllpError("connection closed before the reply arrived")
            self._replies.extend(self._decoder.feed(data))
        return self._replies.popleft()

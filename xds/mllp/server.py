"""MLLP server on asyncio streams: many messages per connection, each answered in order.

hl7apy's MLLP server reads a byte at a time and closes after one message (DESIGN, "Dependencies");
this one reads in chunks and keeps the connection open for as long as the sender wants.

Contract for ``handler(message, peer) -> reply``: it receives one unframed message and returns the
unframed reply. Turning bad messages into AE/AR ACKs is the handler's job (``xds.hl7v2.build_ack``).
An exception escaping the handler is logged and the connection closed without a reply, so the sender
never takes an unanswered message as accepted and can resend it; the server goes on serving.
A frame over ``max_message_bytes`` also closes the connection; so does ``idle_timeout`` seconds without
data (default: none), which frees connections whose peer vanished without closing them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from ssl import SSLContext

from xds.audit.trail import current as current_trail
from xds.mllp.framing import DEFAULT_MAX_MESSAGE_BYTES, MllpDecoder, MllpError, frame
from xds.streams import READ_CHUNK_BYTES, StreamServer

log = logging.getLogger(__name__)


MllpHandler = Callable[[bytes, str | None], Awaitable[bytes]]



class MllpServer(StreamServer):
    """An MLLP listener; ``await start()``, read ``port``, ``await close()`` (or ``async with``)."""

    def __init__(
        self,
        handler: MllpHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        idle_timeout: float | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        super().__init__(host, port, ssl)
        self._handler = handler
        self._idle_timeout = idle_timeout
        self._max_message_bytes = max_message_bytes

    async def start(self) -> None:
        await super().start()
        log.info("MLLP server listening on %s:%d", self._host, self.port)

    async def __aenter__(self) -> MllpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _audit(self, message: bytes, reply: bytes, writer: asyncio.StreamWriter) -> None:
        """ITI-20: the node's record of the message it answered (xds.audit; nothing without a trail)."""
        trail = current_trail()
        if trail is not None:
            peer = writer.get_extra_info("peername")
            host = peer[0] if isinstance(peer, tuple) else None
            trail.hl7(message, reply, host, f"{self._host}:{self.port}")

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str | None
    ) -> None:
        decoder = MllpDecoder(self._max_message_bytes)
        while True:
            try:
                data = await asyncio.wait_for(reader.read(READ_CHUNK_BYTES), self._idle_timeout)
            except TimeoutError:
                log.info("MLLP peer %s idle for %s s; closing the connection", peer, self._idle_timeout)
                return
            except OSError:
                return
            if not data:
                if decoder.in_frame:
                    log.warning("MLLP peer %s disconnected in the middle of a message", peer)
                return
            try:
                messages = decoder.feed(data)
            except MllpError as exc:
                log.warning("MLLP framing error from %s: %s; closing the connection", peer, exc)
                return
            for message in messages:
                try:
                    reply = await self._handler(message, peer)
                    framed = frame(reply)
                except Exception:
                    log.exception("MLLP handler failed for a message from %s; closing the connection", peer)
                    return
                self._audit(message, reply, writer)
                writer.write(framed)
                try:
                    await writer.drain()
                except OSError:
                    return


async def serve_mllp(
    handler: MllpHandler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    idle_timeout: float | None = None,
) -> MllpServer:
    """Start an ``MllpServer`` and return it (listening; ``server.port`` is the bound port)."""
    server = MllpServer(handler, host, port, max_message_bytes=max_message_bytes, idle_timeout=idle_timeout)
    await server.start()
    return server

"""The Audit Record Repository's listeners: syslog over TLS (RFC 5425; plain TCP with the same framing when
the node has no TLS settings) and over UDP (RFC 5426). Each message is parsed (xds.audit.syslog) and handed
to ``handler``; a stream that breaks the framing is closed, a datagram that is not syslog is dropped, and
the listeners go on serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from ssl import SSLContext

from xds.audit import syslog
from xds.audit.store import Received
from xds.streams import READ_CHUNK_BYTES, StreamServer, peer_name

log = logging.getLogger(__name__)

Handler = Callable[[Received], Awaitable[None]]
IDLE_SECONDS = 600.0


def _received(data: bytes, peer: str, transport: str) -> Received | None:
    try:
        record = syslog.parse(data)
    except syslog.SyslogError as exc:
        log.warning("audit: not a syslog message from %s (%s); dropped", peer, exc)
        return None
    return Received(peer, transport, record.hostname if record.hostname != "-" else None, record.msg)


class StreamListener(StreamServer):
    def __init__(self, handler: Handler, host: str, port: int, ssl: SSLContext | None = None) -> None:
        super().__init__(host, port, ssl)
        self._handler = handler

    @property
    def transport(self) -> str:
        return "tls" if self._ssl is not None else "tcp"

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str | None
    ) -> None:
        decoder = syslog.FrameDecoder()
        try:
            # a node keeps its connection between records; one silent for IDLE_SECONDS is let go
            while data := await asyncio.wait_for(reader.read(READ_CHUNK_BYTES), IDLE_SECONDS):
                for message in decoder.feed(data):
                    received = _received(message, peer or "?", self.transport)
                    if received is not None:
                        await self._handler(received)
        except syslog.SyslogError as exc:
            # RFC 5425 4.3: without a valid length the stream cannot be resynchronised
            log.warning("audit: broken syslog framing from %s (%s); closing", peer, exc)
        except (TimeoutError, ConnectionError, OSError):
            pass
        except Exception:
            log.exception("audit: cannot store a record from %s; closing the connection", peer)


class DatagramListener(asyncio.DatagramProtocol):
    def __init__(self, handler: Handler, host: str, port: int) -> None:
        self._handler = handler
        self._host, self._port = host, port
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self._host, self._port)
        )

    @property
    def port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        # RFC 5426 3.1: one syslog message per datagram
        received = _received(data, peer_name(addr) or "?", "udp")
        if received is not None:
            task = asyncio.get_running_loop().create_task(self._handler(received))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        await asyncio.gather(*self._pending, return_exceptions=True)

"""An asyncio stream listener that keeps track of its connections: what the MLLP listener and the audit
repository's syslog listener share. Plain TCP or TLS (ATNA ITI-19: with TLS, a peer without a trusted
certificate fails the handshake and never reaches ``serve``; one that stalls it is dropped after
HANDSHAKE_TIMEOUT). ``close`` stops listening, cancels the open connections and waits until they are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from ssl import SSLContext

from xds.tls import HANDSHAKE_TIMEOUT, SHUTDOWN_TIMEOUT

READ_CHUNK_BYTES = 64 * 1024


def peer_name(address: object) -> str | None:
    """``host:port`` of a peer address (asyncio's ``peername``)."""
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return None if address is None else str(address)


class StreamServer:
    """Subclasses implement ``serve(reader, writer, peer)`` for one connection."""

    def __init__(self, host: str, port: int, ssl: SSLContext | None = None) -> None:
        self._host = host
        self._requested_port = port
        self._ssl = ssl
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._server = await asyncio.start_server(
            self._on_connection,
            self._host,
            self._requested_port,
            limit=READ_CHUNK_BYTES,
            ssl=self._ssl,
            ssl_handshake_timeout=HANDSHAKE_TIMEOUT if self._ssl is not None else None,
            ssl_shutdown_timeout=SHUTDOWN_TIMEOUT if self._ssl is not None else None,
        )

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError(f"{type(self).__name__} not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str | None
    ) -> None:
        raise NotImplementedError

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # answers are small and go out at once: do not let Nagle hold them back
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await self.serve(reader, writer, peer_name(writer.get_extra_info("peername")))
        except asyncio.CancelledError:
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

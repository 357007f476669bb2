"""The built-in Audit Record Repository (``xds serve audit``, part of ``xds up``): syslog over TLS and UDP in,
records into the database, searched with ``xds audit``."""

from __future__ import annotations

import anyio.to_thread

from xds.audit.receiver import DatagramListener, StreamListener
from xds.audit.sender import Destination
from xds.audit.store import AuditStore, Received
from xds.audit.trail import current
from xds.config import Settings
from xds.runtime import ActorService, local_host
from xds.tls import server_context


def service(settings: Settings) -> ActorService:
    store = AuditStore(settings.effective_database_url)

    async def handle(received: Received) -> None:
        await anyio.to_thread.run_sync(store.add, received)

    tls = server_context(settings)
    stream = StreamListener(handle, settings.http_host, settings.audit_tls_port, ssl=tls)
    datagrams = DatagramListener(handle, settings.http_host, settings.audit_udp_port)

    async def start() -> None:
        await stream.start()
        await datagrams.start()
        trail = current()
        if trail is not None and not settings.audit_repository:
            # `xds up`: the node's own records go to this repository unless another is configured
            scheme = "tls" if tls is not None else "tcp"
            trail.sender.deliver_to(Destination(scheme, local_host(settings), stream.port))

    async def stop() -> None:
        await stream.close()
        await datagrams.close()
        store.close()

    kind = "TLS (RFC 5425)" if tls is not None else "TCP, RFC 5425 framing without TLS"
    return ActorService(
        name="audit",
        startup=[start],
        shutdown=[stop],
        endpoints=[
            f"syslog {settings.http_host}:{settings.audit_tls_port}  ITI-20 over {kind}",
            f"syslog {settings.http_host}:{settings.audit_udp_port}  ITI-20 over UDP (RFC 5426)",
        ],
    )


"""A test PKI for the TLS tests (ITI-19): the domain's CA, a node, a trusted peer, one signed by another CA
and one whose certificate ran out yesterday; and an MllpServer on its own event loop thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from xds.certs import Authority, write_node
from xds.mllp import MllpServer
from xds.tls import TlsConfig

REFUSED = ["no certificate", "untrusted", "expired"]


@dataclass(frozen=True)
class Pki:
    folder: Path
    node: TlsConfig  # the server node
    client: TlsConfig  # a trusted peer
    untrusted: TlsConfig  # a peer whose certificate another CA signed
    expired: TlsConfig  # a peer of the domain's CA whose certificate ran out yesterday

    def refused(self, kind: str) -> TlsConfig | None:
        """The peer of one of REFUSED (None: one without a certificate)."""
        return {"no certificate": None, "untrusted": self.untrusted, "expired": self.expired}[kind]

    def client_context(self, who: TlsConfig | None) -> ssl.SSLContext:
        """A client context trusting the domain's CA and presenting ``who``'s certificate (None: none)."""
        if who is not None:
            return who.client_context()
        return ssl.create_default_context(cafile=str(self.node.ca))


def make_pki(folder: Path, node: str, client: str) -> Pki:
    """The PEM files under ``folder``; ``node`` and ``client`` name the two trusted certificates."""
    ca, other = Authority.create(), Authority.create("another CA")
    write_node(folder, "ca", ca.certificate, ca.key)
    write_node(folder, "node", *ca.issue(node))
    write_node(folder, "client", *ca.issue(client))
    write_node(folder, "untrusted", *other.issue("intruder"))
    now = dt.datetime.now(dt.UTC)
    write_node(folder, "expired", *ca.issue("old", not_before=now - dt.timedelta(days=30),
                                            not_after=now - dt.timedelta(days=1)))

    def config(name: str) -> TlsConfig:
        return TlsConfig(folder / f"{name}.pem", folder / f"{name}-key.pem", folder / "ca.pem")

    return Pki(folder, config("node"), config("client"), config("untrusted"), config("expired"))


class ThreadedMllp:
    """An MllpServer answering with ``handler`` on its own event loop thread, for the time of a ``with``."""

    def __init__(
        self, handler: Callable[[bytes, str | None], Awaitable[bytes]], ssl: ssl.SSLContext | None = None
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = MllpServer(handler, ssl=ssl)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedMllp:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

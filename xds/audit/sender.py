"""The node's side of ITI-20 Record Audit Event: every record goes to a persistent outbox first, and a
background thread delivers the outbox to the Audit Record Repository in order. Recording only queues the
record; a writer thread encodes the queued records and stores them in the outbox, a batch per commit (a
crash of the process loses at most the records of its last moment that were still queued).

ITI TF-2a 3.20.4.1: a node must not lose audit records while the repository is unreachable; the outbox
(an SQLite file of its own in ``data_dir``, so it works while the main database does not) keeps them
until a send succeeds. Over TLS (RFC 5425) a record leaves the outbox once the TLS layer took it; over UDP
(RFC 5426) once the datagram is sent, which is all UDP can say. A crash between sending and deleting sends
that record again. A connection the repository closed is noticed before the next write and opened anew;
RFC 5425 has no acknowledgement, so records written in the instant the repository dies can still be lost.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from xds.audit import syslog
from xds.audit.message import AuditMessage
from xds.config import ConfigError

log = logging.getLogger(__name__)

BATCH = 100
LINGER_SECONDS = 0.02
Builder = Callable[[], Iterable[AuditMessage]]  # makes a transaction's records later, on the writer thread
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
UDP_MAX_BYTES = 65_000  # RFC 5426 3.2: a datagram carries one message


@dataclass(frozen=True)
class Destination:
    scheme: str  # "tls" (RFC 5425), "tcp" (the same framing without TLS, a test bench) or "udp" (RFC 5426)
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Destination:
        parts = urlsplit(text)
        if parts.scheme not in ("tls", "tcp", "udp") or not parts.hostname or parts.port is None:
            raise ConfigError(f"audit_repository: {text!r} is not tls://, tcp:// or udp://host:port")
        return cls(parts.scheme, parts.hostname, parts.port)


class Outbox:
    """Records not yet delivered, oldest first (an SQLite file; several processes may share it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a crash of the process; only an OS crash or power loss can
            # take back the last commits (an fsync per record would cost every transaction a disk flush)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, message BLOB NOT NULL)"
            )

    def put(self, messages: list[bytes]) -> None:
        """Store ``messages`` in one transaction (one commit for a batch)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO outbox (message) VALUES (?)", [(m,) for m in messages])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def oldest(self, limit: int) -> list[tuple[int, bytes]]:
        with self._lock:
            return list(self._db.execute("SELECT seq, message FROM outbox ORDER BY seq LIMIT ?", (limit,)))

    def remove(self, seqs: list[int]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class AuditSender:
    """``record`` puts a message in the outbox; a daemon thread delivers to ``destination``."""

    def __init__(
        self,
        outbox: Outbox,
        destination: Destination | None,
        *,
        hostname: str,
        app_name: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.outbox = outbox
        self.destination = destination
        self.hostname = hostname
        self.app_name = app_name
        self._tls = tls
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._queued: queue.Queue[AuditMessage | Builder | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name="audit-writer", daemon=True)
        self._writer.start()

    def record(self, message: AuditMessage | Builder) -> None:
        """Queue ``message``, or a builder of messages to run later; the writer thread builds, encodes and
        stores them in the outbox within moments (a batch per commit), so that recording costs the
        transaction almost nothing."""
        self._queued.put(message)

    def _write(self) -> None:
        while True:
            batch = [self._queued.get()]
            # what else arrives in this moment goes in the same commit: under load a commit per record
            # cost more than the record (no wait when a batch is waiting already)
            if self._queued.qsize() < BATCH - 1:
                time.sleep(LINGER_SECONDS)
            while len(batch) < BATCH and not self._queued.empty():
                batch.append(self._queued.get_nowait())
            stop = None in batch
            encoded = []
            for message in _built(batch):
                try:
                    encoded.append(syslog.encode(message.to_xml(), hostname=self.hostname,
                                                 app_name=self.app_name, procid=str(os.getpid()),
                                                 time=message.time))
                except Exception:
                    log.exception("audit: cannot encode a record")
            try:
                if encoded:
                    self.outbox.put(encoded)
            except Exception:
                log.exception("audit: cannot store %d records in the outbox", len(encoded))
            for _ in batch:
                self._queued.task_done()
            self._wake.set()
            if stop:
                return

    def deliver_to(self, destination: Destination) -> None:
        """Deliver the outbox (from now on) to ``destination``."""
        self.destination = destination
        self.start()

    def start(self) -> None:
        if self.destination is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="audit-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what can be delivered within ``timeout``, then stop; the rest stays in the outbox."""
        self._queued.put(None)
        self._writer.join(timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return  # still in a send or connect: it ends on its own, and closes nothing under it
            self._thread = None
        self._disconnect()
        self.outbox.close()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record is delivered (True) or ``timeout`` passed (False)."""
        deadline = time.monotonic() + timeout
        while self._queued.unfinished_tasks or len(self.outbox):
            if time.monotonic() > deadline:
                return False
            self._wake.set()
            time.sleep(0.02)
        return True

    def _run(self) -> None:
        failures = 0
        while True:
            try:
                batch = self.outbox.oldest(BATCH)
                if not batch:
                    if self._stop.is_set():
                        return
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                self._send([message for _seq, message in batch])
                self.outbox.remove([seq for seq, _message in batch])
                failures = 0
            except Exception as exc:  # the repository, the network or the outbox: try again later
                self._disconnect()
                if self._stop.is_set():
                    return
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("audit records not delivered to %s (%s); retry in %s s", self.destination, exc,
                            delay)
                self._stop.wait(delay)

    def _send(self, messages: list[bytes]) -> None:
        assert self.destination is not None
        if self.destination.scheme == "udp":
            with socket.socket(_family(self.destination.host), socket.SOCK_DGRAM) as sock:
                for message in messages:
                    sock.sendto(message[:UDP_MAX_BYTES], (self.destination.host, self.destination.port))
            return
        if self._sock is not None and _closed_by_peer(self._sock):
            self._disconnect()
        if self._sock is None:
            host = self.destination.host
            sock = socket.create_connection((host, self.destination.port), timeout=10)
            self._sock = self._tls.wrap_socket(sock, server_hostname=host) if self._tls else sock
        self._sock.sendall(b"".join(syslog.frame(m) for m in messages))

    def _disconnect(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


def _built(batch: list[AuditMessage | Builder | None]) -> Iterator[AuditMessage]:
    for item in batch:
        if isinstance(item, AuditMessage):
            yield item
        elif item is not None:
            try:
                yield from item()
            except Exception:
                log.exception("audit: cannot build a record")


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether the repository closed the connection: it never sends us data, so readable means closed,
    except for TLS 1.3 session tickets, which the TLS layer takes without giving us a byte."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False  # only TLS handshake messages were waiting
    except OSError:
        return True
    finally:
        sock.settimeout(10)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET

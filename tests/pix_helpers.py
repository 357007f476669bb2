"""A running PIX Manager for the tests, raw MLLP peers and the HL7 messages the tests send.

The PIX Manager runs as in production (pix.service under uvicorn's lifespan, a real database, its MLLP
listener on a free loopback port); tests talk to it over raw sockets and read its tables with a second
``PixStore`` on the same database.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from registry_helpers import free_port
from soap_helpers import serving

from pix.service import service
from pix.store import PixStore, outbox_rows
from xds.config import Settings
from xds.mllp import MllpServer

DOMAIN = "1.3.6.1.4.1.21367.2005.13.20.1000"  # the affinity domain (Settings default)
KIS = "1.2.276.0.76.3.1.99.1"  # a hospital's patient ID domain
RIS = "1.2.276.0.76.3.1.99.2"  # a radiology system's
SB, EB, CR = b"\x0b", b"\x1c", b"\r"


@dataclass
class PixServer:
    port: int
    store: PixStore  # a second connection pool on the same database, for checks

    def outbox(self, target: str | None = None) -> list[Any]:
        with self.store.read() as conn:
            return outbox_rows(conn, target)

    def peer(self) -> Mllp:
        return Mllp(self.port)


@contextmanager
def running_pix(
    database_url: str,
    data_dir: Path,
    registry: str = "",
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> Iterator[PixServer]:
    """The PIX Manager on a free port; ``registry`` "host:port" to feed one ("" feeds none); ``options`` are
    its ``[pix]`` section, ``settings`` further ``Settings`` fields."""
    port = free_port()
    pix_options = {"retry_seconds": 0.2, "send_timeout": 5, "registry": registry, **options}
    config = Settings(
        data_dir=data_dir,
        database_url=database_url,
        pix_mllp_port=port,
        extra={"pix": pix_options},
        **(settings or {}),
    )
    actor = service(config)
    store = PixStore.open(database_url)
    try:
        with serving(_app(actor)):
            yield PixServer(port, store)
    finally:
        store.close()


def _app(actor: Any) -> Any:
    from xds.runtime import services_app

    return services_app([actor])


class Mllp:
    """A raw MLLP peer: frames by hand, reads until the end block; replies as bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> bytes:
        while EB + CR not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed without a reply")
            self.buffer += chunk
        frame, _, self.buffer = self.buffer.partition(EB + CR)
        assert frame.startswith(SB)
        return frame[1:]

    def send(self, message: bytes) -> bytes:
        self.send_raw(SB + message + EB + CR)
        return self.receive()

    def closed_by_peer(self) -> bool:
        """True when the other side closed the connection (reads EOF)."""
        try:
            return self.sock.recv(65536) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Mllp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def segments(reply: bytes, encoding: str = "utf-8") -> list[list[str]]:
    return [line.split("|") for line in reply.decode(encoding).split("\r") if line]


def segment(reply: bytes, name: str, encoding: str = "utf-8") -> list[str]:
    found = [s for s in segments(reply, encoding) if s[0] == name]
    assert found, f"no {name} in {reply!r}"
    return found[0]


def all_of(reply: bytes, name: str, encoding: str = "utf-8") -> list[list[str]]:
    return [s for s in segments(reply, encoding) if s[0] == name]


def field(fields: list[str], n: int) -> str:
    """Field n of a segment split on '|' (for MSH, as HL7 counts: MSH-9 is fields[8])."""
    index = n - 1 if fields[0] == "MSH" else n
    return fields[index] if index < len(fields) else ""


def msa_code(reply: bytes) -> str:
    return segment(reply, "MSA", "latin-1")[1]


def err_codes(reply: bytes) -> list[tuple[str, str]]:
    """(location, code) of each ERR segment: v2.5 ERR-2 and ERR-3, or v2.3.1 ERR-1 (ELD)."""
    found = []
    for e in all_of(reply, "ERR", "latin-1"):
        if len(e) > 3:
            found.append((e[2], e[3].split("^")[0]))
        else:
            parts = e[1].split("^")
            found.append(("^".join(parts[:3]), parts[3].split("&")[0]))
    return found


def cx(id_number: str, oid: str = KIS) -> str:
    return f"{id_number}^^^&{oid}&ISO"


def adt(
    event: str,
    pid3: str | Sequence[str],
    *,
    name: str = "MÜLLER^HANS",
    birth: str = "19700101",
    sex: str = "M",
    address: str = "Hauptstraße 1^^Köln^^50667^DE",
    mrg: str | None = None,
    version: str = "2.5",
    control: str = "C1",
    charset: str | None = "UNICODE UTF-8",
) -> bytes:
    ids = pid3 if isinstance(pid3, str) else "~".join(pid3)
    structure = {"A40": "ADT_A39"}.get(event, "ADT_A01")
    msh = f"MSH|^~\\&|KIS|HOSPITAL|PIX|DOMAIN|20240115120000||ADT^{event}^{structure}|{control}|P|{version}"
    if charset is not None:
        msh += "||||||" + charset
    lines = [msh, f"EVN|{event}|20240115120000", f"PID|||{ids}||{name}||{birth}|{sex}|||{address}"]
    lines.append(f"MRG|{mrg}" if mrg is not None else "PV1||I")
    return _encode(lines, charset)


def _encode(lines: list[str], charset: str | None) -> bytes:
    codec = {"8859/1": "latin-1", "ASCII": "ascii"}.get(charset or "", "utf-8")
    return "\r".join(lines).encode(codec) + CR


def pix_query(
    pid: str, domains: Sequence[str] = (), *, tag: str = "Q1", control: str = "Q1", version: str = "2.5"
) -> bytes:
    wanted = "~".join(f"^^^&{d}&ISO" for d in domains)
    return _encode(
        [
            f"MSH|^~\\&|CONSUMER|CLINIC|PIX|DOMAIN|20240115120000||QBP^Q23^QBP_Q21|{control}|P|{version}",
            f"QPD|IHE PIX Query|{tag}|{pid}|{wanted}",
            "RCP|I",
        ],
        None,
    )


def pdq_query(
    *params: str,
    domains: Sequence[str] = (),
    quantity: int | None = None,
    pointer: str | None = None,
    tag: str = "P1",
    control: str = "P1",
    charset: str | None = "UNICODE UTF-8",
) -> bytes:
    msh = f"MSH|^~\\&|CONSUMER|CLINIC|PIX|DOMAIN|20240115120000||QBP^Q22^QBP_Q21|{control}|P|2.5"
    if charset is not None:
        msh += "||||||" + charset
    wanted = "~".join(f"^^^&{d}&ISO" for d in domains)
    lines = [
        msh,
        f"QPD|IHE PDQ Query|{tag}|{'~'.join(params)}|||||{wanted}",
        f"RCP|I|{quantity}^RD" if quantity else "RCP|I",
    ]
    if pointer:
        lines.append(f"DSC|{pointer}|I")
    return _encode(lines, charset)


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``check`` until it holds (an eventual outcome, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@dataclass
class Listener:
    """A test MLLP listener (an ITI-10 subscriber): records messages, answers AA."""

    port: int = 0
    received: list[bytes] = dataclass_field(default_factory=list)


@contextmanager
def mllp_listener(port: int = 0, answers: Sequence[str] = ()) -> Iterator[Listener]:
    """A listener on ``port`` (0: any); ``answers`` are the first replies' MSA-1, optionally with an
    ERR-3 code (``"AR:207"``), then AA."""
    listener = Listener()
    pending = list(answers)
    ready = threading.Event()
    stop: list[Callable[[], None]] = []

    async def handler(message: bytes, _peer: str | None) -> bytes:
        listener.received.append(message)
        control = message.split(b"\r")[0].split(b"|")[9].decode()
        code, _, error = (pending.pop(0) if pending else "AA").partition(":")
        err = f"ERR|||{error}^Error^HL70357|E\r" if error else ""
        msh = f"MSH|^~\\&|SUB||PIX||20240101||ACK^A01^ACK|A{control}|P|2.5\r"
        return f"{msh}MSA|{code}|{control}\r{err}".encode()

    def run() -> None:
        loop = asyncio.new_event_loop()
        server = MllpServer(handler, "127.0.0.1", port)
        loop.run_until_complete(server.start())
        listener.port = server.port
        done = asyncio.Event()
        stop.append(lambda: loop.call_soon_threadsafe(done.set))
        ready.set()
        loop.run_until_complete(done.wait())
        loop.run_until_complete(server.close())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield listener
    finally:
        stop[0]()
        thread.join(30)


@contextmanager
def registry_on(database_url: str, data_dir: Path, port: int) -> Iterator[Any]:
    """Our Document Registry (registry.service) with its ITI-8 listener on ``port``; yields its store."""
    from registry import store as registry_db
    from registry.service import service as registry_service
    from xds.runtime import services_app

    settings = Settings(data_dir=data_dir, database_url=database_url, registry_mllp_port=port)
    actor = registry_service(settings)
    store = registry_db.RegistryStore.open(database_url)
    try:
        with serving(services_app([actor])):
            yield store
    finally:
        store.close()


def registry_patient(store: Any, xad_pid: str) -> Any:
    from registry import store as registry_db

    with store.read() as conn:
        return registry_db.get_patient(conn, f"{xad_pid}^^^&{DOMAIN}&ISO")

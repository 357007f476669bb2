"""From parser events to an ``MtomMessage``: the root part in memory, attachments spooled to files.

``PartSpooler`` is sans-IO towards the network (it consumes ``MultipartParser`` events) but owns the
spool files: attachments stay in memory up to ``memory_threshold`` and go to a file in ``spool_dir`` past
it, hashed (SHA-1, the XDS ``hash`` slot) and counted while streaming. On any error every spooled file is
deleted. After ``finish()`` the files belong to the caller (``MtomMessage.discard()`` removes them).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote

import anyio.to_thread

from xds.model.attachment import Attachment
from xds.mtom.content_type import parse_content_type
from xds.mtom.errors import MtomError, MtomErrorCode
from xds.mtom.multipart import Event, MultipartParser, PartData, PartStart
from xds.mtom.transfer_encoding import Decoder, decoder_for

# XOP 1.0 / MTOM 3.2: the root is application/xop+xml; SOAP-with-attachments stacks send the plain types
ROOT_TYPES = frozenset({"application/xop+xml", "application/soap+xml", "text/xml"})


@dataclass(frozen=True)
class MtomMessage:
    root: bytes  # the XML of the root part (SOAP envelope)
    root_content_type: str  # the root part's Content-Type header as sent
    # key: Content-ID without <>; Attachment.content_type is the part's bare media type, lower-cased
    attachments: dict[str, Attachment]
    root_content_id: str | None = None

    def discard(self) -> None:
        """Delete the spooled files of the attachments (when the message is rejected after parsing)."""
        for attachment in self.attachments.values():
            if attachment.path is not None:
                attachment.path.unlink(missing_ok=True)


@dataclass
class _Part:
    content_id: str | None
    content_type: str
    is_root: bool
    decoder: Decoder
    memory: bytearray = field(default_factory=bytearray)
    file: IO[bytes] | None = None
    size: int = 0
    sha1: hashlib._Hash = field(default_factory=hashlib.sha1)


class PartSpooler:
    """Consumes parser events; the root part is kept in memory, the others become ``Attachment``s."""

    def __init__(
        self,
        spool_dir: Path,
        *,
        start: str | None,
        memory_threshold: int = 1 << 20,
        max_root_bytes: int = 16 << 20,
        memory_budget: int | None = None,
    ) -> None:
        self._spool_dir = Path(spool_dir)
        self._start = _strip_angle(start) if start else None
        self._memory_threshold = memory_threshold
        self._max_root_bytes = max_root_bytes
        # small attachments are held in memory only up to this total; the rest is spooled whatever its size
        self._memory_budget = 16 * memory_threshold if memory_budget is None else memory_budget
        self._in_memory = 0
        self._part: _Part | None = None
        self._root: tuple[bytes, str, str | None] | None = None
        self._attachments: dict[str, Attachment] = {}
        self._seen_ids: set[str] = set()
        self._spooled: list[Path] = []
        self._parts = 0

    @property
    def spilling(self) -> bool:
        """True while the current part is written to a file (callers may then hand ``handle`` to a thread)."""
        return self._part is not None and self._part.file is not None

    def handle(self, events: Iterable[Event]) -> None:
        try:
            for event in events:
                if type(event) is PartData:
                    self._data(event.data)
                elif type(event) is PartStart:
                    self._start_part(event.headers)
                else:
                    self._end_part()
        except BaseException:
            self.discard()
            raise

    def finish(self) -> MtomMessage:
        try:
            if self._part is not None:
                raise MtomError("MIME part not terminated", MtomErrorCode.TRUNCATED)
            if self._root is None:
                # XOP 1.0 3 / RFC 2387 3.2: the root part is the one named by "start", else the first
                raise MtomError("root part missing", MtomErrorCode.ROOT_MISSING)
        except MtomError:
            self.discard()
            raise
        root, root_type, root_id = self._root
        return MtomMessage(root, root_type, dict(self._attachments), root_id)

    def discard(self) -> None:
        """Delete every file spooled so far (on error)."""
        if self._part is not None and self._part.file is not None:
            self._part.file.close()
        self._part = None
        for path in self._spooled:
            path.unlink(missing_ok=True)
        self._spooled.clear()
        self._attachments.clear()

    def _start_part(self, headers: dict[str, str]) -> None:
        raw_id = headers.get("content-id")
        content_id = _strip_angle(raw_id) if raw_id is not None else None
        self._parts += 1
        # RFC 2387 3.2: "start" names the root by Content-ID; without it the root is the first part
        is_root = self._root is None and (content_id == self._start if self._start else self._parts == 1)
        if content_id is not None:
            # RFC 2045 7: Content-ID values must be unique
            if content_id in self._seen_ids:
                raise MtomError(f"duplicate Content-ID <{content_id}>", MtomErrorCode.DUPLICATE_CONTENT_ID)
            self._seen_ids.add(content_id)
        elif not is_root:
            # XOP 1.0 4.1: every extracted part is referenced through its Content-ID
            raise MtomError("MIME part without Content-ID", MtomErrorCode.MISSING_CONTENT_ID)
        raw_type = headers.get("content-type", "")
        mime = _media_type(raw_type)
        if is_root and mime not in ROOT_TYPES:
            raise MtomError(f"root part of type {mime!r}", MtomErrorCode.ROOT_CONTENT_TYPE)
        decoder = decoder_for(headers.get("content-transfer-encoding", ""))
        self._part = _Part(content_id, raw_type if is_root else mime, is_root, decoder)

    def _data(self, data: bytes) -> None:
        part = self._part
        assert part is not None
        data = part.decoder.decode(data)
        if data:
            self._write(part, data)

    def _write(self, part: _Part, data: bytes) -> None:
        part.size += len(data)
        if part.is_root:
            if part.size > self._max_root_bytes:
                raise MtomError(f"root part over {self._max_root_bytes} bytes", MtomErrorCode.ROOT_TOO_LARGE)
            part.memory += data
            return
        part.sha1.update(data)
        if part.file is None:
            if part.size <= self._memory_threshold and self._in_memory + len(data) <= self._memory_budget:
                part.memory += data
                self._in_memory += len(data)
                return
            self._spill(part)
        assert part.file is not None
        part.file.write(data)

    def _spill(self, part: _Part) -> None:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        part.file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in _end_part or discard
            dir=self._spool_dir, prefix="mtom-", suffix=".part", delete=False
        )
        self._spooled.append(Path(part.file.name))
        part.file.write(part.memory)
        self._in_memory -= len(part.memory)
        part.memory = bytearray()

    def _end_part(self) -> None:
        part = self._part
        assert part is not None
        part.decoder.finish()
        self._part = None
        if part.is_root:
            self._root = (bytes(part.memory), part.content_type, part.content_id)
            return
        assert part.content_id is not None
        digest = part.sha1.hexdigest()
        cid = part.content_id
        if part.file is not None:
            part.file.close()
            path = Path(part.file.name)
            attachment = Attachment(part.size, digest, part.content_type, path=path, content_id=cid)
        else:
            data = bytes(part.memory)
            attachment = Attachment(part.size, digest, part.content_type, data=data, content_id=cid)
        self._attachments[cid] = attachment


def _media_type(raw_type: str) -> str:
    # RFC 2045 5.2: a part without a Content-Type, or with a syntactically invalid one, is text/plain
    try:
        return parse_content_type(raw_type)[0]
    except MtomError:
        return "text/plain"


def _strip_angle(value: str) -> str:
    # RFC 2045 7 / RFC 2392: Content-ID is a msg-id in angle brackets; start="<...>" likewise
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value


def _open(
    content_type: str, spool_dir: Path, memory_threshold: int, max_root_bytes: int
) -> tuple[MultipartParser, PartSpooler]:
    mime, params = parse_content_type(content_type)
    # MTOM (SOAP 1.2 MTOM 3.2) / XOP 1.0 4.1: the package is a multipart/related (RFC 2387) body
    if mime != "multipart/related":
        raise MtomError(f"not multipart/related but {mime!r}", MtomErrorCode.NOT_MULTIPART)
    boundary = params.get("boundary", "")
    # RFC 2046 5.1.1: the boundary parameter is required for multipart
    if not boundary:
        raise MtomError("multipart content type without boundary", MtomErrorCode.MISSING_BOUNDARY)
    try:
        raw_boundary = boundary.encode("ascii")
    except UnicodeEncodeError as exc:
        raise MtomError("non-ASCII MIME boundary", MtomErrorCode.MALFORMED_CONTENT_TYPE) from exc
    parser = MultipartParser(raw_boundary)
    spooler = PartSpooler(
        spool_dir, start=params.get("start"), memory_threshold=memory_threshold, max_root_bytes=max_root_bytes
    )
    return parser, spooler


async def read_mtom(
    chunks: AsyncIterator[bytes],
    content_type: str,
    spool_dir: Path,
    *,
    memory_threshold: int = 1 << 20,
    max_root_bytes: int = 16 << 20,
) -> MtomMessage:
    """Parse an MTOM/XOP package arriving as ``chunks``; file writes run in a worker thread."""
    parser, spooler = _open(content_type, spool_dir, memory_threshold, max_root_bytes)
    try:
        async for chunk in chunks:
            events = parser.feed(chunk)
            if spooler.spilling:
                await anyio.to_thread.run_sync(spooler.handle, events)
            else:
                spooler.handle(events)
        spooler.handle(parser.close())
        return spooler.finish()
    except BaseException:
        spooler.discard()
        raise


def read_mtom_sync(
    chunks: Iterable[bytes],
    content_type: str,
    spool_dir: Path,
    *,
    memory_threshold: int = 1 << 20,
    max_root_bytes: int = 16 << 20,
) -> MtomMessage:
    """``read_mtom`` for files and tests."""
    parser, spooler = _open(content_type, spool_dir, memory_threshold, max_root_bytes)
    try:
        for chunk in chunks:
            spooler.handle(parser.feed(chunk))
        spooler.handle(parser.close())
        return spooler.finish()
    except BaseException:
        spooler.discard()
        raise


def resolve_xop_href(href: str, attachments: Mapping[str, Attachment]) -> Attachment:
    """The attachment an ``xop:Include/@href`` points at (XOP 1.0 3.2: a "cid:" URL, RFC 2392)."""
    scheme, colon, rest = href.strip().partition(":")
    if not colon or scheme.lower() != "cid":
        raise MtomError(f"xop:Include href {href!r} is not a cid: URL", MtomErrorCode.UNRESOLVED_XOP_HREF)
    # RFC 2392 2: the cid URL is the Content-ID, %hh-escaped, without angle brackets
    content_id = unquote(rest)
    attachment = attachments.get(content_id) or attachments.get(_strip_angle(content_id))
    if attachment is None:
        raise MtomError(f"no MIME part with Content-ID <{content_id}>", MtomErrorCode.UNRESOLVED_XOP_HREF)
    return attachment


__all__ = [
    "ROOT_TYPES",
    "MtomMessage",
    "PartSpooler",
    "read_mtom",
    "read_mtom_sync",
    "resolve_xop_href",
]

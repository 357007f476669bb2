"""SOAP 1.2 clients over httpx: plain or MTOM/XOP, the request streamed out, the reply streamed in.

MTOM requests are never held in memory as a whole: the body is an iterator over the MIME parts
(DESIGN principle 7), and a multipart reply is read as a stream into the MTOM parser that spools parts.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
from lxml import etree

from xds.audit.events import answer_status
from xds.audit.trail import current as current_trail
from xds.errors import SoapFault
from xds.model.attachment import Attachment
from xds.mtom import (
    MtomError,
    aiter_mtom,
    iter_mtom,
    mtom_content_type,
    new_boundary,
    parse_content_type,
    read_mtom,
    read_mtom_sync,
)
from xds.soap.addressing import new_message_id, read_addressing, request_headers
from xds.soap.envelope import FAULT, build_envelope, parse_reply_envelope
from xds.soap.fault import SOAP_CONTENT_TYPE, SOAP_MEDIA_TYPE, parse_fault
from xds.soap.xmlparser import parse_xml
from xds.transactions import Transaction

MULTIPART_RELATED = "multipart/related"


class TransportError(Exception):
    """The peer could not be reached, broke off, or did not answer with SOAP (mapped to
    XDSRegistryNotAvailable / XDSRepositoryNotAvailable by the caller)."""


@dataclass(frozen=True)
class SoapReply:
    body: etree._Element
    attachments: dict[str, Attachment]
    status_code: int
    action: str | None = None
    relates_to: str | None = None
    spool: Path | None = field(default=None, repr=False)  # folder of spooled reply parts, if any

    def discard(self) -> None:
        """Delete the spooled reply parts (after they were copied or are no longer needed)."""
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)


@dataclass(frozen=True)
class _Outgoing:
    headers: dict[str, str]
    envelope: bytes
    attachments: tuple[Attachment, ...]
    boundary: str | None
    start_id: str | None
    message_id: str


def _outgoing(
    url: str,
    transaction: Transaction,
    body: etree._Element,
    attachments: Sequence[Attachment],
    mtom: bool | None,
) -> _Outgoing:
    action = transaction.info.action
    if action is None:
        raise ValueError(f"{transaction.name} is not a SOAP transaction")
    # ITI TF-2x V.3.6: transactions declared MTOM, and any request with attachments, go as MTOM/XOP
    use_mtom = (bool(attachments) or transaction.info.mtom) if mtom is None else mtom
    if attachments and not use_mtom:
        raise ValueError("attachments need an MTOM request")
    for att in attachments:
        if not att.content_id:
            raise ValueError(
                "every attachment of an MTOM request needs its content_id (the xop:Include href)"
            )
    message_id = new_message_id()
    envelope = build_envelope(body, request_headers(action, url, message_id))
    if not use_mtom:
        headers = {"content-type": f'{SOAP_CONTENT_TYPE}; action="{action}"'}
        return _Outgoing(headers, envelope, (), None, None, message_id)
    boundary = new_boundary()
    start_id = f"root.{uuid.uuid4().hex}@xds"
    headers = {"content-type": mtom_content_type(boundary, start_id, action)}
    return _Outgoing(headers, envelope, tuple(attachments), boundary, start_id, message_id)


def _sync_content(out: _Outgoing) -> bytes | Iterator[bytes]:
    if out.boundary is None or out.start_id is None:
        return out.envelope
    return iter_mtom(out.envelope, out.attachments, out.boundary, out.start_id)


def _async_content(out: _Outgoing) -> bytes | AsyncIterator[bytes]:
    if out.boundary is None or out.start_id is None:
        return out.envelope
    return aiter_mtom(out.envelope, out.attachments, out.boundary, out.start_id)


def _reply_kind(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "")
    mime = parse_content_type(content_type)[0] if content_type else ""
    if mime not in (MULTIPART_RELATED, SOAP_MEDIA_TYPE):
        raise TransportError(
            f"HTTP {response.status_code} with {mime or 'no content type'}: not a SOAP reply"
        )
    return mime


def _spooled(parts: dict[str, Attachment]) -> bool:
    return any(att.path is not None for att in parts.values())


def _finish(
    root: bytes, attachments: dict[str, Attachment], status: int, spool: Path | None, max_xml_bytes: int
) -> SoapReply:
    """Turn the reply's root part into a SoapReply, or raise the SoapFault it carries."""
    try:
        envelope = parse_reply_envelope(parse_xml(root, max_bytes=max_xml_bytes))
    except SoapFault as exc:
        raise TransportError(f"HTTP {status}: the reply is not a SOAP 1.2 envelope ({exc.reason})") from None
    # SOAP 1.2 Part 1 5.4: a Fault in the Body is the reply of a failed request
    if envelope.body.tag == FAULT:
        raise parse_fault(envelope.body, status)
    addressing = read_addressing(envelope.header_blocks)
    return SoapReply(envelope.body, attachments, status, addressing.action, addressing.relates_to, spool)


class _Spool:
    """The folder a reply's MTOM parts spool to, made only when the reply is MTOM."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent
        self.path: Path | None = None

    def make(self) -> Path:
        self.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="soap-reply-", dir=self.parent))
        return self.path

    def discard(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def _reply_spool(url: str, spool: _Spool) -> Iterator[None]:
    """Around reading a reply into ``spool``: on any failure the folder goes, and transport problems
    become TransportError (a SoapFault the peer sent passes through as it is)."""
    try:
        yield
    except httpx.HTTPError as exc:
        spool.discard()
        raise TransportError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
    except MtomError as exc:
        spool.discard()
        raise TransportError(f"{url}: broken MTOM reply: {exc}") from exc
    except BaseException:
        spool.discard()
        raise


def _drop_unused_spool(reply: SoapReply, spool: _Spool) -> SoapReply:
    if reply.spool is None:
        spool.discard()
    return reply


def _sent(transaction: Transaction, url: str, body: etree._Element, status: str | None) -> None:
    """ITI-20: the initiator's record of the request (xds.audit; nothing without a trail)."""
    trail = current_trail()
    if trail is not None:
        trail.sent(transaction, url, body, status)


class _Base:
    def __init__(self, spool_dir: Path | None, max_xml_bytes: int, memory_threshold: int) -> None:
        self.spool_dir = Path(spool_dir) if spool_dir is not None else Path(tempfile.gettempdir())
        self.max_xml_bytes = max_xml_bytes
        self.memory_threshold = memory_threshold

    def _read_mtom(self, chunks: AsyncIterator[bytes], content_type: str, spool: Path):  # noqa: ANN202
        return read_mtom(
            chunks,
            content_type,
            spool,
            memory_threshold=self.memory_threshold,
            max_root_bytes=self.max_xml_bytes,
        )

    def _capped(self, size: int) -> None:
        if size > self.max_xml_bytes:
            raise TransportError(f"SOAP reply larger than {self.max_xml_bytes} bytes")


class SoapClient(_Base):
    """A blocking SOAP 1.2 client (one httpx.Client, connections kept alive between calls)."""

    def __init__(
        self,
        *,
        spool_dir: Path | None = None,
        timeout: float = 300.0,
        max_xml_bytes: int = 16 << 20,
        memory_threshold: int = 1 << 20,
        http: httpx.Client | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(spool_dir, max_xml_bytes, memory_threshold)
        # tls: the node's client context for https:// endpoints (ATNA, xds.tls.client_context)
        self._http = http or httpx.Client(timeout=timeout, verify=tls or True)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def call(
        self,
        url: str,
        transaction: Transaction,
        body: etree._Element,
        attachments: Sequence[Attachment] = (),
        *,
        mtom: bool | None = None,
    ) -> SoapReply:
        try:
            reply = self._call(url, transaction, body, attachments, mtom)
        except (TransportError, SoapFault):
            _sent(transaction, url, body, None)
            raise
        _sent(transaction, url, body, answer_status(reply.body))
        return reply

    def _call(
        self,
        url: str,
        transaction: Transaction,
        body: etree._Element,
        attachments: Sequence[Attachment],
        mtom: bool | None,
    ) -> SoapReply:
        out = _outgoing(url, transaction, body, attachments, mtom)
        spool = _Spool(self.spool_dir)
        content = _sync_content(out)
        with (
            _reply_spool(url, spool),
            self._http.stream("POST", url, content=content, headers=out.headers) as response,
        ):
            if _reply_kind(response) == MULTIPART_RELATED:
                message = read_mtom_sync(
                    response.iter_bytes(),
                    response.headers["content-type"],
                    spool.make(),
                    memory_threshold=self.memory_threshold,
                    max_root_bytes=self.max_xml_bytes,
                )
                root, parts = message.root, dict(message.attachments)
            else:
                buffer = bytearray()
                for chunk in response.iter_bytes():
                    buffer += chunk
                    self._capped(len(buffer))
                root, parts = bytes(buffer), {}
            reply = _finish(
                root, parts, response.status_code, spool.path if _spooled(parts) else None, self.max_xml_bytes
            )
        return _drop_unused_spool(reply, spool)


class AsyncSoapClient(_Base):
    """The same client for asyncio code (one httpx.AsyncClient)."""

    def __init__(
        self,
        *,
        spool_dir: Path | None = None,
        timeout: float = 300.0,
        max_xml_bytes: int = 16 << 20,
        memory_threshold: int = 1 << 20,
        http: httpx.AsyncClient | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(spool_dir, max_xml_bytes, memory_threshold)
        self._http = http or httpx.AsyncClient(timeout=timeout, verify=tls or True)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSoapClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def call(
        self,
        url: str,
        transaction: Transaction,
        body: etree._Element,
        attachments: Sequence[Attachment] = (),
        *,
        mtom: bool | None = None,
    ) -> SoapReply:
        try:
            reply = await self._call(url, transaction, body, attachments, mtom)
        except (TransportError, SoapFault):
            _sent(transaction, url, body, None)
            raise
        _sent(transaction, url, body, answer_status(reply.body))
        return reply

    async def _call(
        self,
        url: str,
        transaction: Transaction,
        body: etree._Element,
        attachments: Sequence[Attachment],
        mtom: bool | None,
    ) -> SoapReply:
        out = _outgoing(url, transaction, body, attachments, mtom)
        spool = _Spool(self.spool_dir)
        with _reply_spool(url, spool):
            request = self._http.build_request("POST", url, content=_async_content(out), headers=out.headers)
            response = await self._http.send(request, stream=True)
            try:
                if _reply_kind(response) == MULTIPART_RELATED:
                    content_type = response.headers["content-type"]
                    folder = await anyio.to_thread.run_sync(spool.make)
                    message = await self._read_mtom(response.aiter_bytes(), content_type, folder)
                    root, parts = message.root, dict(message.attachments)
                else:
                    buffer = bytearray()
                    async for chunk in response.aiter_bytes():
                        buffer += chunk
                        self._capped(len(buffer))
                    root, parts = bytes(buffer), {}
            finally:
                await response.aclose()
            reply = _finish(
                root, parts, response.status_code, spool.path if _spooled(parts) else None, self.max_xml_bytes
            )
        return _drop_unused_spool(reply, spool)

"""The Starlette side of the SOAP layer: one route per SOAP endpoint, and the app the actors mount on.

This is the service boundary of DESIGN principle 3: a handler raises ``XdsError`` and gets its transaction's
failure response (HTTP 200, ebRS RegistryResponse), anything that is not about the content becomes a SOAP
fault, and an unexpected exception becomes a Receiver fault without a traceback on the wire.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anyio.to_thread
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Lifespan, Receive, Scope, Send

from xds.audit.events import ANONYMOUS, Exchange, answer_status
from xds.audit.trail import current as current_trail
from xds.errors import RegistryError, SoapFault, SoapFaultCode, XdsError
from xds.files import READ_BLOCK
from xds.model.attachment import Attachment
from xds.mtom import (
    MtomError,
    aiter_mtom,
    mtom_content_type,
    new_boundary,
    parse_content_type,
    read_mtom,
)
from xds.soap.addressing import (
    MESSAGE_ID,
    UNDERSTOOD_HEADERS,
    action_not_supported,
    check_request,
    read_addressing,
    reply_headers,
)
from xds.soap.envelope import HEADER, build_envelope, parse_envelope
from xds.soap.fault import SOAP_CONTENT_TYPE, SOAP_MEDIA_TYPE, fault_action, fault_element, fault_headers
from xds.soap.xmlparser import parse_xml
from xds.transactions import Transaction

log = logging.getLogger(__name__)

MULTIPART_RELATED = "multipart/related"
XOP_MEDIA_TYPE = "application/xop+xml"


@dataclass(frozen=True)
class SoapRequest:
    transaction: Transaction
    body: etree._Element
    message_id: str | None
    to: str | None
    # MTOM parts by Content-ID; spooled files are deleted once the response is sent, so a handler that
    # keeps a document moves or copies its file before returning
    attachments: Mapping[str, Attachment] = field(default_factory=dict)
    mtom: bool = False
    client_host: str | None = None


@dataclass(frozen=True)
class SoapResponse:
    body: etree._Element | bytes  # bytes: the serialized body element, spliced in (build_envelope)
    attachments: Sequence[Attachment] = ()  # non-empty -> MTOM response; each with content_id set


Handler = Callable[[SoapRequest], Awaitable[SoapResponse]]
ErrorBody = Callable[[Transaction, Sequence[RegistryError]], etree._Element]


class WsdlPublication(Protocol):
    """What an endpoint publishes for GET (``xds.schemas.PublishedWsdl`` for our WSDLs)."""

    def wsdl(self, endpoint_url: str) -> bytes: ...

    def xsd(self, name: str, endpoint_url: str) -> bytes:
        """The schema ``name`` the WSDL imports; LookupError when there is none of that name."""
        ...


@dataclass(frozen=True)
class Operation:
    transaction: Transaction
    handler: Handler
    error_body: ErrorBody  # the transaction's failure response (e.g. a RegistryResponse with errors)


@dataclass
class _Exchange:
    """What is known about the request so far, for the answer (faults relate to the request too)."""

    message_id: str | None = None
    mtom: bool = False


def _media_fault(reason: str) -> SoapFault:
    # SOAP 1.2 Part 2 7.5.2.2 (Table 23): 415 Unsupported Media Type for a request in a media type the
    # node does not accept; the body still is a SOAP 1.2 Sender fault for peers that read it
    return SoapFault(SoapFaultCode.SENDER, reason, http_status=415)


def _soap_response(envelope: bytes, status: int, action: str) -> Response:
    # RFC 3902 / SOAP 1.2 Part 2 7.1.4: application/soap+xml, charset UTF-8, optional action parameter
    return Response(
        envelope, status_code=status, headers={"content-type": f'{SOAP_CONTENT_TYPE}; action="{action}"'}
    )


def fault_response(fault: SoapFault, relates_to: str | None = None) -> Response:
    """The HTTP answer for a fault: status from the code (SOAP 1.2 Part 2 7.5.1.2), wsa headers added."""
    action = fault_action(fault)
    headers = reply_headers(action, relates_to) + fault_headers(fault)
    return _soap_response(build_envelope(fault_element(fault), headers), fault.http_status, action)


class _WorkDir:
    """The request's own spool folder, made only when an MTOM request needs one (plain SOAP does not)."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent
        self.path: Path | None = None

    async def create(self) -> Path:
        def make() -> Path:
            self.parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(dir=self.parent))

        self.path = await anyio.to_thread.run_sync(make)
        return self.path

    async def remove(self) -> None:
        path = self.path
        if path is not None:
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(path, ignore_errors=True))


class _SoapEndpoint:
    """The ASGI app of one SOAP path: GET ?wsdl, POST plain SOAP 1.2 or MTOM/XOP."""

    def __init__(
        self,
        operations: Sequence[Operation],
        wsdl: WsdlPublication | None,
        spool_dir: Path,
        max_xml_bytes: int,
        memory_threshold: int,
    ) -> None:
        self.operations: dict[str, Operation] = {}
        for op in operations:
            action = op.transaction.info.action
            if action is None or action in self.operations:
                raise ValueError(f"{op.transaction.name}: no SOAP action, or one already served here")
            self.operations[action] = op
        self.wsdl = wsdl
        self.spool_dir = spool_dir
        self.max_xml_bytes = max_xml_bytes
        self.memory_threshold = memory_threshold

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method != "POST":
            await self._get(request)(scope, receive, send)
            return
        work_dir = _WorkDir(self.spool_dir)
        try:
            response = await self._post(request, work_dir)
            await response(scope, receive, send)
        finally:
            # spooled parts go once the response is out (or the exchange broke off)
            await work_dir.remove()

    def _get(self, request: Request) -> Response:
        # DESIGN fixed interface: ?wsdl on each SOAP path returns its WSDL; the schemas it imports are
        # served at ?xsd=NAME on the same path, so the endpoint URL is all a client needs to know
        query = {k.lower(): v for k, v in request.query_params.items()}
        if request.method in ("GET", "HEAD") and self.wsdl is not None and set(query) in ({"wsdl"}, {"xsd"}):
            endpoint_url = str(request.url.replace(query=""))
            try:
                if "wsdl" in query:
                    document = self.wsdl.wsdl(endpoint_url)
                else:
                    document = self.wsdl.xsd(query["xsd"], endpoint_url)
            except LookupError:
                return PlainTextResponse("no such schema here", status_code=404)
            except Exception:
                log.exception("cannot produce the WSDL/XSD of %s", request.url.path)
                return PlainTextResponse("WSDL not available", status_code=500)
            return Response(document, media_type="text/xml; charset=utf-8")
        if request.method in ("GET", "HEAD") and {"wsdl", "xsd"} & set(query):
            return PlainTextResponse("no WSDL published here", status_code=404)
        return PlainTextResponse(
            "POST a SOAP 1.2 request, or GET ?wsdl", status_code=405, headers={"allow": "GET, POST"}
        )

    async def _post(self, request: Request, work_dir: _WorkDir) -> Response:
        exchange = _Exchange()
        try:
            return await self._process(request, work_dir, exchange)
        except SoapFault as fault:
            return fault_response(fault, exchange.message_id)
        except MtomError as exc:
            # a broken MIME package or an unresolvable xop:Include is the sender's fault (XOP 1.0 3, 4.1)
            return fault_response(SoapFault(SoapFaultCode.SENDER, f"MTOM/XOP: {exc}"), exchange.message_id)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening any more
        except Exception:
            log.exception("unexpected error answering a SOAP request on %s", request.url.path)
            fault = SoapFault(SoapFaultCode.RECEIVER, "internal error; the request was not processed")
            return fault_response(fault, exchange.message_id)

    async def _read_message(
        self, request: Request, work_dir: _WorkDir, exchange: _Exchange
    ) -> tuple[bytes, Mapping[str, Attachment]]:
        content_type = request.headers.get("content-type")
        if not content_type:
            raise _media_fault("no Content-Type; expected application/soap+xml or multipart/related (MTOM)")
        mime, params = parse_content_type(content_type)
        if mime == MULTIPART_RELATED:
            exchange.mtom = True
            # ITI TF-2x V.3.6 / SOAP MTOM 1.0: the request body is streamed into the MIME parser, parts
            # beyond the memory threshold spool to disk; the root part is capped like a plain message
            message = await read_mtom(
                request.stream(),
                content_type,
                await work_dir.create(),
                memory_threshold=self.memory_threshold,
                max_root_bytes=self.max_xml_bytes,
            )
            _check_root_part(message.root_content_type)
            return message.root, message.attachments
        if mime == SOAP_MEDIA_TYPE:
            _check_charset(params)
            return await _read_capped(request, self.max_xml_bytes), {}
        raise _media_fault(f"Content-Type {mime} is not SOAP 1.2 (application/soap+xml) nor MTOM")

    async def _process(self, request: Request, work_dir: _WorkDir, exchange: _Exchange) -> Response:
        root_xml, attachments = await self._read_message(request, work_dir, exchange)
        root = parse_xml(root_xml, max_bytes=self.max_xml_bytes)
        # WS-Addr Core 3.4: even a MustUnderstand fault relates to the request when its MessageID is known
        exchange.message_id = _peek_message_id(root)
        envelope = parse_envelope(root, UNDERSTOOD_HEADERS)
        addressing = read_addressing(envelope.header_blocks)
        exchange.message_id = addressing.message_id
        check_request(addressing)
        assert addressing.action is not None
        operation = self.operations.get(addressing.action)
        # WS-Addr SOAP Binding 6.4.4: an action this endpoint does not serve
        if operation is None:
            raise action_not_supported(addressing.action)
        tx = operation.transaction
        soap_request = SoapRequest(
            transaction=tx,
            body=envelope.body,
            message_id=addressing.message_id,
            to=addressing.to,
            attachments=attachments,
            mtom=exchange.mtom,
            client_host=request.client.host if request.client else None,
        )
        endpoint = str(request.url.replace(query=""))
        try:
            result = await operation.handler(soap_request)
        except XdsError as exc:
            # DESIGN principle 3: the one place an XdsError becomes the transaction's failure response
            result = SoapResponse(operation.error_body(tx, exc.errors))
        except Exception:
            # ITI TF-2a 3.20.7: a transaction that failed is recorded too (it becomes a Receiver fault)
            _audit(tx, soap_request, endpoint, addressing.reply_to, None)
            raise
        _audit(tx, soap_request, endpoint, addressing.reply_to, result.body)
        response_action = tx.info.response_action
        assert response_action is not None
        headers = reply_headers(response_action, addressing.message_id)
        envelope_bytes = build_envelope(result.body, headers)
        # ITI TF-2x V.3.6: a response to an MTOM request is MTOM, and so is one that carries attachments
        if exchange.mtom or result.attachments:
            if any(not att.content_id for att in result.attachments):
                raise ValueError("a response attachment has no content_id")  # a handler bug: Receiver fault
            boundary = new_boundary()
            start_id = f"root.{uuid.uuid4().hex}@xds"
            # whole blocks as read (1 MiB): a tenth of the sends of 64 KiB pieces, the same flat memory
            return StreamingResponse(
                aiter_mtom(envelope_bytes, result.attachments, boundary, start_id, chunk_size=READ_BLOCK),
                headers={"content-type": mtom_content_type(boundary, start_id, response_action)},
            )
        return _soap_response(envelope_bytes, 200, response_action)


def _audit(
    tx: Transaction,
    request: SoapRequest,
    endpoint: str,
    reply_to: str | None,
    answer: etree._Element | bytes | None,
) -> None:
    """ITI-20: the node's record of the transaction it answered (xds.audit; nothing without a trail)."""
    trail = current_trail()
    if trail is None:
        return
    requestor = reply_to or ANONYMOUS
    exchange = Exchange(tx, requestor, request.client_host, endpoint, request.body, answer_status(answer))
    trail.soap(exchange)  # builds the record; encoding and storing happen on the trail's writer thread




def _peek_message_id(root: etree._Element) -> str | None:
    found = root.findtext(f"{HEADER}/{MESSAGE_ID}")
    return found.strip() or None if found is not None else None


def _check_charset(params: Mapping[str, str]) -> None:
    # SOAP 1.2 Part 2 7.1.4 / WS-I BP 2.0 R1012: we read UTF-8 only
    charset = params.get("charset", "utf-8").strip().lower()
    if charset not in ("utf-8", "utf8"):
        raise _media_fault(f"charset {charset} not supported; send UTF-8")


def _check_root_part(root_content_type: str) -> None:
    # SOAP MTOM 1.0 (3.2) / XOP 1.0 4.1: the root part is application/xop+xml with type="application/soap+xml"
    mime, params = parse_content_type(root_content_type)
    if mime == XOP_MEDIA_TYPE:
        inner = params.get("type", SOAP_MEDIA_TYPE).strip().lower()
        if inner != SOAP_MEDIA_TYPE:
            raise _media_fault(f"MTOM root part carries {inner}, not SOAP 1.2 (application/soap+xml)")
        _check_charset(params)
    elif mime == SOAP_MEDIA_TYPE:
        _check_charset(params)
    else:
        raise _media_fault(f"MTOM root part is {mime}, expected application/xop+xml")


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body of a plain SOAP request, read as a stream and refused as soon as it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise SoapFault(SoapFaultCode.SENDER, f"SOAP message larger than {limit} bytes")
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) > limit:
            raise SoapFault(SoapFaultCode.SENDER, f"SOAP message larger than {limit} bytes")
    return bytes(buffer)


def soap_route(
    path: str,
    operations: Sequence[Operation],
    *,
    wsdl: WsdlPublication | None,
    spool_dir: Path,
    max_xml_bytes: int = 16 << 20,
    memory_threshold: int = 1 << 20,
) -> Route:
    """A route serving ``operations`` at ``path``; ``wsdl`` answers GET ?wsdl and ?xsd=NAME."""
    endpoint = _SoapEndpoint(operations, wsdl, spool_dir, max_xml_bytes, memory_threshold)
    return Route(path, endpoint=endpoint, methods=["GET", "POST"])


def create_app(
    routes: Sequence[BaseRoute], *, actors: Sequence[str], lifespan: Lifespan | None = None
) -> Starlette:
    """The ASGI app of a process: the given routes plus GET /health (DESIGN fixed interface); ``lifespan``
    starts and stops what else the process serves (MLLP, DICOM listeners) on the app's event loop."""
    names = list(actors)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "actors": names})

    return Starlette(routes=[*routes, Route("/health", health, methods=["GET"])], lifespan=lifespan)

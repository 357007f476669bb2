"""A real SOAP server for the tests of xds.soap: uvicorn on a free loopback port in a thread.

The handlers are test doubles of actor handlers (echo, sha1 check of MTOM parts, XdsError, RuntimeError,
an MTOM download); the failure body is a minimal RegistryResponse built here, so these tests do not depend
on the ebRIM codec.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from lxml import etree

from xds.errors import ErrorCode, RegistryError, XdsError
from xds.model.attachment import Attachment
from xds.mtom import resolve_xop_href
from xds.soap import Operation, SoapRequest, SoapResponse, create_app, soap_route
from xds.transactions import Transaction
from xds.vocabulary import NS_RS, NS_SOAP12, NS_WSA, NS_XOP

NS_TEST = "urn:test:soap"
T = f"{{{NS_TEST}}}"
SOAP = f"{{{NS_SOAP12}}}"
WSA = f"{{{NS_WSA}}}"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
REGISTRY_PATH = "/xds/registry"
REPOSITORY_PATH = "/xds/repository"
WSDL = b'<?xml version="1.0"?><definitions xmlns="http://schemas.xmlsoap.org/wsdl/" name="test"/>'


class TestWsdl:
    """A minimal publication: the WSDL names the endpoint URL; one schema, "t.xsd"."""

    def wsdl(self, endpoint_url: str) -> bytes:
        return WSDL.replace(b'name="test"', f'name="test" targetNamespace="{endpoint_url}"'.encode())

    def xsd(self, name: str, endpoint_url: str) -> bytes:
        if name != "t.xsd":
            raise LookupError(name)
        xs = "http://www.w3.org/2001/XMLSchema"
        return f'<xs:schema xmlns:xs="{xs}" targetNamespace="{NS_TEST}"/>'.encode()


def error_body(transaction: Transaction, errors: Sequence[RegistryError]) -> etree._Element:
    response = etree.Element(f"{{{NS_RS}}}RegistryResponse", nsmap={"rs": NS_RS}, status=FAILURE)
    error_list = etree.SubElement(response, f"{{{NS_RS}}}RegistryErrorList")
    for error in errors:
        etree.SubElement(
            error_list, f"{{{NS_RS}}}RegistryError", errorCode=str(error.code), codeContext=error.context
        )
    return response


async def echo(request: SoapRequest) -> SoapResponse:
    """ITI-18 double: returns the request body inside t:Echo with what the layer told the handler."""
    result = etree.Element(T + "Echo", nsmap={"t": NS_TEST})
    result.set("messageId", request.message_id or "")
    result.set("mtom", str(request.mtom).lower())
    result.set("attachments", str(len(request.attachments)))
    result.append(deepcopy(request.body))
    return SoapResponse(result)


def _sha1_of(attachment: Attachment) -> str:
    digest = hashlib.sha1()
    for chunk in attachment.iter_chunks():
        digest.update(chunk)
    return digest.hexdigest()


async def check_documents(request: SoapRequest) -> SoapResponse:
    """ITI-41 double: each t:Document holds an xop:Include and the sha1 its part must have."""
    result = etree.Element(T + "Checked", nsmap={"t": NS_TEST})
    for document in request.body.iter(T + "Document"):
        include = document.find(f"{{{NS_XOP}}}Include")
        assert include is not None
        attachment = resolve_xop_href(include.get("href", ""), request.attachments)  # MtomError if absent
        ok = _sha1_of(attachment) == document.get("sha1") == attachment.sha1
        spooled = str(attachment.path is not None)
        etree.SubElement(
            result, T + "Document", ok=str(ok).lower(), size=str(attachment.size), spooled=spooled
        )
    return SoapResponse(result)


async def download(request: SoapRequest) -> SoapResponse:
    """ITI-43 double: answers with one attachment of t:Want/@size bytes (a repeating pattern)."""
    size = int(request.body.get("size", "0"))
    spool = Path(request.body.get("dir", "."))
    path = spool / f"doc-{uuid.uuid4().hex}"
    pattern = bytes(range(256)) * 256
    with path.open("wb") as fh:
        left = size
        while left:
            fh.write(pattern[: min(left, len(pattern))])
            left -= min(left, len(pattern))
    attachment = Attachment.from_file(path)
    content_id = f"doc.{uuid.uuid4().hex}@test"
    attachment = Attachment(attachment.size, attachment.sha1, path=path, content_id=content_id)
    result = etree.Element(T + "Documents", nsmap={"t": NS_TEST, "xop": NS_XOP})
    document = etree.SubElement(result, T + "Document", sha1=attachment.sha1)
    etree.SubElement(document, f"{{{NS_XOP}}}Include", href=f"cid:{content_id}")
    return SoapResponse(result, (attachment,))


async def fail_with_registry_error(request: SoapRequest) -> SoapResponse:
    raise XdsError(ErrorCode.XDS_REGISTRY_METADATA_ERROR, "test: metadata rejected")


SECRET = "do-not-leak-this-detail"


async def crash(request: SoapRequest) -> SoapResponse:
    raise RuntimeError(SECRET)


def build_app(spool_dir: Path):
    registry = soap_route(
        REGISTRY_PATH,
        [
            Operation(Transaction.ITI_18, echo, error_body),
            Operation(Transaction.ITI_42, fail_with_registry_error, error_body),
            Operation(Transaction.RAD_69, crash, error_body),
        ],
        wsdl=TestWsdl(),
        spool_dir=spool_dir,
        max_xml_bytes=1 << 20,
        memory_threshold=64 << 10,
    )
    repository = soap_route(
        REPOSITORY_PATH,
        [
            Operation(Transaction.ITI_41, check_documents, error_body),
            Operation(Transaction.ITI_43, download, error_body),
        ],
        wsdl=None,
        spool_dir=spool_dir,
        max_xml_bytes=1 << 20,
        memory_threshold=64 << 10,
    )
    return create_app([registry, repository], actors=["registry", "repository"])


@dataclass(frozen=True)
class Server:
    base_url: str
    spool_dir: Path

    @property
    def registry(self) -> str:
        return self.base_url + REGISTRY_PATH

    @property
    def repository(self) -> str:
        return self.base_url + REPOSITORY_PATH

    def wait_spool_empty(self, limit: float = 20.0) -> list[Path]:
        """What is left in the spool dir once the server had time to clean up (empty when all is well)."""
        deadline = time.monotonic() + limit
        while True:
            left = list(self.spool_dir.iterdir())
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.02)


@contextmanager
def serving(app) -> Iterator[str]:  # noqa: ANN001 - any ASGI app
    """Run ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as xds up does
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def running_server(spool_dir: Path) -> Iterator[Server]:
    spool_dir.mkdir(parents=True, exist_ok=True)
    with serving(build_app(spool_dir)) as base_url:
        yield Server(base_url, spool_dir)


def wsa_headers(action: str | None, message_id: str | None = None) -> str:
    parts = []
    if action is not None:
        parts.append(f'<wsa:Action soap:mustUnderstand="true">{action}</wsa:Action>')
    if message_id is not None:
        parts.append(f"<wsa:MessageID>{message_id}</wsa:MessageID>")
    return "".join(parts)


def envelope(
    body: str = "<t:Ping/>",
    *,
    action: str | None = "urn:ihe:iti:2007:RegistryStoredQuery",
    message_id: str | None = "urn:uuid:11111111-2222-3333-4444-555555555555",
    extra_headers: str = "",
) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{NS_SOAP12}" xmlns:wsa="{NS_WSA}" xmlns:t="{NS_TEST}">'
        f"<soap:Header>{wsa_headers(action, message_id)}{extra_headers}</soap:Header>"
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


SOAP_CT = 'application/soap+xml; charset=UTF-8; action="urn:ihe:iti:2007:RegistryStoredQuery"'


def mtom_package(
    root: bytes, parts: Sequence[tuple[str, bytes]], boundary: str = "MIMEBoundary_test"
) -> bytes:
    """A hand-written MTOM package (independent of xds.mtom's writer)."""
    out = [
        f"--{boundary}\r\n".encode(),
        b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n',
        b"Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@test>\r\n\r\n",
        root,
        b"\r\n",
    ]
    for content_id, data in parts:
        out += [
            f"--{boundary}\r\n".encode(),
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n",
            f"Content-ID: <{content_id}>\r\n\r\n".encode(),
            data,
            b"\r\n",
        ]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def mtom_content_type(boundary: str = "MIMEBoundary_test") -> str:
    return (
        f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; '
        'start="<root.message@test>"; start-info="application/soap+xml"'
    )


@dataclass(frozen=True)
class Fault:
    code: str
    subcode: str | None
    subsubcode: str | None
    action: str | None
    relates_to: str | None
    header_tags: tuple[str, ...]


def read_fault(content: bytes) -> Fault:
    """Read a fault reply with plain lxml (not our parser, so the tests check the wire form)."""
    root = etree.fromstring(content)
    assert root.tag == SOAP + "Envelope"
    fault = root.find(f"{SOAP}Body/{SOAP}Fault")
    assert fault is not None, content[:500]
    assert fault.find(f"{SOAP}Reason/{SOAP}Text").get("{http://www.w3.org/XML/1998/namespace}lang") == "en"

    def qname(el: etree._Element | None) -> str | None:
        if el is None:
            return None
        prefix, _, local = el.text.strip().rpartition(":")
        return f"{{{el.nsmap[prefix]}}}{local}"

    header = root.find(f"{SOAP}Header")
    headers = tuple(child.tag for child in header) if header is not None else ()
    return Fault(
        code=qname(fault.find(f"{SOAP}Code/{SOAP}Value")),
        subcode=qname(fault.find(f"{SOAP}Code/{SOAP}Subcode/{SOAP}Value")),
        subsubcode=qname(fault.find(f"{SOAP}Code/{SOAP}Subcode/{SOAP}Subcode/{SOAP}Value")),
        action=root.findtext(f"{SOAP}Header/{WSA}Action"),
        relates_to=root.findtext(f"{SOAP}Header/{WSA}RelatesTo"),
        header_tags=headers,
    )

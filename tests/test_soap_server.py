"""The SOAP route on a real uvicorn server, driven by raw httpx requests.

Every bad request gets a SOAP 1.2 fault with the right code, subcode, HTTP status and content type, never
a traceback; after each test the server still answers a good request and its spool folder is empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from lxml import etree
from soap_helpers import (
    FAILURE,
    NS_TEST,
    SECRET,
    SOAP,
    SOAP_CT,
    WSA,
    Server,
    T,
    envelope,
    mtom_content_type,
    mtom_package,
    read_fault,
    running_server,
)

from xds.vocabulary import NS_RS, NS_SOAP12, NS_WSA, NS_XOP

SENDER = f"{{{NS_SOAP12}}}Sender"
RECEIVER = f"{{{NS_SOAP12}}}Receiver"
WSA_FAULT = f"{NS_WSA}/fault"
SOAP_FAULT = f"{NS_WSA}/soap/fault"
MESSAGE_ID = "urn:uuid:11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("soap") / "spool") as srv:
        yield srv


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120) as client:
        yield client


@pytest.fixture(autouse=True)
def still_answering(server: Server) -> Iterator[None]:
    yield
    reply = httpx.post(server.registry, content=envelope(), headers={"content-type": SOAP_CT}, timeout=60)
    assert reply.status_code == 200
    assert server.wait_spool_empty() == []


def post(http: httpx.Client, server: Server, content, content_type: str | None = SOAP_CT) -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return http.post(server.registry, content=content, headers=headers)


def assert_fault(
    reply: httpx.Response, status: int, code: str, subcode: str | None = None, action: str = SOAP_FAULT
):
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/soap+xml")
    assert b"Traceback" not in reply.content
    fault = read_fault(reply.content)
    assert (fault.code, fault.subcode, fault.action) == (code, subcode, action)
    return fault


# --- good requests -----------------------------------------------------------------------------------


def test_echo_relates_to_the_message_id(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope())
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/soap+xml")
    assert "charset=UTF-8" in reply.headers["content-type"]
    root = etree.fromstring(reply.content)
    assert root.findtext(f"{SOAP}Header/{WSA}RelatesTo") == MESSAGE_ID
    assert root.findtext(f"{SOAP}Header/{WSA}Action") == "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    assert root.findtext(f"{SOAP}Header/{WSA}MessageID").startswith("urn:uuid:")
    echo = root.find(f"{SOAP}Body/{T}Echo")
    assert echo.get("messageId") == MESSAGE_ID and echo.get("mtom") == "false"
    assert echo.find(T + "Ping") is not None


def test_mtom_request_gets_mtom_response(http: httpx.Client, server: Server) -> None:
    package = mtom_package(envelope(), [("part1@test", b"hello")])
    reply = post(http, server, package, mtom_content_type())
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("multipart/related")
    assert b'mtom="true"' in reply.content and b'attachments="1"' in reply.content


def test_optional_unknown_header_is_ignored(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(extra_headers='<t:Ext soap:mustUnderstand="false"/>'))
    assert reply.status_code == 200


def test_xds_error_becomes_registry_response(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(action="urn:ihe:iti:2007:RegisterDocumentSet-b"))
    assert reply.status_code == 200
    root = etree.fromstring(reply.content)
    assert root.findtext(f"{SOAP}Header/{WSA}Action") == "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"
    assert root.findtext(f"{SOAP}Header/{WSA}RelatesTo") == MESSAGE_ID
    response = root.find(f"{SOAP}Body/{{{NS_RS}}}RegistryResponse")
    assert response.get("status") == FAILURE
    error = response.find(f"{{{NS_RS}}}RegistryErrorList/{{{NS_RS}}}RegistryError")
    assert error.get("errorCode") == "XDSRegistryMetadataError"


def test_unexpected_exception_is_receiver_fault_without_detail(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(action="urn:ihe:rad:2009:RetrieveImagingDocumentSet"))
    fault = assert_fault(reply, 500, RECEIVER)
    assert fault.relates_to == MESSAGE_ID
    assert SECRET.encode() not in reply.content and b"RuntimeError" not in reply.content


def test_wsdl_is_served(http: httpx.Client, server: Server) -> None:
    for query in ("wsdl", "WSDL"):
        reply = http.get(f"{server.registry}?{query}")
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
        assert etree.fromstring(reply.content).get("targetNamespace") == server.registry


def test_imported_schemas_are_served_next_to_the_wsdl(http: httpx.Client, server: Server) -> None:
    reply = http.get(f"{server.registry}?xsd=t.xsd")
    assert reply.status_code == 200
    assert etree.fromstring(reply.content).get("targetNamespace") == NS_TEST
    assert http.get(f"{server.registry}?xsd=../../etc/passwd").status_code == 404


def test_no_wsdl_where_none_is_published(http: httpx.Client, server: Server) -> None:
    assert http.get(f"{server.repository}?wsdl").status_code == 404
    assert http.get(f"{server.repository}?xsd=t.xsd").status_code == 404


def test_get_without_wsdl_is_not_allowed(http: httpx.Client, server: Server) -> None:
    assert http.get(server.registry).status_code == 405


def test_health(http: httpx.Client, server: Server) -> None:
    reply = http.get(server.base_url + "/health")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "actors": ["registry", "repository"]}


# --- hostile XML -------------------------------------------------------------------------------------


XXE = (
    b'<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + envelope(body="<t:Ping>&x;</t:Ping>").split(b"?>", 1)[1]
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    + envelope().split(b"?>", 1)[1]
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>'
    + envelope(body="<t:Ping>&f;&f;&f;&f;&f;</t:Ping>").split(b"?>", 1)[1]
)
DOCTYPE_ALONE = b'<?xml version="1.0"?><!DOCTYPE soap:Envelope>' + envelope().split(b"?>", 1)[1]


@pytest.mark.parametrize(
    "content",
    [XXE, PARAMETER_ENTITY, LAUGHS, DOCTYPE_ALONE],
    ids=["external-entity", "parameter-entity", "billion-laughs", "doctype-alone"],
)
def test_dtd_is_refused(http: httpx.Client, server: Server, content: bytes) -> None:
    reply = post(http, server, content)
    assert_fault(reply, 400, SENDER)
    assert b"root:" not in reply.content


def test_invalid_utf8_is_sender(http: httpx.Client, server: Server) -> None:
    content = envelope(body="<t:Ping>@@</t:Ping>").replace(b"@@", b"\xff\xfe")
    assert_fault(post(http, server, content), 400, SENDER)


def test_not_xml_is_sender(http: httpx.Client, server: Server) -> None:
    assert_fault(post(http, server, b"this is not XML"), 400, SENDER)


def test_50_mb_plain_message_is_sender(http: httpx.Client, server: Server) -> None:
    def chunks() -> Iterator[bytes]:  # streamed, no Content-Length: the cap applies while reading
        yield envelope().split(b"</soap:Body>")[0] + b"<t:Big>"
        block = b"x" * (1 << 20)
        for _ in range(50):
            yield block
        yield b"</t:Big></soap:Body></soap:Envelope>"

    assert_fault(post(http, server, chunks()), 400, SENDER)


def test_50_mb_plain_message_with_content_length_is_sender(http: httpx.Client, server: Server) -> None:
    head, tail = envelope().split(b"</soap:Body>")
    content = head + b"<t:Big>" + b"x" * (50 << 20) + b"</t:Big></soap:Body>" + tail
    assert_fault(post(http, server, content), 400, SENDER)


# --- media types -------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/xml; charset=utf-8", "text/plain", None])
def test_wrong_content_type_is_415(http: httpx.Client, server: Server, content_type: str | None) -> None:
    assert_fault(post(http, server, envelope(), content_type), 415, SENDER)


def test_non_utf8_charset_is_415(http: httpx.Client, server: Server) -> None:
    assert_fault(post(http, server, envelope(), "application/soap+xml; charset=ISO-8859-1"), 415, SENDER)


# --- envelope and addressing --------------------------------------------------------------------------


def test_soap11_envelope_is_version_mismatch(http: httpx.Client, server: Server) -> None:
    content = envelope().replace(NS_SOAP12.encode(), b"http://schemas.xmlsoap.org/soap/envelope/")
    fault = assert_fault(post(http, server, content), 500, f"{{{NS_SOAP12}}}VersionMismatch")
    assert SOAP + "Upgrade" in fault.header_tags


def test_missing_action(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(action=None))
    fault = assert_fault(reply, 400, SENDER, f"{{{NS_WSA}}}MessageAddressingHeaderRequired", WSA_FAULT)
    assert fault.relates_to == MESSAGE_ID


def test_missing_message_id(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(message_id=None))
    assert_fault(reply, 400, SENDER, f"{{{NS_WSA}}}MessageAddressingHeaderRequired", WSA_FAULT)


def test_unknown_action(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(action="urn:ihe:iti:2007:NoSuchThing"))
    fault = assert_fault(reply, 400, SENDER, f"{{{NS_WSA}}}ActionNotSupported", WSA_FAULT)
    assert fault.relates_to == MESSAGE_ID


def test_action_of_another_endpoint(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(action="urn:ihe:iti:2007:RetrieveDocumentSet"))
    assert_fault(reply, 400, SENDER, f"{{{NS_WSA}}}ActionNotSupported", WSA_FAULT)


def test_must_understand_unknown_header(http: httpx.Client, server: Server) -> None:
    reply = post(http, server, envelope(extra_headers='<t:Ext soap:mustUnderstand="true"/>'))
    fault = assert_fault(reply, 500, f"{{{NS_SOAP12}}}MustUnderstand")
    assert SOAP + "NotUnderstood" in fault.header_tags
    assert fault.relates_to == MESSAGE_ID


def test_must_understand_wsse_security(http: httpx.Client, server: Server) -> None:
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    header = f'<wsse:Security xmlns:wsse="{wsse}" soap:mustUnderstand="true"/>'
    assert_fault(post(http, server, envelope(extra_headers=header)), 500, f"{{{NS_SOAP12}}}MustUnderstand")


# --- MTOM --------------------------------------------------------------------------------------------


def mtom_post(http: httpx.Client, server: Server, content, content_type: str = mtom_content_type()):
    return http.post(server.repository, content=content, headers={"content-type": content_type})


def documents_envelope(href: str, sha1: str = "0") -> bytes:
    body = (
        f'<t:Docs xmlns:xop="{NS_XOP}"><t:Document sha1="{sha1}">'
        f'<xop:Include href="{href}"/></t:Document></t:Docs>'
    )
    return envelope(body=body, action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b")


def test_truncated_mtom_is_sender(http: httpx.Client, server: Server) -> None:
    package = mtom_package(documents_envelope("cid:p1@test"), [("p1@test", b"x" * 300_000)])
    assert_fault(mtom_post(http, server, package[: len(package) // 2]), 400, SENDER)


def test_mtom_without_boundary_is_sender(http: httpx.Client, server: Server) -> None:
    package = mtom_package(documents_envelope("cid:p1@test"), [("p1@test", b"abc")])
    content_type = 'multipart/related; type="application/xop+xml"; start="<root.message@test>"'
    assert_fault(mtom_post(http, server, package, content_type), 400, SENDER)


def test_xop_include_without_part_is_sender(http: httpx.Client, server: Server) -> None:
    package = mtom_package(documents_envelope("cid:absent@test"), [("p1@test", b"abc")])
    assert_fault(mtom_post(http, server, package), 400, SENDER)


def test_50_mb_mtom_root_is_sender(http: httpx.Client, server: Server) -> None:
    boundary = "MIMEBoundary_test"
    head, tail = mtom_package(envelope(body="<t:Big>@@</t:Big>"), []).split(b"@@")

    def chunks() -> Iterator[bytes]:
        yield head
        block = b"x" * (1 << 20)
        for _ in range(50):
            yield block
        yield tail

    assert_fault(mtom_post(http, server, chunks(), mtom_content_type(boundary)), 400, SENDER)


def test_mtom_root_that_is_soap11_text_xml_is_415(http: httpx.Client, server: Server) -> None:
    package = mtom_package(documents_envelope("cid:p1@test"), [("p1@test", b"abc")]).replace(
        b'type="application/soap+xml"', b'type="text/xml"', 1
    )
    assert_fault(mtom_post(http, server, package), 415, SENDER)


def test_mtom_parts_are_spooled_and_checked(http: httpx.Client, server: Server) -> None:
    import hashlib

    data = bytes(range(256)) * 1024  # 256 KiB: above the server's 64 KiB memory threshold
    root = documents_envelope("cid:p1@test", hashlib.sha1(data).hexdigest())
    package = mtom_package(root, [("p1@test", data)])
    reply = mtom_post(http, server, package)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("multipart/related")
    assert b'ok="true"' in reply.content and b'spooled="True"' in reply.content
    assert NS_TEST.encode() in reply.content

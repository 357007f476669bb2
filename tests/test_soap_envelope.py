"""Envelope structure, mustUnderstand, WS-Addressing headers and the fault wire form, without a server."""

from __future__ import annotations

import pytest
from lxml import etree

from xds.errors import SoapFault, SoapFaultCode
from xds.soap import DetailedSoapFault, build_envelope, fault_element, parse_envelope, parse_fault, parse_xml
from xds.soap.addressing import (
    ACTION_NOT_SUPPORTED,
    ANONYMOUS,
    INVALID_ADDRESSING_HEADER,
    INVALID_CARDINALITY,
    MESSAGE_ADDRESSING_HEADER_REQUIRED,
    ONLY_ANONYMOUS_ADDRESS_SUPPORTED,
    UNDERSTOOD_HEADERS,
    action_not_supported,
    check_request,
    read_addressing,
    reply_headers,
    request_headers,
)
from xds.soap.envelope import NS_SOAP11
from xds.soap.fault import SOAP_FAULT_ACTION, WSA_FAULT_ACTION, fault_action, fault_headers
from xds.vocabulary import NS_SOAP12, NS_WSA

SOAP = f"{{{NS_SOAP12}}}"
WSA = f"{{{NS_WSA}}}"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"
BASE_HEADERS = (
    f'<wsa:Action soap:mustUnderstand="true">{ACTION}</wsa:Action><wsa:MessageID>urn:uuid:1</wsa:MessageID>'
)


def doc(
    header: str | None = BASE_HEADERS, body: str = "<t:Q/>", ns: str = NS_SOAP12, extra: str = ""
) -> bytes:
    head = f"<soap:Header>{header}</soap:Header>" if header is not None else ""
    return (
        f'<soap:Envelope xmlns:soap="{ns}" xmlns:wsa="{NS_WSA}" xmlns:t="urn:t" xmlns:wsse="{WSSE}">'
        f"{head}<soap:Body>{body}</soap:Body>{extra}</soap:Envelope>"
    ).encode()


def parse(data: bytes):
    return parse_envelope(parse_xml(data, max_bytes=1 << 20), UNDERSTOOD_HEADERS)


def fault_of(data: bytes) -> SoapFault:
    with pytest.raises(SoapFault) as info:
        parse(data)
    return info.value


def test_baseline_envelope_parses() -> None:
    envelope = parse(doc())
    assert envelope.body.tag == "{urn:t}Q"
    assert [b.tag for b in envelope.header_blocks] == [WSA + "Action", WSA + "MessageID"]


def test_envelope_without_header_parses() -> None:
    assert parse(doc(header=None)).header_blocks == ()


def test_soap11_envelope_is_version_mismatch() -> None:
    fault = fault_of(doc(ns=NS_SOAP11))
    assert fault.code == SoapFaultCode.VERSION_MISMATCH and fault.http_status == 500


def test_other_root_is_version_mismatch() -> None:
    assert fault_of(b"<t:Q xmlns:t='urn:t'/>").code == SoapFaultCode.VERSION_MISMATCH


def test_missing_body_is_sender() -> None:
    data = f'<soap:Envelope xmlns:soap="{NS_SOAP12}"><soap:Header/></soap:Envelope>'.encode()
    assert fault_of(data).code == SoapFaultCode.SENDER


def test_two_bodies_are_sender() -> None:
    assert fault_of(doc(extra="<soap:Body><t:Q/></soap:Body>")).code == SoapFaultCode.SENDER


def test_element_after_body_is_sender() -> None:
    assert fault_of(doc(extra="<t:Trailer/>")).code == SoapFaultCode.SENDER


def test_empty_body_is_sender() -> None:
    assert fault_of(doc(body="")).code == SoapFaultCode.SENDER


def test_two_body_elements_are_sender() -> None:
    assert fault_of(doc(body="<t:Q/><t:Q/>")).code == SoapFaultCode.SENDER


def test_unqualified_header_block_is_sender() -> None:
    assert fault_of(doc(header=BASE_HEADERS + "<plain/>")).code == SoapFaultCode.SENDER


@pytest.mark.parametrize("value", ["true", "1", " true "])
def test_unknown_mandatory_header_is_must_understand(value: str) -> None:
    fault = fault_of(doc(header=BASE_HEADERS + f'<t:Ext soap:mustUnderstand="{value}"/>'))
    assert fault.code == SoapFaultCode.MUST_UNDERSTAND and fault.http_status == 500
    not_understood = fault_headers(fault)
    assert [el.tag for el in not_understood] == [SOAP + "NotUnderstood"]
    prefix, _, local = not_understood[0].get("qname").partition(":")
    assert (not_understood[0].nsmap[prefix], local) == ("urn:t", "Ext")


@pytest.mark.parametrize("value", ["false", "0"])
def test_unknown_optional_header_is_ignored(value: str) -> None:
    assert parse(doc(header=BASE_HEADERS + f'<t:Ext soap:mustUnderstand="{value}"/>')).body is not None


def test_mandatory_header_for_role_none_is_ignored() -> None:
    role = f"{NS_SOAP12}/role/none"
    header = BASE_HEADERS + f'<t:Ext soap:mustUnderstand="true" soap:role="{role}"/>'
    assert parse(doc(header=header)).body is not None


def test_mandatory_header_for_role_next_must_be_understood() -> None:
    role = f"{NS_SOAP12}/role/next"
    header = BASE_HEADERS + f'<t:Ext soap:mustUnderstand="true" soap:role="{role}"/>'
    assert fault_of(doc(header=header)).code == SoapFaultCode.MUST_UNDERSTAND


def test_invalid_must_understand_value_is_sender() -> None:
    fault = fault_of(doc(header=BASE_HEADERS + '<t:Ext soap:mustUnderstand="yes"/>'))
    assert fault.code == SoapFaultCode.SENDER


def test_mandatory_wsse_security_is_not_understood() -> None:
    fault = fault_of(doc(header=BASE_HEADERS + '<wsse:Security soap:mustUnderstand="true"/>'))
    assert fault.code == SoapFaultCode.MUST_UNDERSTAND


def test_optional_wsse_security_is_ignored() -> None:
    assert parse(doc(header=BASE_HEADERS + "<wsse:Security/>")).body is not None


# --- WS-Addressing ------------------------------------------------------------------------------------


def addressing(header: str):
    return read_addressing(parse(doc(header=header)).header_blocks)


def test_addressing_properties_are_read() -> None:
    header = (
        BASE_HEADERS + f"<wsa:To>http://x/y</wsa:To><wsa:ReplyTo><wsa:Address>{ANONYMOUS}</wsa:Address>"
        "</wsa:ReplyTo><wsa:RelatesTo>urn:uuid:0</wsa:RelatesTo>"
    )
    addr = addressing(header)
    assert (addr.action, addr.message_id, addr.to, addr.reply_to, addr.relates_to) == (
        ACTION,
        "urn:uuid:1",
        "http://x/y",
        ANONYMOUS,
        "urn:uuid:0",
    )
    check_request(addr)


def wsa_fault(header: str) -> DetailedSoapFault:
    with pytest.raises(DetailedSoapFault) as info:
        check_request(addressing(header))
    return info.value


def test_missing_action_is_header_required() -> None:
    fault = wsa_fault("<wsa:MessageID>urn:uuid:1</wsa:MessageID>")
    assert (fault.code, fault.subcode) == (SoapFaultCode.SENDER, MESSAGE_ADDRESSING_HEADER_REQUIRED)
    assert fault.detail_xml[0].text == "wsa:Action"


def test_missing_message_id_is_header_required() -> None:
    fault = wsa_fault(f"<wsa:Action>{ACTION}</wsa:Action>")
    assert (fault.code, fault.subcode) == (SoapFaultCode.SENDER, MESSAGE_ADDRESSING_HEADER_REQUIRED)
    assert fault.detail_xml[0].text == "wsa:MessageID"


def test_duplicate_action_is_invalid_cardinality() -> None:
    with pytest.raises(DetailedSoapFault) as info:
        addressing(BASE_HEADERS + f"<wsa:Action>{ACTION}</wsa:Action>")
    assert (info.value.subcode, info.value.subsubcode) == (INVALID_ADDRESSING_HEADER, INVALID_CARDINALITY)


def test_non_anonymous_reply_to_is_refused() -> None:
    fault = wsa_fault(
        BASE_HEADERS + "<wsa:ReplyTo><wsa:Address>http://elsewhere/</wsa:Address></wsa:ReplyTo>"
    )
    assert (fault.subcode, fault.subsubcode) == (INVALID_ADDRESSING_HEADER, ONLY_ANONYMOUS_ADDRESS_SUPPORTED)


def test_reply_headers_relate_to_the_request() -> None:
    headers = {el.tag: el for el in reply_headers("urn:resp", "urn:uuid:req")}
    assert headers[WSA + "Action"].text == "urn:resp"
    assert headers[WSA + "RelatesTo"].text == "urn:uuid:req"
    assert headers[WSA + "MessageID"].text.startswith("urn:uuid:")


def test_request_headers_are_mandatory() -> None:
    headers = {el.tag: el for el in request_headers(ACTION, "http://x/", "urn:uuid:9")}
    for tag in ("Action", "MessageID", "To"):
        assert headers[WSA + tag].get(SOAP + "mustUnderstand") == "true"


# --- faults ---------------------------------------------------------------------------------------------


def test_fault_round_trips_with_declared_subcode_prefix() -> None:
    fault = action_not_supported("urn:nope")
    data = build_envelope(fault_element(fault))
    # read with plain lxml: the Subcode QName prefix must be declared where it is used
    value = etree.fromstring(data).find(f"{SOAP}Body/{SOAP}Fault/{SOAP}Code/{SOAP}Subcode/{SOAP}Value")
    prefix, _, local = value.text.partition(":")
    assert (value.nsmap[prefix], local) == (NS_WSA, "ActionNotSupported")
    parsed = parse_fault(etree.fromstring(data).find(f"{SOAP}Body/{SOAP}Fault"), 400)
    assert (parsed.code, parsed.subcode) == (SoapFaultCode.SENDER, ACTION_NOT_SUPPORTED)
    assert parsed.http_status == 400
    assert parsed.detail_xml[0].tag == WSA + "ProblemAction"


def test_textual_detail_travels_in_an_element() -> None:
    # SOAP 1.2 Part 1 5.4.5: env:Detail has element children, no character content
    element = fault_element(SoapFault(SoapFaultCode.SENDER, "bad part", detail="UnresolvedXopHref"))
    detail = element.find(f"{SOAP}Detail")
    assert not (detail.text or "").strip() and len(detail) == 1
    parsed = parse_fault(element)
    assert parsed.detail == "UnresolvedXopHref" and parsed.detail_xml == ()


def test_fault_reason_is_english_text() -> None:
    element = fault_element(SoapFault(SoapFaultCode.RECEIVER, "internal"))
    text = element.find(f"{SOAP}Reason/{SOAP}Text")
    assert text.get("{http://www.w3.org/XML/1998/namespace}lang") == "en" and text.text == "internal"
    assert element.find(f"{SOAP}Code/{SOAP}Value").text == "soap:Receiver"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (SoapFaultCode.SENDER, 400),
        (SoapFaultCode.RECEIVER, 500),
        (SoapFaultCode.MUST_UNDERSTAND, 500),
        (SoapFaultCode.VERSION_MISMATCH, 500),
    ],
)
def test_fault_http_status(code: SoapFaultCode, status: int) -> None:
    assert SoapFault(code, "x").http_status == status


def test_fault_actions() -> None:
    assert fault_action(action_not_supported("urn:x")) == WSA_FAULT_ACTION
    assert fault_action(SoapFault(SoapFaultCode.SENDER, "x")) == SOAP_FAULT_ACTION


def test_version_mismatch_fault_carries_upgrade() -> None:
    headers = fault_headers(SoapFault(SoapFaultCode.VERSION_MISMATCH, "x"))
    assert [el.tag for el in headers] == [SOAP + "Upgrade"]
    supported = headers[0].find(SOAP + "SupportedEnvelope")
    prefix, _, local = supported.get("qname").partition(":")
    assert (supported.nsmap[prefix], local) == (NS_SOAP12, "Envelope")


def test_a_serialized_body_is_spliced_in_unchanged():
    body = b'<q:Answer xmlns:q="urn:q"><q:Item xmlns:q="urn:q">\xc3\xbc</q:Item></q:Answer>'
    header = etree.Element(f"{{{NS_WSA}}}Action")
    header.text = "urn:a"
    data = build_envelope(body, [header])
    assert body in data
    # the same document as when the body is given as an element
    spliced = parse_xml(data, max_bytes=1 << 20)
    built = parse_xml(build_envelope(etree.fromstring(body), [header]), max_bytes=1 << 20)
    assert etree.tostring(spliced, method="c14n") == etree.tostring(built, method="c14n")
    assert parse_envelope(spliced, {header.tag}).body[0].text == "\u00fc"

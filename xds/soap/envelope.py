"""SOAP 1.2 envelopes: checking one that arrived, building one to send (SOAP 1.2 Part 1 5)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lxml import etree

from xds.errors import SoapFault, SoapFaultCode
from xds.soap.fault import DetailedSoapFault
from xds.soap.xmlparser import xml_bytes
from xds.vocabulary import NS_SOAP11, NS_SOAP12

# SOAP 1.2 Part 1 2.2: the roles this node plays (ultimateReceiver is also the role of an absent attribute)
ROLE_NEXT = f"{NS_SOAP12}/role/next"
ROLE_ULTIMATE_RECEIVER = f"{NS_SOAP12}/role/ultimateReceiver"
_OUR_ROLES = frozenset({"", ROLE_NEXT, ROLE_ULTIMATE_RECEIVER})

ENVELOPE = f"{{{NS_SOAP12}}}Envelope"
HEADER = f"{{{NS_SOAP12}}}Header"
BODY = f"{{{NS_SOAP12}}}Body"
FAULT = f"{{{NS_SOAP12}}}Fault"
MUST_UNDERSTAND = f"{{{NS_SOAP12}}}mustUnderstand"
ROLE = f"{{{NS_SOAP12}}}role"


@dataclass(frozen=True)
class ParsedEnvelope:
    header_blocks: tuple[etree._Element, ...]
    body: etree._Element  # the first (and only) element child of env:Body


def _sender(reason: str) -> SoapFault:
    return SoapFault(SoapFaultCode.SENDER, reason)


def _is_true(value: str | None) -> bool:
    """xs:boolean as SOAP 1.2 Part 1 5.2.3 reads mustUnderstand: "true"/"1" or "false"/"0"."""
    if value is None:
        return False
    value = value.strip()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise _sender(f"mustUnderstand has no boolean value: {value!r}")


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _check_root(root: etree._Element) -> None:
    # SOAP 1.2 Part 1 5.4.7 / 5.4.6: anything but a SOAP 1.2 env:Envelope is a VersionMismatch
    if root.tag != ENVELOPE:
        found = "a SOAP 1.1 envelope" if root.tag == f"{{{NS_SOAP11}}}Envelope" else f"{root.tag}"
        raise SoapFault(SoapFaultCode.VERSION_MISMATCH, f"expected a SOAP 1.2 Envelope, found {found}")


def _split_envelope(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    # SOAP 1.2 Part 1 5.1: children are an optional Header, then exactly one Body, nothing else
    children = _elements(root)
    header = children.pop(0) if children and children[0].tag == HEADER else None
    if len(children) != 1 or children[0].tag != BODY:
        raise _sender("the Envelope must hold an optional Header followed by exactly one Body")
    return header, children[0]


def _check_header_blocks(blocks: Sequence[etree._Element], understood: Collection[str]) -> None:
    not_understood: list[str] = []
    for block in blocks:
        # SOAP 1.2 Part 1 5.2.1: each header block MUST be namespace qualified
        if not block.tag.startswith("{"):
            raise _sender(f"header block {block.tag} is not namespace qualified")
        # SOAP 1.2 Part 1 2.4 / 5.2.2: only blocks targeted at a role we play are ours to understand
        role = (block.get(ROLE) or "").strip()
        if role in _OUR_ROLES and _is_true(block.get(MUST_UNDERSTAND)) and block.tag not in understood:
            not_understood.append(block.tag)
    # SOAP 1.2 Part 1 2.6 and 5.4.8: a single MustUnderstand fault listing every block, env:NotUnderstood
    if not_understood:
        headers = []
        for i, clark in enumerate(not_understood):
            ns, _, local = clark[1:].partition("}")
            prefix = f"nu{i}"
            el = etree.Element(f"{{{NS_SOAP12}}}NotUnderstood", nsmap={"soap": NS_SOAP12, prefix: ns})
            el.set("qname", f"{prefix}:{local}")
            headers.append(el)
        raise DetailedSoapFault(
            SoapFaultCode.MUST_UNDERSTAND,
            "mandatory header block(s) not understood: " + ", ".join(not_understood),
            header_xml=headers,
        )


def parse_envelope(root: etree._Element, understood: Collection[str]) -> ParsedEnvelope:
    """Check a parsed document as a SOAP 1.2 request; ``understood`` holds the Clark names of the header
    blocks this node processes. Faults: VersionMismatch, MustUnderstand, Sender."""
    _check_root(root)
    header, body = _split_envelope(root)
    blocks = tuple(_elements(header)) if header is not None else ()
    _check_header_blocks(blocks, understood)
    payload = _elements(body)
    # WS-I BP 2.0 R2201 (document/literal): the Body carries exactly one message element
    if len(payload) != 1:
        raise _sender(f"the Body must hold exactly one element, it holds {len(payload)}")
    return ParsedEnvelope(blocks, payload[0])


def parse_reply_envelope(root: etree._Element) -> ParsedEnvelope:
    """A reply as a client reads it: the same structure, no mustUnderstand processing; a Fault is the body."""
    _check_root(root)
    header, body = _split_envelope(root)
    payload = _elements(body)
    if not payload:
        raise _sender("the reply Body is empty")
    return ParsedEnvelope(tuple(_elements(header)) if header is not None else (), payload[0])


def envelope_element(body: etree._Element, headers: Sequence[etree._Element] = ()) -> etree._Element:
    """soap:Envelope with a Header (when there are header blocks) and a Body holding ``body``."""
    env = etree.Element(ENVELOPE, nsmap={"soap": NS_SOAP12})
    if headers:
        header = etree.SubElement(env, HEADER)
        for block in headers:
            header.append(block)
    etree.SubElement(env, BODY).append(body)
    return env


def build_envelope(body: etree._Element | bytes, headers: Sequence[etree._Element] = ()) -> bytes:
    """The serialized envelope (UTF-8, XML declaration). ``body`` and ``headers`` are moved into it.

    ``body`` may also be the already serialized UTF-8 body element (no XML declaration, its namespaces
    declared on it): it is spliced in as it is, so a large answer assembled from stored XML (ITI-18
    LeafClass) is not parsed and serialized once more.
    """
    if isinstance(body, etree._Element):
        return xml_bytes(envelope_element(body, headers))
    head, tail = xml_bytes(envelope_element(etree.Comment(_BODY_SLOT), headers)).split(_BODY_MARK)
    return b"".join((head, body, tail))


_BODY_SLOT = "xds-body"
_BODY_MARK = f"<!--{_BODY_SLOT}-->".encode()

"""SOAP 1.2 faults: building the env:Fault body, its HTTP status and WS-Addressing action, and reading one.

``SoapFault`` (xds.errors) is what code raises; ``DetailedSoapFault`` adds what some faults must carry on
the wire: a Subsubcode, Detail elements and extra header blocks (env:NotUnderstood, env:Upgrade).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from xds.errors import SoapFault, SoapFaultCode
from xds.vocabulary import NS_SOAP12, NS_WSA, NS_XDS_FAULT

# SOAP 1.2 Part 2 7.1.4 / RFC 3902: the media type of every SOAP 1.2 message we send
SOAP_MEDIA_TYPE = "application/soap+xml"
SOAP_CONTENT_TYPE = f"{SOAP_MEDIA_TYPE}; charset=UTF-8"
# WS-Addressing 1.0 SOAP Binding 6: action of WS-Addressing faults, and of SOAP-defined faults
WSA_FAULT_ACTION = f"{NS_WSA}/fault"
SOAP_FAULT_ACTION = f"{NS_WSA}/soap/fault"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DETAIL_TEXT = f"{{{NS_XDS_FAULT}}}Text"


def _q(local: str) -> str:
    return f"{{{NS_SOAP12}}}{local}"


class DetailedSoapFault(SoapFault):
    """A SoapFault with a Subsubcode, Detail elements or header blocks to send along."""

    def __init__(
        self,
        code: SoapFaultCode,
        reason: str,
        subcode: str | None = None,
        *,
        subsubcode: str | None = None,
        detail: str | None = None,
        detail_xml: Sequence[etree._Element] = (),
        header_xml: Sequence[etree._Element] = (),
        http_status: int | None = None,
    ) -> None:
        super().__init__(code, reason, subcode, detail, http_status)
        self.subsubcode = subsubcode
        self.detail_xml = tuple(detail_xml)
        self.header_xml = tuple(header_xml)


def _split(clark: str) -> tuple[str | None, str]:
    if clark.startswith("{"):
        ns, _, local = clark[1:].partition("}")
        return ns, local
    return None, clark


def _qname_value(parent: etree._Element, tag: str, clark: str) -> etree._Element:
    """An element whose text is a QName, with its prefix declared on the element (SOAP 1.2 Part 1 5.4.1.3)."""
    ns, local = _split(clark)
    if ns is None:
        el = etree.SubElement(parent, tag)
        el.text = local
        return el
    prefix = "soap" if ns == NS_SOAP12 else "wsa" if ns == NS_WSA else "sc"
    el = etree.SubElement(parent, tag, nsmap={prefix: ns})
    el.text = f"{prefix}:{local}"
    return el


def fault_element(fault: SoapFault) -> etree._Element:
    """env:Fault with Code/Value, Subcode(s), Reason/Text xml:lang="en" and Detail (SOAP 1.2 Part 1 5.4)."""
    root = etree.Element(_q("Fault"), nsmap={"soap": NS_SOAP12})
    code = etree.SubElement(root, _q("Code"))
    _qname_value(code, _q("Value"), _q(str(fault.code)))
    subsubcode = getattr(fault, "subsubcode", None)
    if fault.subcode:
        sub = etree.SubElement(code, _q("Subcode"))
        _qname_value(sub, _q("Value"), fault.subcode)
        if subsubcode:
            subsub = etree.SubElement(sub, _q("Subcode"))
            _qname_value(subsub, _q("Value"), subsubcode)
    reason = etree.SubElement(root, _q("Reason"))
    text = etree.SubElement(reason, _q("Text"))
    text.set(_XML_LANG, "en")
    text.text = fault.reason
    detail_xml: tuple[etree._Element, ...] = getattr(fault, "detail_xml", ())
    if fault.detail or detail_xml:
        detail = etree.SubElement(root, _q("Detail"))
        # SOAP 1.2 Part 1 5.4.5: Detail holds element children only (no character content), so a textual
        # detail travels in an element of ours
        if fault.detail:
            etree.SubElement(detail, DETAIL_TEXT, nsmap={"xf": NS_XDS_FAULT}).text = fault.detail
        for el in detail_xml:
            detail.append(el)
    return root


def fault_headers(fault: SoapFault) -> list[etree._Element]:
    """Header blocks a fault carries: env:Upgrade for VersionMismatch (SOAP 1.2 Part 1 5.4.7) and any
    the raiser attached (env:NotUnderstood, Part 1 5.4.8)."""
    headers: list[etree._Element] = list(getattr(fault, "header_xml", ()))
    if fault.code == SoapFaultCode.VERSION_MISMATCH:
        upgrade = etree.Element(_q("Upgrade"), nsmap={"soap": NS_SOAP12})
        supported = etree.SubElement(upgrade, _q("SupportedEnvelope"))
        supported.set("qname", "soap:Envelope")
        headers.append(upgrade)
    return headers


def fault_action(fault: SoapFault) -> str:
    """WS-Addressing 1.0 SOAP Binding 6: WS-Addressing faults use .../fault, all others .../soap/fault."""
    if fault.subcode and _split(fault.subcode)[0] == NS_WSA:
        return WSA_FAULT_ACTION
    return SOAP_FAULT_ACTION


def _resolve_qname(el: etree._Element | None) -> str | None:
    if el is None or not (el.text or "").strip():
        return None
    value = (el.text or "").strip()
    prefix, _, local = value.rpartition(":")
    ns = el.nsmap.get(prefix or None)
    return f"{{{ns}}}{local}" if ns else local


def parse_fault(fault: etree._Element, http_status: int | None = None) -> DetailedSoapFault:
    """The SoapFault an env:Fault element describes (for clients; unknown codes read as Receiver)."""
    code_clark = _resolve_qname(fault.find(f"{_q('Code')}/{_q('Value')}")) or ""
    ns, local = _split(code_clark)
    try:
        code = SoapFaultCode(local) if ns == NS_SOAP12 else SoapFaultCode.RECEIVER
    except ValueError:
        code = SoapFaultCode.RECEIVER
    subcode = _resolve_qname(fault.find(f"{_q('Code')}/{_q('Subcode')}/{_q('Value')}"))
    subsubcode = _resolve_qname(fault.find(f"{_q('Code')}/{_q('Subcode')}/{_q('Subcode')}/{_q('Value')}"))
    reason = fault.findtext(f"{_q('Reason')}/{_q('Text')}") or ""
    detail_el = fault.find(_q("Detail"))
    detail_xml: tuple[etree._Element, ...] = ()
    detail_text = None
    if detail_el is not None:
        children = [child for child in detail_el if isinstance(child.tag, str)]
        ours = [child for child in children if child.tag == DETAIL_TEXT]
        detail_xml = tuple(child for child in children if child.tag != DETAIL_TEXT)
        detail_text = ((ours[0].text if ours else detail_el.text) or "").strip() or None
    return DetailedSoapFault(
        code,
        reason.strip(),
        subcode,
        subsubcode=subsubcode,
        detail=detail_text,
        detail_xml=detail_xml,
        http_status=http_status,
    )

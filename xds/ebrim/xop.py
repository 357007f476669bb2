"""Document content inside an XML message: an xop:Include reference to a MIME part (XOP 1.0 3, RFC 2392
cid: URLs) or inline base64 text (XML Schema xs:base64Binary)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import uuid
from collections.abc import Mapping
from urllib.parse import quote

from lxml.etree import _Element

from xds.ebrim.xml import children, sub, xop
from xds.errors import SoapFault, SoapFaultCode
from xds.model import Attachment
from xds.mtom import MtomError, resolve_xop_href


def ensure_content_id(content: Attachment) -> Attachment:
    """The attachment with a Content-ID (RFC 2392 addr-spec form), assigning a fresh one if needed."""
    if content.content_id:
        return content
    return dataclasses.replace(content, content_id=f"{uuid.uuid4().hex}@xds.invalid")


def cid_href(content_id: str) -> str:
    # RFC 2392 2: "cid:" followed by the Content-ID without brackets, URL-escaped (%hh) where needed
    return "cid:" + quote(content_id, safe="@!$&'()*+,;=:-._~")


def resolve_href(href: str, attachments: Mapping[str, Attachment]) -> Attachment:
    """The MIME part an xop:Include names (xds.mtom resolves the RFC 2392 cid: URL). A reference to no
    part is a malformed message: SOAP Sender fault (XOP 1.0 3.2; SOAP 1.2 Part 1 5.4.6)."""
    try:
        return resolve_xop_href(href, attachments)
    except MtomError as exc:
        raise SoapFault(SoapFaultCode.SENDER, exc.reason, detail=str(exc.code)) from exc


def write_content(el: _Element, content: Attachment, *, use_xop: bool) -> Attachment:
    """Fill ``el`` (xdsb:Document) with an xop:Include or base64 text; returns the attachment sent."""
    if use_xop:
        content = ensure_content_id(content)
        assert content.content_id is not None
        sub(el, xop("Include"), {"href": cid_href(content.content_id)})
        return content
    el.text = base64.b64encode(content.read()).decode("ascii")
    return content


_WS = re.compile(r"\s+")


def read_content(el: _Element, attachments: Mapping[str, Attachment], what: str) -> Attachment:
    includes = children(el, xop("Include"))
    if includes:
        if len(includes) > 1:
            raise SoapFault(SoapFaultCode.SENDER, f"{what}: more than one xop:Include")
        return resolve_href(includes[0].get("href") or "", attachments)
    text = _WS.sub("", el.text or "")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        # XML Schema 1.0 Part 2 3.2.16 base64Binary: text outside that lexical space makes the message
        # invalid against XDS.b_DocumentRepository.xsd, i.e. "incorrectly formed" (SOAP 1.2 Part 1 5.4.6
        # env:Sender), not a metadata problem.
        raise SoapFault(SoapFaultCode.SENDER, f"{what}: content is not valid base64") from exc
    return Attachment.from_bytes(data)

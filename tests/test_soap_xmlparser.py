"""The hardened parser refuses DTDs, entities, bad encodings and oversize input with a Sender fault."""

from __future__ import annotations

import pytest
from lxml import etree

from xds.errors import SoapFault, SoapFaultCode
from xds.soap import parse_xml, xml_bytes

MAX = 1 << 20

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

ATTACKS = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "network entity": b'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>',
    "parameter entity": (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>'),
    "billion laughs": BILLION_LAUGHS,
    "doctype alone": b"<!DOCTYPE r><r/>",
    "external dtd": b'<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
    "doctype after comment and pi": b'<?xml version="1.0"?>\n<!-- c --><?pi x?>\n<!DOCTYPE r []><r/>',
    "doctype after bom": b"\xef\xbb\xbf<!DOCTYPE r><r/>",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_document_type_declarations_are_refused(name: str) -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(ATTACKS[name], max_bytes=MAX)
    assert info.value.code == SoapFaultCode.SENDER
    assert info.value.http_status == 400


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(b"<r>\xff\xfe</r>", max_bytes=MAX)
    assert info.value.code == SoapFaultCode.SENDER


def test_misdeclared_latin1_is_refused() -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe4</r>', max_bytes=MAX)
    assert info.value.code == SoapFaultCode.SENDER


def test_not_well_formed_is_refused() -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(b"<r><unclosed></r>", max_bytes=MAX)
    assert info.value.code == SoapFaultCode.SENDER


def test_not_xml_is_refused() -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(b"this is not XML at all", max_bytes=MAX)
    assert info.value.code == SoapFaultCode.SENDER


def test_empty_input_is_refused() -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(b"", max_bytes=MAX)
    assert info.value.code == SoapFaultCode.SENDER


def test_over_max_bytes_is_refused() -> None:
    with pytest.raises(SoapFault) as info:
        parse_xml(b"<r>" + b"x" * 100 + b"</r>", max_bytes=64)
    assert info.value.code == SoapFaultCode.SENDER


def test_doctype_text_inside_content_is_not_a_doctype() -> None:
    data = b"<?xml version='1.0'?><!-- <!DOCTYPE x> --><r><![CDATA[<!DOCTYPE html>]]></r>"
    root = parse_xml(data, max_bytes=MAX)
    assert root.text == "<!DOCTYPE html>"


def test_valid_utf8_document_parses() -> None:
    root = parse_xml('<?xml version="1.0" encoding="UTF-8"?><r a="ä">Grüße</r>'.encode(), max_bytes=MAX)
    assert root.tag == "r" and root.text == "Grüße" and root.get("a") == "ä"


def test_xml_bytes_is_utf8_with_declaration() -> None:
    element = etree.Element("r")
    element.text = "Grüße"
    data = xml_bytes(element)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Grüße".encode() in data

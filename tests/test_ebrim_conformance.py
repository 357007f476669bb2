"""Every ebRIM 3.0 message of the shared conformance corpus decodes, and re-encoding keeps the model
(from_ebrim(to_ebrim(from_ebrim(x))) == from_ebrim(x)) and every slot, classification and external
identifier value of every object. Skips when ../shared is absent."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from xds import ebrim
from xds.hl7v2 import CX, XCN, XON, XTN
from xds.model import Attachment
from xds.vocabulary import (
    DE_PATIENT_ID,
    FOLDER_PATIENT_ID,
    NS_LCM,
    NS_QUERY,
    NS_RIM,
    NS_RS,
    NS_XDSB,
    NS_XDSI,
    NS_XOP,
    SS_PATIENT_ID,
)

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance"
NIST = CORPUS / "nist-testkit"
EPR = CORPUS / "extra-samples" / "ehealthsuisse-EPR-by-example" / "samples"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared conformance corpus not present")

# README section 5 "Known-bad files (left as found)"
KNOWN_BAD = {
    "tests/ids_2018-4801a/metadata.xml",
    "tests/ids_2018-4801b/metadata.xml",
    "tests/ids_2018-4801c/metadata.xml",
    "tests/ids_4801/validate-metadata/metadata.xml",
    "tests/ids_4802/validate-metadata/metadata.xml",
    "tests/ids_4802/ValidateMetadata/metadata.xml",
    "tests/12346/metadata.xml",
}
EBRIM_21 = "urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1"
V3_NAMESPACES = {NS_RIM, NS_LCM, NS_QUERY, NS_RS, NS_XDSB, NS_XDSI}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def _fake_parts(el: etree._Element) -> dict[str, Attachment]:
    """The corpus has the XML only: stand-in parts for the cid: references it makes."""
    from urllib.parse import unquote

    parts = {}
    for inc in el.iter(f"{{{NS_XOP}}}Include"):
        cid = unquote((inc.get("href") or "")[4:])
        parts[cid] = Attachment.from_bytes(cid.encode(), "application/octet-stream")
    return parts


# root tag -> (decode, re-encode, RegistryObjectList of the wire form or None)
def _same(m):
    return m


def _pnr_decode(el):
    return ebrim.pnr_from_ebrim(el, _fake_parts(el))


def _pnr_view(m):
    return m.submission, [(d.id, d.content.read()) for d in m.documents]


def _retrieve_resp_decode(el):
    return ebrim.retrieve_response_from_ebrim(el, _fake_parts(el))


def _retrieve_resp_view(m):
    return m.response, [
        (d.repository_unique_id, d.document_unique_id, d.mime_type, d.content.read()) for d in m.documents
    ]


CODECS: dict[str, tuple[Callable, Callable, Callable]] = {
    f"{{{NS_LCM}}}SubmitObjectsRequest": (
        ebrim.submit_objects_from_ebrim,
        ebrim.submit_objects_to_ebrim,
        _same,
    ),
    f"{{{NS_XDSB}}}ProvideAndRegisterDocumentSetRequest": (
        _pnr_decode,
        lambda m: ebrim.pnr_to_ebrim(m, xop=False),
        _pnr_view,
    ),
    f"{{{NS_QUERY}}}AdhocQueryRequest": (
        ebrim.adhoc_query_request_from_ebrim,
        ebrim.adhoc_query_request_to_ebrim,
        _same,
    ),
    f"{{{NS_QUERY}}}AdhocQueryResponse": (
        ebrim.adhoc_query_response_from_ebrim,
        ebrim.adhoc_query_response_to_ebrim,
        _same,
    ),
    f"{{{NS_RS}}}RegistryResponse": (
        ebrim.registry_response_from_ebrim,
        ebrim.registry_response_to_ebrim,
        _same,
    ),
    f"{{{NS_XDSB}}}RetrieveDocumentSetRequest": (
        ebrim.retrieve_request_from_ebrim,
        ebrim.retrieve_request_to_ebrim,
        _same,
    ),
    f"{{{NS_XDSB}}}RetrieveDocumentSetResponse": (
        _retrieve_resp_decode,
        lambda m: ebrim.retrieve_response_to_ebrim(m, xop=False)[0],
        _retrieve_resp_view,
    ),
    f"{{{NS_XDSI}}}RetrieveImagingDocumentSetRequest": (
        ebrim.imaging_retrieve_request_from_ebrim,
        ebrim.imaging_retrieve_request_to_ebrim,
        _same,
    ),
}


def _drop_placeholders(root: etree._Element) -> None:
    """README 4.7: Values still holding $...$ are removed, then emptied Slots, then attributes holding a
    $...$ placeholder (slot names such as $XDSDocumentEntryPatientId are parameter names)."""
    rim = f"{{{NS_RIM}}}"
    for value in list(root.iter(f"{rim}Value")):
        if re.search(r"\$\w+\$", value.text or ""):
            value.getparent().remove(value)
    for slot in list(root.iter(f"{rim}Slot")):
        if not list(slot.iter(f"{rim}Value")):
            slot.getparent().remove(slot)
    for el in root.iter():
        for name, value in list(el.attrib.items()):
            if re.search(r"\$\w+\$", value):
                del el.attrib[name]


def _nist_messages() -> list[tuple[str, etree._Element]]:
    out = []
    for base, _dirs, files in sorted(os.walk(NIST)):
        for name in sorted(files):
            if not name.endswith(".xml"):
                continue
            path = Path(base) / name
            rel = path.relative_to(NIST).as_posix()
            if rel in KNOWN_BAD:
                continue
            data = path.read_bytes()
            if EBRIM_21.encode() in data:
                continue
            try:
                root = etree.fromstring(data, PARSER)
            except etree.XMLSyntaxError:
                continue  # plain-text or template files that are not XML messages
            if etree.QName(root).namespace not in V3_NAMESPACES:
                continue
            if rel.startswith("utilities/"):
                _drop_placeholders(root)
            out.append((f"nist/{rel}", root))
    return out


# Prefixes the EPR samples use without declaring them ("namespaces omitted" in the capture).
_EPR_UNDECLARED = {
    "ns0": NS_QUERY,
    "xsdb": NS_XDSB,
    "ns3": NS_XDSB,
    "ns6": NS_RS,
    "rim": NS_RIM,
    "query": NS_QUERY,
    "rs": NS_RS,
    "lcm": NS_LCM,
    "xds": NS_XDSB,
    "xop": NS_XOP,
}


def _epr_body(text: str) -> etree._Element | None:
    lines = text.splitlines()
    if sum(bool(re.match(r"\d+ ", line)) for line in lines) > 0.8 * len(lines):
        text = "\n".join(re.sub(r"^\d+ ?", "", line) for line in lines)
    match = re.search(r"<([\w.-]+:)?Body\b[^>]*>(.*?)</\1Body>", text, re.S)
    if not match:
        return None
    decls = {p: u for p, u in re.findall(r'xmlns:([\w.-]+)="([^"]*)"', text) if "!--" not in u}
    for prefix, uri in _EPR_UNDECLARED.items():
        decls.setdefault(prefix, uri)
    inner = re.sub(r'\sxmlns="[^"]*!--[^"]*"', "", match.group(2))
    wrapper = "<w " + " ".join(f'xmlns:{p}="{u}"' for p, u in decls.items()) + ">" + inner + "</w>"
    root = etree.fromstring(wrapper.encode(), PARSER)
    return next(c for c in root if isinstance(c.tag, str))


def _epr_messages() -> list[tuple[str, etree._Element]]:
    out = []
    for path in sorted(EPR.glob("ITI-*.xml")):
        body = _epr_body(path.read_text(encoding="utf-8", errors="replace"))
        if body is not None:
            out.append((f"epr/{path.name}", body))
    return out


def _messages() -> list[tuple[str, etree._Element]]:
    if not CORPUS.is_dir():
        return []
    return _nist_messages() + _epr_messages()


MESSAGES = _messages()


def test_corpus_was_read():
    kinds = Counter(etree.QName(el).localname for _, el in MESSAGES)
    # 201 AdhocQueryRequest, 21 SubmitObjectsRequest, 17 PnR, ~43 retrieve requests, EPR bodies
    assert len(MESSAGES) > 250, kinds
    assert kinds["SubmitObjectsRequest"] >= 15 and kinds["ProvideAndRegisterDocumentSetRequest"] >= 10, kinds
    assert kinds["AdhocQueryResponse"] >= 1 and kinds["RetrieveDocumentSetResponse"] >= 1, kinds


@pytest.mark.parametrize("name,root", MESSAGES, ids=[n for n, _ in MESSAGES])
def test_corpus_message_round_trips(name, root):
    decode, encode, view = CODECS[root.tag]
    first = decode(root)
    wire = etree.fromstring(etree.tostring(encode(first)))
    assert view(decode(wire)) == view(first)
    assert _signature(wire) == _signature(root)


# --- what must survive: per object, the multiset of slots, classifications and identifiers ----------

_HL7_SLOTS: dict[str, type] = {
    "authorPerson": XCN,
    "legalAuthenticator": XCN,
    "authorInstitution": XON,
    "authorTelecommunication": XTN,
    "sourcePatientId": CX,
    "urn:ihe:iti:xds:2013:referenceIdList": CX,
}
_HL7_IDENTIFIERS = {DE_PATIENT_ID: CX, SS_PATIENT_ID: CX, FOLDER_PATIENT_ID: CX}


def _norm(kind: type | None, value: str) -> object:
    return kind.parse(value) if kind else value


def _slots(el: etree._Element) -> frozenset:
    rim = f"{{{NS_RIM}}}"
    out = Counter()
    for slot in el.findall(f"{rim}Slot"):
        name = slot.get("name")
        values = tuple(_norm(_HL7_SLOTS.get(name), v.text or "") for v in slot.iter(f"{rim}Value"))
        if name == "URI":
            values = ("".join(re.sub(r"^\d+\|", "", v) for v in values),)
        out[(name, values)] += 1
    return frozenset(out.items())


def _text(el: etree._Element, tag: str) -> str | None:
    ls = el.find(f"{{{NS_RIM}}}{tag}/{{{NS_RIM}}}LocalizedString")
    return ls.get("value") if ls is not None and ls.get("value") else None


def _signature(root: etree._Element) -> dict[str, Counter]:
    rim = f"{{{NS_RIM}}}"
    sig: dict[str, Counter] = {}
    for rol in root.iter(f"{rim}RegistryObjectList"):
        for obj in rol:
            if not isinstance(obj.tag, str) or obj.tag == f"{rim}Classification":
                continue
            c = sig.setdefault(obj.get("id"), Counter())
            c[("tag", etree.QName(obj).localname)] += 1
            c.update(("slot", s) for s in _slots(obj))
            for tag in ("Name", "Description"):
                if _text(obj, tag):
                    c[(tag, _text(obj, tag))] += 1
            for ei in obj.findall(f"{rim}ExternalIdentifier"):
                scheme = ei.get("identificationScheme")
                c[("ei", scheme, _norm(_HL7_IDENTIFIERS.get(scheme), ei.get("value") or ""))] += 1
        for cl in rol.iter(f"{rim}Classification"):
            owner = cl.get("classifiedObject") if cl.getparent() is rol else cl.getparent().get("id")
            sig.setdefault(owner, Counter())[
                (
                    "class",
                    cl.get("classificationScheme"),
                    cl.get("classificationNode"),
                    cl.get("nodeRepresentation"),
                    _text(cl, "Name"),
                    _slots(cl),
                )
            ] += 1
    return sig

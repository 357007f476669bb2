"""Rules of the codec: strict where the standard is invariant (each negative test breaks exactly one
thing of a valid baseline and asserts the code), tolerant where it is silent, and the output shape."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from lxml import etree

from xds import ebrim
from xds.errors import ErrorCode, RegistryError, SoapFault, SoapFaultCode, XdsError
from xds.model import (
    Attachment,
    Document,
    DocumentEntry,
    ExtraSlot,
    ProvideAndRegisterRequest,
    RegistryResponse,
    Submission,
)
from xds.transactions import Transaction
from xds.vocabulary import (
    CLASSIFICATION_NODE_SUBMISSION_SET,
    DE_CLASS_CODE,
    DE_PATIENT_ID,
    NS_QUERY,
    NS_RIM,
    NS_RS,
    NS_XDSB,
    NS_XOP,
    ResponseStatus,
    Severity,
)

SAMPLES = Path(__file__).parent / "samples"
R = f"{{{NS_RIM}}}"
META = ErrorCode.XDS_REGISTRY_METADATA_ERROR
DOC1 = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a01"
SS = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a10"


def baseline() -> etree._Element:
    return etree.parse(str(SAMPLES / "register_request.xml")).getroot()


def _obj(root: etree._Element, oid: str) -> etree._Element:
    return next(e for e in root.iter() if e.get("id") == oid)


def _slot(obj: etree._Element, name: str) -> etree._Element:
    return next(s for s in obj.findall(f"{R}Slot") if s.get("name") == name)


def _decode_fails(root: etree._Element) -> XdsError:
    with pytest.raises(XdsError) as exc:
        ebrim.submit_objects_from_ebrim(root)
    assert exc.value.code == META
    return exc.value


def test_baseline_decodes():
    s = ebrim.submit_objects_from_ebrim(baseline())
    assert len(s.document_entries) == 2 and s.submission_set is not None


def test_extrinsic_object_without_id():
    root = baseline()
    del _obj(root, DOC1).attrib["id"]
    _decode_fails(root)


def test_size_not_an_integer():
    root = baseline()
    _slot(_obj(root, DOC1), "size").find(f"{R}ValueList/{R}Value").text = "12kB"
    assert _decode_fails(root).location == DOC1


def test_two_patient_id_identifiers():
    root = baseline()
    obj = _obj(root, DOC1)
    ei = next(
        e for e in obj.findall(f"{R}ExternalIdentifier") if e.get("identificationScheme") == DE_PATIENT_ID
    )
    twin = etree.fromstring(etree.tostring(ei))
    twin.set("id", "urn:uuid:another")
    obj.append(twin)
    _decode_fails(root)


def test_single_valued_slot_with_no_value():
    root = baseline()
    value_list = _slot(_obj(root, DOC1), "creationTime").find(f"{R}ValueList")
    for v in list(value_list):
        value_list.remove(v)
    _decode_fails(root)


def test_single_valued_slot_with_two_values():
    root = baseline()
    value_list = _slot(_obj(root, DOC1), "hash").find(f"{R}ValueList")
    etree.SubElement(value_list, f"{R}Value").text = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    _decode_fails(root)


def test_known_slot_twice():
    root = baseline()
    obj = _obj(root, DOC1)
    obj.insert(0, etree.fromstring(etree.tostring(_slot(obj, "languageCode"))))
    _decode_fails(root)


def test_two_class_codes():
    root = baseline()
    obj = _obj(root, DOC1)
    cl = next(c for c in obj.findall(f"{R}Classification") if c.get("classificationScheme") == DE_CLASS_CODE)
    twin = etree.fromstring(etree.tostring(cl))
    twin.set("id", "urn:uuid:second-class-code")
    cl.addnext(twin)
    _decode_fails(root)


def test_coded_classification_without_node_representation():
    root = baseline()
    obj = _obj(root, DOC1)
    cl = next(c for c in obj.findall(f"{R}Classification") if c.get("classificationScheme") == DE_CLASS_CODE)
    del cl.attrib["nodeRepresentation"]
    _decode_fails(root)


def test_unescaped_repetition_separator_in_cx():
    root = baseline()
    _slot(_obj(root, DOC1), "sourcePatientId").find(
        f"{R}ValueList/{R}Value"
    ).text = "1^^^&1.2&ISO~2^^^&1.2&ISO"
    _decode_fails(root)


def test_package_neither_submission_set_nor_folder():
    root = baseline()
    pkg = _obj(root, SS)
    for c in pkg.findall(f"{R}Classification"):
        if c.get("classificationNode") == CLASSIFICATION_NODE_SUBMISSION_SET:
            pkg.remove(c)
    _decode_fails(root)


def test_top_level_classification_of_unknown_object():
    root = baseline()
    rol = root.find(f"{R}RegistryObjectList")
    etree.SubElement(
        rol,
        f"{R}Classification",
        classifiedObject="urn:uuid:nowhere",
        classificationNode=CLASSIFICATION_NODE_SUBMISSION_SET,
        id="urn:uuid:c1",
    )
    _decode_fails(root)


def test_association_without_target():
    root = baseline()
    assoc = next(root.iter(f"{R}Association"))
    del assoc.attrib["targetObject"]
    _decode_fails(root)


# --- tolerant where the standard is silent ---------------------------------------------------------


def _top_level(root: etree._Element, oid: str, pred) -> etree._Element:
    obj = _obj(root, oid)
    cl = next(c for c in obj.findall(f"{R}Classification") if pred(c))
    obj.remove(cl)
    root.find(f"{R}RegistryObjectList").append(cl)
    return cl


def test_top_level_classifications_are_attached_to_their_object():
    expected = ebrim.submit_objects_from_ebrim(baseline())
    root = baseline()
    _top_level(root, SS, lambda c: c.get("classificationNode") == CLASSIFICATION_NODE_SUBMISSION_SET)
    _top_level(root, DOC1, lambda c: c.get("classificationScheme") == DE_CLASS_CODE)
    assert ebrim.submit_objects_from_ebrim(root) == expected
    # ... and written back inside the package (ITI TF-3 4.2.3.3)
    out = ebrim.submit_objects_to_ebrim(expected)
    assert out.findall(f"{R}RegistryObjectList/{R}Classification") == []
    assert any(
        c.get("classificationNode") == CLASSIFICATION_NODE_SUBMISSION_SET
        for c in _obj(out, SS).findall(f"{R}Classification")
    )


def test_unknown_slots_kept_in_order_with_type():
    root = baseline()
    obj = _obj(root, DOC1)
    for i, name in enumerate(("urn:z:last", "urn:a:first")):
        slot = etree.Element(f"{R}Slot", name=name, slotType="urn:t")
        etree.SubElement(etree.SubElement(slot, f"{R}ValueList"), f"{R}Value").text = str(i)
        obj.insert(0, slot)
    entry = ebrim.submit_objects_from_ebrim(root).document_entries[0]
    assert entry.extra_slots[:2] == (
        ExtraSlot("urn:a:first", ("1",), "urn:t"),
        ExtraSlot("urn:z:last", ("0",), "urn:t"),
    )


def test_missing_object_type_defaults_to_stable():
    root = baseline()
    del _obj(root, DOC1).attrib["objectType"]
    entry = ebrim.submit_objects_from_ebrim(root).document_entries[0]
    assert not entry.is_on_demand


# --- output shape ----------------------------------------------------------------------------------

ORDER = ["Slot", "Name", "Description", "VersionInfo", "Classification", "ExternalIdentifier"]


def test_child_order_and_prefixes():
    s = ebrim.submit_objects_from_ebrim(baseline())
    entry = dataclasses.replace(s.document_entries[0], version="2", logical_id=DOC1)
    el = ebrim.document_entry_to_ebrim(entry)
    names = [etree.QName(c).localname for c in el]
    assert names == sorted(names, key=ORDER.index)
    assert set(ORDER) <= set(names)
    text = etree.tostring(ebrim.submit_objects_to_ebrim(s)).decode()
    assert text.startswith("<lcm:SubmitObjectsRequest") and "<rim:ExtrinsicObject" in text


def test_encoding_is_deterministic():
    s = ebrim.submit_objects_from_ebrim(baseline())
    assert etree.tostring(ebrim.submit_objects_to_ebrim(s)) == etree.tostring(
        ebrim.submit_objects_to_ebrim(s)
    )


def test_long_uri_is_split_and_joined():
    uri = "http://example.org/" + "x" * 300
    el = ebrim.document_entry_to_ebrim(DocumentEntry("Document01", uri=uri))
    values = [v.text for v in _slot(el, "URI").iter(f"{R}Value")]
    assert len(values) > 1 and all(len(v) <= 128 for v in values) and values[0].startswith("1|")
    assert ebrim.document_entry_from_ebrim(el).uri == uri


# --- documents inside the PnR ------------------------------------------------------------------------


def _pnr(content: Attachment) -> ProvideAndRegisterRequest:
    return ProvideAndRegisterRequest(
        Submission(document_entries=(DocumentEntry("Document01"),)), (Document("Document01", content),)
    )


def test_xop_include_with_percent_encoded_cid_resolves():
    att = Attachment.from_bytes(b"Befund", "text/plain")
    el, parts = ebrim.pnr_to_ebrim_with_parts(_pnr(dataclasses.replace(att, content_id="a b@c")))
    assert el.find(f".//{{{NS_XOP}}}Include").get("href") == "cid:a%20b@c"
    back = ebrim.pnr_from_ebrim(el, {"a b@c": parts[0]})
    assert back.documents[0].content.read() == b"Befund"


def test_xop_assigns_content_id_when_missing():
    el, parts = ebrim.pnr_to_ebrim_with_parts(_pnr(Attachment.from_bytes(b"x")))
    assert parts[0].content_id and el.find(f".//{{{NS_XOP}}}Include").get("href").startswith("cid:")


def test_xop_include_naming_no_part_is_a_sender_fault():
    el = ebrim.pnr_to_ebrim(_pnr(dataclasses.replace(Attachment.from_bytes(b"x"), content_id="p1@x")))
    with pytest.raises(SoapFault) as exc:
        ebrim.pnr_from_ebrim(el, {})
    assert exc.value.code == SoapFaultCode.SENDER


def test_inline_base64_document():
    el = ebrim.pnr_to_ebrim(_pnr(Attachment.from_bytes(b"Bericht \xc3\xbc")), xop=False)
    doc = el.find(f"{{{NS_XDSB}}}Document")
    assert base64.b64decode(doc.text) == b"Bericht \xc3\xbc"
    doc.text = "\n" + doc.text[:4] + "\n  " + doc.text[4:] + "\n"  # line-wrapped base64 is fine
    assert ebrim.pnr_from_ebrim(el, {}).documents[0].content.read() == b"Bericht \xc3\xbc"


def test_bad_base64_is_a_sender_fault():
    el = ebrim.pnr_to_ebrim(_pnr(Attachment.from_bytes(b"Bericht")), xop=False)
    el.find(f"{{{NS_XDSB}}}Document").text = "not*base64!"
    with pytest.raises(SoapFault) as exc:
        ebrim.pnr_from_ebrim(el, {})
    assert exc.value.code == SoapFaultCode.SENDER


def test_document_without_id():
    el = ebrim.pnr_to_ebrim(_pnr(Attachment.from_bytes(b"x")), xop=False)
    del el.find(f"{{{NS_XDSB}}}Document").attrib["id"]
    with pytest.raises(XdsError) as exc:
        ebrim.pnr_from_ebrim(el, {})
    assert exc.value.code == META


# --- responses -------------------------------------------------------------------------------------

ERROR = RegistryError(ErrorCode.XDS_REGISTRY_ERROR, "boom", "here")
WARNING = RegistryError(ErrorCode.XDS_EXTRA_METADATA_NOT_SAVED, "slot", "", Severity.WARNING)


@pytest.mark.parametrize(
    "tx,root_tag",
    [
        (Transaction.ITI_41, f"{{{NS_RS}}}RegistryResponse"),
        (Transaction.ITI_42, f"{{{NS_RS}}}RegistryResponse"),
        (Transaction.RAD_68, f"{{{NS_RS}}}RegistryResponse"),
        (Transaction.ITI_18, f"{{{NS_QUERY}}}AdhocQueryResponse"),
        (Transaction.ITI_43, f"{{{NS_XDSB}}}RetrieveDocumentSetResponse"),
        (Transaction.RAD_69, f"{{{NS_XDSB}}}RetrieveDocumentSetResponse"),
    ],
)
def test_failure_body(tx, root_tag):
    el = ebrim.failure_body(tx, [WARNING, ERROR])
    assert el.tag == root_tag
    status_holder = el if el.tag != f"{{{NS_XDSB}}}RetrieveDocumentSetResponse" else el[0]
    assert status_holder.get("status") == ResponseStatus.FAILURE
    codes = [e.get("errorCode") for e in el.iter(f"{{{NS_RS}}}RegistryError")]
    assert codes == [WARNING.code, ERROR.code]
    if tx == Transaction.ITI_18:
        assert el.find(f"{R}RegistryObjectList") is not None
        assert ebrim.adhoc_query_response_from_ebrim(el).errors == (WARNING, ERROR)


def test_failure_body_with_warnings_only_is_success():
    el = ebrim.failure_body(Transaction.ITI_42, [WARNING])
    assert ebrim.registry_response_from_ebrim(el) == RegistryResponse(ResponseStatus.SUCCESS, (WARNING,))


def test_failure_body_for_a_non_soap_transaction():
    with pytest.raises(ValueError):
        ebrim.failure_body(Transaction.ITI_8, [ERROR])


def test_registry_response_tolerates_vendor_codes_and_ebrs_partial_success():
    el = ebrim.registry_response_to_ebrim(
        RegistryResponse(ResponseStatus.PARTIAL_SUCCESS, (RegistryError("urn:vendor:Oops", "ctx"),))
    )
    el.set("status", "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess")
    back = ebrim.registry_response_from_ebrim(el)
    assert back.status == ResponseStatus.PARTIAL_SUCCESS and back.errors[0].code == "urn:vendor:Oops"


def test_registry_response_unknown_status():
    el = ebrim.registry_response_to_ebrim(RegistryResponse())
    el.set("status", "Success")
    with pytest.raises(XdsError) as exc:
        ebrim.registry_response_from_ebrim(el)
    assert exc.value.code == META

"""ITI-18 parameter checks and the typed parse (ITI TF-2a 3.18.4.1.2.3)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import sample_data as sd
from lxml import etree

from xds.errors import ErrorCode, XdsError
from xds.model import AdhocQueryRequest, Code, QueryParameter
from xds.transactions import Transaction
from xds.validation import (
    CodeListValue,
    NumberValue,
    PatientIdValue,
    StringListValue,
    StringValue,
    TimeValue,
    parse_stored_query,
    validate,
)
from xds.vocabulary import (
    NS_QUERY,
    NS_RIM,
    OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    AssociationType,
    ReturnType,
    Status,
    StoredQuery,
)

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
UTILITIES = SHARED / "conformance" / "nist-testkit" / "utilities"
APPROVED = f"('{Status.APPROVED}')"
UUID1 = "urn:uuid:0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
UUID2 = "urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def query(query_id: str, **params: str | tuple[str, ...]) -> AdhocQueryRequest:
    slots = tuple(
        QueryParameter("$" + name, value if isinstance(value, tuple) else (value,))
        for name, value in params.items()
    )
    return AdhocQueryRequest(query_id, slots)


def find(**params) -> AdhocQueryRequest:
    base = {"XDSDocumentEntryPatientId": f"'{sd.PATIENT_ID}'", "XDSDocumentEntryStatus": APPROVED}
    return query(StoredQuery.FIND_DOCUMENTS, **{**base, **params})


def codes(request: AdhocQueryRequest) -> set[str]:
    return {f.code for f in validate(request, Transaction.ITI_18)}


def test_find_documents_baseline_parses():
    call = parse_stored_query(sd.find_documents_query())
    assert call.query == StoredQuery.FIND_DOCUMENTS
    assert call.params["$XDSDocumentEntryPatientId"] == PatientIdValue(sd.patient_id())
    assert call.params["$XDSDocumentEntryStatus"] == StringListValue((Status.APPROVED,))


def test_typed_values():
    call = parse_stored_query(
        find(
            XDSDocumentEntryClassCode=f"('BEF^^{sd.CS_CLASS}', 'BIL^^{sd.CS_CLASS}')",
            XDSDocumentEntryCreationTimeFrom="20240101",
            XDSDocumentEntryAuthorPerson=("('%Mustermann%')", "('Doe''s')"),
            XDSDocumentEntryType=f"('{OBJECT_TYPE_STABLE_DOCUMENT_ENTRY}')",
        )
    )
    assert call.params["$XDSDocumentEntryClassCode"] == CodeListValue(
        ((Code("BEF", sd.CS_CLASS), Code("BIL", sd.CS_CLASS)),)
    )
    assert call.params["$XDSDocumentEntryCreationTimeFrom"] == TimeValue("20240101")
    assert call.params["$XDSDocumentEntryAuthorPerson"] == StringListValue(("%Mustermann%", "Doe's"))


def test_event_codes_in_two_slots_are_and_of_ors():
    # ITI TF-2a 3.18.4.1.2.3.5: each Slot an OR-list, several Slots ANDed
    request = find()
    request = replace(
        request,
        parameters=(
            *request.parameters,
            QueryParameter("$XDSDocumentEntryEventCodeList", ("('a^^1.2.3', 'b^^1.2.3')",)),
            QueryParameter("$XDSDocumentEntryEventCodeList", ("('c^^1.2.3')",)),
        ),
    )
    value = parse_stored_query(request).params["$XDSDocumentEntryEventCodeList"]
    assert value == CodeListValue(((Code("a", "1.2.3"), Code("b", "1.2.3")), (Code("c", "1.2.3"),)))


def test_values_split_over_value_elements_are_one_list():
    # NIST 11901 uuid_multiple_slot_values
    request = query(StoredQuery.GET_DOCUMENTS, XDSDocumentEntryEntryUUID=(f"('{UUID1}')", f"('{UUID2}')"))
    assert parse_stored_query(request).params["$XDSDocumentEntryEntryUUID"] == StringListValue((UUID1, UUID2))


def test_unknown_parameter_is_ignored():
    # ebRS 3.0 6.3.2.1 (registry MUST ignore parameters the stored query does not define)
    call = parse_stored_query(find(XDSDocumentEntryColour="'blue'"))
    assert call.ignored == ("$XDSDocumentEntryColour",)
    assert "$XDSDocumentEntryColour" not in call.params


def test_unknown_stored_query():
    assert codes(replace(find(), query_id="urn:uuid:00000000-0000-0000-0000-000000000000")) == {
        ErrorCode.XDS_UNKNOWN_STORED_QUERY
    }


@pytest.mark.parametrize("name", ["XDSDocumentEntryPatientId", "XDSDocumentEntryStatus"])
def test_missing_required(name):
    request = find()
    request = replace(request, parameters=tuple(p for p in request.parameters if p.name != "$" + name))
    assert codes(request) == {ErrorCode.XDS_STORED_QUERY_MISSING_PARAM}


def test_single_valued_given_two_values():
    assert codes(find(XDSDocumentEntryCreationTimeFrom=("20240101", "20240102"))) == {
        ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER
    }


def test_single_valued_given_a_list_of_two():
    request = query(
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS, XDSSubmissionSetEntryUUID=f"('{UUID1}','{UUID2}')"
    )
    assert codes(request) == {ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER}


def test_get_documents_by_uuid_and_unique_id():
    request = query(
        StoredQuery.GET_DOCUMENTS,
        XDSDocumentEntryEntryUUID=f"('{UUID1}')",
        XDSDocumentEntryUniqueId="('1.2.3')",
    )
    assert codes(request) == {ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER}


def test_get_documents_without_ids():
    assert codes(query(StoredQuery.GET_DOCUMENTS, homeCommunityId="'urn:oid:1.2.3'")) == {
        ErrorCode.XDS_STORED_QUERY_MISSING_PARAM
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (
            "XDSDocumentEntryClassCode",
            "('DEMO-Lab^^1.3.6.1.4.1.21367.100.1', 'a^^')",
        ),  # 11897 scheme_mismatch
        ("XDSDocumentEntryPracticeSettingCode", "('Dialysis')"),  # 11897 old_scheme
        ("XDSDocumentEntryClassCode", "('a^b^1.2.3')"),
        ("XDSDocumentEntryClassCode", "()"),
        ("XDSDocumentEntryClassCode", "(a^^1.2.3)"),  # unquoted
        ("XDSDocumentEntryType", "('urn:uuid:00000000-0000-0000-0000-000000000000')"),
        ("XDSDocumentEntryCreationTimeFrom", "20241301"),
        ("XDSDocumentEntryCreationTimeTo", "yesterday"),
        ("XDSDocumentEntryPatientId", "'PAT-1000'"),  # no assigning authority
        ("XDSDocumentEntryPatientId", "PAT-1000^^^&1.2.3&ISO"),  # not quoted
        ("XDSDocumentEntryAuthorPerson", "('a', 'b'"),
    ],
)
def test_bad_values(name, value):
    assert codes(find(**{name: value})) == {ErrorCode.XDS_REGISTRY_ERROR}


def test_unknown_status_values_are_ignored():
    # ITI TF-2a 3.18.4.1.2.3.6
    call = parse_stored_query(find(XDSDocumentEntryStatus=f"('Approved', '{Status.APPROVED}')"))
    assert call.params["$XDSDocumentEntryStatus"].values == (Status.APPROVED,)


def test_status_without_a_known_value_is_missing():
    assert codes(find(XDSDocumentEntryStatus="('Approved')")) == {ErrorCode.XDS_STORED_QUERY_MISSING_PARAM}


def test_old_scheme_query_of_nist_11897_fails():
    request = find(
        XDSDocumentEntryPracticeSettingCode="('Dialysis')",
        XDSDocumentEntryPracticeSettingCodeScheme="('Connect-a-thon practiceSettingCodes')",
    )
    with pytest.raises(XdsError) as info:
        parse_stored_query(request)
    assert info.value.code == ErrorCode.XDS_REGISTRY_ERROR


def test_bad_association_type():
    request = query(
        StoredQuery.GET_RELATED_DOCUMENTS, XDSDocumentEntryEntryUUID=f"'{UUID1}'", AssociationTypes="('RPLC')"
    )
    assert codes(request) == {ErrorCode.XDS_REGISTRY_ERROR}


def test_bad_return_type():
    assert codes(replace(find(), return_type="Everything")) == {ErrorCode.XDS_REGISTRY_ERROR}


def test_metadata_level_is_a_number():
    request = query(StoredQuery.GET_DOCUMENTS, XDSDocumentEntryEntryUUID=f"('{UUID1}')", MetadataLevel="1")
    assert parse_stored_query(request).params["$MetadataLevel"] == NumberValue(1)
    assert codes(
        replace(request, parameters=(*request.parameters[:1], QueryParameter("$MetadataLevel", ("x",))))
    ) == {ErrorCode.XDS_REGISTRY_ERROR}


def test_every_stored_query_has_a_table():
    from xds.validation.query_tables import QUERIES

    assert set(QUERIES) == set(StoredQuery)


def test_parse_raises_with_every_error():
    request = replace(
        find(XDSDocumentEntryClassCode="('x')"),
        parameters=find(XDSDocumentEntryClassCode="('x')").parameters[1:],
    )
    with pytest.raises(XdsError) as info:
        parse_stored_query(request)
    assert {e.code for e in info.value.errors} == {
        ErrorCode.XDS_REGISTRY_ERROR,
        ErrorCode.XDS_STORED_QUERY_MISSING_PARAM,
    }


# --- the NIST toolkit's query templates (utilities/*/XDS/query.xml), sample values substituted ---------

FILL = {
    "patient_id": sd.PATIENT_ID,
    "object_types": f"('{OBJECT_TYPE_STABLE_DOCUMENT_ENTRY}')",
    "ot": OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    "dst": Status.APPROVED,
    "fst": Status.APPROVED,
    "sst": Status.APPROVED,
    "clc": "BEF^^" + sd.CS_CLASS,
    "tc": "BILD^^" + sd.CS_TYPE,
    "fc": "urn:ihe-d:mime^^" + sd.CS_FORMAT_DE,
    "hftc": "KHS^^" + sd.CS_FACILITY,
    "psc": "RADI^^" + sd.CS_PRACTICE,
    "cc": "N^^2.16.840.1.113883.5.25",
    "ecl": "E200^^" + sd.CS_EVENT_CONTEXT,
    "ctf": "20240101",
    "ctt": "20241231",
    "sstf": "2024",
    "sstt": "2025",
    "sttf": "202401",
    "sttt": "202412",
    "ap": "%Mustermann%",
    "refId": f"4711^^^&{sd.ROOT}.7&ISO^urn:ihe:iti:xds:2013:accession",
    "assoc": AssociationType.RPLC,
    "metadatalevel": "1",
    "id": UUID1,
    "uuid": UUID1,
    "uid": f"{sd.ROOT}.4.1000.1",
}
PLACEHOLDER = re.compile(r"\$([A-Za-z_]+?)(\d*)\$")


def _substitute(text: str, skip: set[str]) -> str | None:
    """NIST engine steps 6 and 7: fill a placeholder or drop the value holding it."""

    def fill(match: re.Match[str]) -> str:
        name, index = match.group(1), match.group(2)
        if name in skip or name not in FILL or (index and int(index) > 1):
            raise KeyError(name)
        return FILL[name]

    try:
        return PLACEHOLDER.sub(fill, text)
    except KeyError:
        return None


def load_template(path: Path, skip: set[str]) -> AdhocQueryRequest:
    root = etree.parse(str(path)).getroot()
    adhoc = root.find(f"{{{NS_RIM}}}AdhocQuery")
    option = root.find(f"{{{NS_QUERY}}}ResponseOption")
    return_type = option.get("returnType", ReturnType.LEAF_CLASS)
    params = []
    for slot in adhoc.iter(f"{{{NS_RIM}}}Slot"):
        values = tuple(
            v
            for v in (_substitute(e.text or "", skip) for e in slot.iter(f"{{{NS_RIM}}}Value"))
            if v is not None
        )
        if values:
            params.append(QueryParameter(slot.get("name"), values))
    return AdhocQueryRequest(
        adhoc.get("id"),
        tuple(params),
        return_type=ReturnType.LEAF_CLASS if "$" in return_type else return_type,
    )


def templates() -> list[Path]:
    if not UTILITIES.is_dir():
        return []
    return sorted(p for p in UTILITIES.glob("*/XDS/query.xml") if b"AdhocQuery" in p.read_bytes())


def template_cases() -> list:
    """Each template by UUID, and by uniqueId where it has a $uid parameter."""
    cases = []
    for path in templates():
        variants = ["by_uuid", "by_unique_id"] if "$uid" in path.read_text() else ["by_uuid"]
        cases += [pytest.param(path, v, id=f"{path.parent.parent.name}-{v}") for v in variants]
    return cases


@pytest.mark.skipif(not UTILITIES.is_dir(), reason="shared conformance corpus not present")
@pytest.mark.parametrize(("path", "variant"), template_cases())
def test_nist_query_templates(path, variant):
    skip = {"uid", "lid"} if variant == "by_uuid" else {"id", "uuid", "lid"}
    request = load_template(path, skip)
    assert validate(request, Transaction.ITI_18) == []
    call = parse_stored_query(request)
    assert call.query == StoredQuery(request.query_id)
    assert call.ignored == ()
    assert set(call.params) == {p.name for p in request.parameters}
    kinds = PatientIdValue | StringListValue | StringValue | CodeListValue | TimeValue | NumberValue
    assert all(isinstance(value, kinds) for value in call.params.values())


def test_nist_templates_cover_the_stored_queries():
    if not UTILITIES.is_dir():
        pytest.skip("shared conformance corpus not present")
    ids = {load_template(p, set()).query_id for p in templates()}
    # the toolkit's utilities have no FindSubmissionSets / GetDocumentsAndAssociations template: see below
    assert set(StoredQuery) - ids == {
        StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS,
        StoredQuery.FIND_SUBMISSION_SETS,
    }


def test_find_submission_sets():
    request = query(
        StoredQuery.FIND_SUBMISSION_SETS,
        XDSSubmissionSetPatientId=f"'{sd.PATIENT_ID}'",
        XDSSubmissionSetStatus=APPROVED,
        XDSSubmissionSetSourceId=f"('{sd.SOURCE_ID}')",
        XDSSubmissionSetSubmissionTimeFrom="20240101",
        XDSSubmissionSetAuthorPerson="'%Mustermann%'",
        XDSSubmissionSetContentType=f"('1^^{sd.CS_CONTENT_TYPE}')",
    )
    call = parse_stored_query(request)
    assert call.params["$XDSSubmissionSetAuthorPerson"] == StringValue("%Mustermann%")
    assert codes(replace(request, parameters=request.parameters[1:])) == {
        ErrorCode.XDS_STORED_QUERY_MISSING_PARAM
    }


def test_get_documents_and_associations():
    request = query(StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS, XDSDocumentEntryUniqueId="('1.2.3', '1.2.4')")
    assert parse_stored_query(request).params["$XDSDocumentEntryUniqueId"] == StringListValue(
        ("1.2.3", "1.2.4")
    )

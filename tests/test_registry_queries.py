"""ITI-18 Registry Stored Query on the Document Registry (registry/iti18.py, registry/queries): every query
and every parameter against the baseline of tests/query_baseline.py, on SQLite and on PostgreSQL.

The baseline is loaded once per backend and module (the tests only read); tests that need their own data
take the per-test ``database_url``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree
from query_baseline import (
    ACCESSION,
    APPROVED,
    BIL,
    CONTENT_2,
    CT,
    DEPRECATED,
    E200,
    ECR,
    KOS_FORMAT,
    NAMES,
    ORDER,
    P1,
    P2,
    P3,
    PAT,
    SUBMITTED,
    N,
    R,
    load,
    uid,
    unique_id,
)
from sample_data import CS_CLASS, SOURCE_ID
from sqlalchemy import create_engine, event

from registry import store as db
from registry.iti18 import stored_query
from registry.queries import QueryLimits
from registry.queries.results import with_home
from registry.rows import code_key
from xds.ebrim import adhoc_query_request_to_ebrim, adhoc_query_response_from_ebrim
from xds.ebrim.xml import rim
from xds.errors import ErrorCode, XdsError
from xds.model import AdhocQueryRequest, AdhocQueryResponse, Code, QueryParameter
from xds.vocabulary import (
    OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
    OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    AssociationType,
    ResponseStatus,
    ReturnType,
    StoredQuery,
)

LEAF = ReturnType.LEAF_CLASS.value
REFS = ReturnType.OBJECT_REF.value
BOTH_TYPES = (OBJECT_TYPE_STABLE_DOCUMENT_ENTRY, OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY)
_DE = "$XDSDocumentEntry"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[db.RegistryStore]:
    name = "registry_queries_baseline"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('queries') / 'registry.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_cluster").create_database(name)
    registry = db.RegistryStore.open(url)
    with registry.write() as conn:
        load(conn)
    yield registry
    registry.close()
    if request.param == "postgresql":
        request.getfixturevalue("postgres_cluster").drop_database(name)


# --- request helpers --------------------------------------------------------------------------------------


def one(value: str) -> str:
    """A single quoted value (ITI TF-2a 3.18.4.1.2.3.6)."""
    return "'" + value.replace("'", "''") + "'"


def many(*values: str | Code) -> str:
    """A parenthesised list; Codes as code^^scheme."""
    return "(" + ", ".join(one(code_key(v) if isinstance(v, Code) else v) for v in values) + ")"


def request(
    query: StoredQuery, params: dict[str, str | list[str]], return_type: str = LEAF
) -> AdhocQueryRequest:
    """A list value means several Slots of that name (AND semantics for codes)."""
    slots = []
    for name, value in params.items():
        for v in value if isinstance(value, list) else [value]:
            slots.append(QueryParameter(name, (v,)))
    return AdhocQueryRequest(query_id=query, parameters=tuple(slots), return_type=return_type)


def ask(store, query: StoredQuery, params: dict, return_type: str = LEAF, **kw: object) -> AdhocQueryResponse:
    answer = etree.fromstring(stored_query(store, request(query, params, return_type), **kw))
    assert answer.tag == "{urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0}AdhocQueryResponse"
    return adhoc_query_response_from_ebrim(answer)


def names(response: AdhocQueryResponse) -> set[str]:
    assert response.status == ResponseStatus.SUCCESS
    ids = [o.entry_uuid for o in (*response.submission_sets, *response.folders, *response.document_entries)]
    ids += [a.entry_uuid for a in response.associations] + [r.id for r in response.object_refs]
    assert len(ids) == len(set(ids)), "an object came back twice"
    return {NAMES[i] for i in ids}


def fails(code: ErrorCode, store, query: StoredQuery, params: dict, return_type: str = LEAF, **kw) -> None:
    with pytest.raises(XdsError) as caught:
        stored_query(store, request(query, params, return_type), **kw)
    assert caught.value.code == code


def find_docs(**extra: str | list[str]) -> dict:
    base = {f"{_DE}PatientId": one(P1), f"{_DE}Status": many(APPROVED)}
    return {**base, **{f"{_DE}{k}": v for k, v in extra.items()}}


ALL_STATUS = many(APPROVED, DEPRECATED)


# --- FindDocuments (ITI TF-2a 3.18.4.1.2.3.7.1) -------------------------------------------------------------

FIND_DOCUMENTS = {
    # status: OR of the listed ones; D1 is Deprecated; D4 is On-Demand and left out by default
    "approved": ({}, {"D2", "D3"}),
    "approved_or_deprecated": ({"Status": ALL_STATUS}, {"D1", "D2", "D3"}),
    "deprecated": ({"Status": many(DEPRECATED)}, {"D1"}),
    "submitted": ({"Status": many(SUBMITTED)}, set()),
    # objectType
    "on_demand_only": ({"Type": many(OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY)}, {"D4"}),
    "both_types": ({"Type": many(*BOTH_TYPES)}, {"D2", "D3", "D4"}),
    "stable_explicit": ({"Type": many(OBJECT_TYPE_STABLE_DOCUMENT_ENTRY)}, {"D2", "D3"}),
    # single-valued codes: OR within the list, scheme part of the match
    "class_one": ({"ClassCode": many(BIL)}, {"D2"}),
    "class_or": ({"ClassCode": many(BIL, Code("BEF", CS_CLASS)), "Status": ALL_STATUS}, {"D1", "D2", "D3"}),
    "class_wrong_scheme": ({"ClassCode": many(Code("BIL", "1.2.3"))}, set()),
    "type_code": ({"TypeCode": many(Code("BILD", "1.3.6.1.4.1.19376.3.276.1.5.9"))}, {"D2", "D3"}),
    "practice_setting": (
        {"PracticeSettingCode": many(Code("RADI", "1.3.6.1.4.1.19376.3.276.1.5.4"))},
        {"D2", "D3"},
    ),
    "practice_setting_other": (
        {"PracticeSettingCode": many(Code("INN", "1.3.6.1.4.1.19376.3.276.1.5.4"))},
        set(),
    ),
    "facility": (
        {"HealthcareFacilityTypeCode": many(Code("KHS", "1.3.6.1.4.1.19376.3.276.1.5.2"))},
        {"D2", "D3"},
    ),
    "format_kos": ({"FormatCode": many(KOS_FORMAT)}, {"D2"}),
    "format_or": (
        {"FormatCode": many(KOS_FORMAT, Code("urn:ihe-d:mime", "1.3.6.1.4.1.19376.3.276.1.5.6"))},
        {"D2", "D3"},
    ),
    "class_and_format": ({"ClassCode": many(BIL), "FormatCode": many(Code("x", "1.2"))}, set()),
    # creationTime: From inclusive, To exclusive, lower precision = start of the period
    "creation_from_inclusive": ({"CreationTimeFrom": "20240201120000"}, {"D3"}),
    "creation_to_exclusive": ({"CreationTimeTo": "20240201120000"}, {"D2"}),
    "creation_to_exclusive_all": ({"CreationTimeTo": "20240201120000", "Status": ALL_STATUS}, {"D1", "D2"}),
    "creation_year_range": ({"CreationTimeFrom": "2024", "CreationTimeTo": "2025"}, {"D3"}),
    "creation_day_from": ({"CreationTimeFrom": "20230601"}, {"D2", "D3"}),
    "creation_day_to": ({"CreationTimeTo": "20230601"}, set()),
    "creation_empty_range": (
        {"CreationTimeFrom": "20240201120000", "CreationTimeTo": "20240201120000"},
        set(),
    ),
    "creation_one_second": (
        {"CreationTimeFrom": "20240201120000", "CreationTimeTo": "20240201120001"},
        {"D3"},
    ),
    # creationTime does not filter On-Demand entries (D4 was created 20240301)
    "creation_not_for_on_demand": ({"CreationTimeFrom": "2025", "Type": many(*BOTH_TYPES)}, {"D4"}),
    "creation_stable_only": ({"CreationTimeFrom": "2025"}, set()),
    # serviceStartTime / serviceStopTime: an entry without the attribute passes (D3 has no start)
    "service_start_year": ({"ServiceStartTimeFrom": "2023", "ServiceStartTimeTo": "2024"}, {"D2", "D3"}),
    "service_start_absent_passes": ({"ServiceStartTimeFrom": "2025"}, {"D3"}),
    "service_start_deprecated": ({"ServiceStartTimeFrom": "2024", "Status": ALL_STATUS}, {"D1", "D3"}),
    "service_start_from_inclusive": ({"ServiceStartTimeFrom": "2023060108"}, {"D2", "D3"}),
    "service_start_to_exclusive": ({"ServiceStartTimeTo": "2023060108", "Status": ALL_STATUS}, {"D3"}),
    "service_stop_from_inclusive": ({"ServiceStopTimeFrom": "20240115093000"}, {"D3"}),
    "service_stop_to_exclusive": ({"ServiceStopTimeTo": "20240115093000"}, {"D2"}),
    "service_stop_hour_to": ({"ServiceStopTimeTo": "2023060109"}, set()),
    "service_stop_hour_to_next": ({"ServiceStopTimeTo": "2023060110"}, {"D2"}),
    # eventCodeList: OR within a Slot, AND across Slots
    "event_one": ({"EventCodeList": many(E200)}, {"D2"}),
    "event_one_all": ({"EventCodeList": many(E200), "Status": ALL_STATUS}, {"D1", "D2"}),
    "event_or": ({"EventCodeList": many(CT, E200), "Status": ALL_STATUS}, {"D1", "D2"}),
    "event_and": ({"EventCodeList": [many(E200), many(CT)], "Status": ALL_STATUS}, {"D2"}),
    "event_and_or": (
        {"EventCodeList": [many(E200), many(CT, Code("X", "1.2"))], "Status": ALL_STATUS},
        {"D2"},
    ),
    "event_and_unmatched": ({"EventCodeList": [many(CT), many(Code("X", "1.2"))]}, set()),
    # confidentialityCode: same AND/OR rule
    "conf_n": ({"ConfidentialityCode": many(N)}, {"D2"}),
    "conf_or": ({"ConfidentialityCode": many(N, R)}, {"D2", "D3"}),
    "conf_and": ({"ConfidentialityCode": [many(N), many(R)]}, {"D2"}),
    "conf_and_all": ({"ConfidentialityCode": [many(R), many(N, R)], "Status": ALL_STATUS}, {"D2", "D3"}),
    # authorPerson: LIKE with % and _, case-sensitive, every other character literal; values OR-ed
    "author_contains": ({"AuthorPerson": many("%Schmidt%")}, {"D2"}),
    "author_case": ({"AuthorPerson": many("%schmidt%")}, set()),
    "author_exact": ({"AuthorPerson": many("^Schmidt^Hans")}, {"D2"}),
    "author_prefix_only": ({"AuthorPerson": many("^Schmidt")}, set()),
    "author_underscore": ({"AuthorPerson": many("_Schmidt_Hans")}, {"D2"}),
    "author_underscore_one_char": ({"AuthorPerson": many("_Schmidt_Han")}, set()),
    "author_or": ({"AuthorPerson": many("%Nobody%", "%Mustermann%")}, {"D3"}),
    "author_any": ({"AuthorPerson": many("%")}, {"D2", "D3"}),
    "author_star_literal": ({"AuthorPerson": many("%O*Neil%")}, {"D2"}),
    "author_star_not_wildcard": ({"AuthorPerson": many("%O*il%")}, set()),
    "author_underscore_for_star": ({"AuthorPerson": many("%O_Neil%")}, {"D2"}),
    "author_brackets_literal": ({"AuthorPerson": many("%[Sean]")}, {"D2"}),
    "author_brackets_not_a_class": ({"AuthorPerson": many("%[S]ean%")}, set()),
    "author_question_mark_literal": ({"AuthorPerson": many("%?Neil%")}, set()),
    "author_backslash_literal": ({"AuthorPerson": many("%\\%")}, set()),
    # everything together
    "all_parameters": (
        {
            "ClassCode": many(BIL),
            "FormatCode": many(KOS_FORMAT),
            "CreationTimeFrom": "2023",
            "CreationTimeTo": "2024",
            "ServiceStartTimeFrom": "20230601",
            "ServiceStopTimeTo": "20230602",
            "EventCodeList": [many(CT), many(E200)],
            "ConfidentialityCode": many(R),
            "AuthorPerson": many("%Schmidt%"),
            "Type": many(*BOTH_TYPES),
        },
        {"D2"},
    ),
}


@pytest.mark.parametrize("case", FIND_DOCUMENTS)
def test_find_documents(store, case):
    params, expected = FIND_DOCUMENTS[case]
    assert names(ask(store, StoredQuery.FIND_DOCUMENTS, find_docs(**params))) == expected


@pytest.mark.parametrize("pid", [P3, "UNKNOWN^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO"])
def test_find_documents_of_merged_or_unknown_patient_finds_nothing(store, pid):
    # P3 was merged into P1 (ITI-8 A40): its entry D6 is still stored under P3, yet not found by it
    params = {f"{_DE}PatientId": one(pid), f"{_DE}Status": ALL_STATUS}
    assert names(ask(store, StoredQuery.FIND_DOCUMENTS, params)) == set()


def test_find_documents_other_patient(store):
    params = {f"{_DE}PatientId": one(P2), f"{_DE}Status": ALL_STATUS}
    assert names(ask(store, StoredQuery.FIND_DOCUMENTS, params)) == {"D5"}


def test_find_documents_object_ref(store):
    answer = ask(store, StoredQuery.FIND_DOCUMENTS, find_docs(Status=ALL_STATUS), REFS)
    assert not answer.document_entries
    assert [NAMES[r.id] for r in answer.object_refs] == ["D1", "D2", "D3"]


def test_leaf_class_is_the_stored_xml(store):
    element = etree.fromstring(
        stored_query(store, request(StoredQuery.FIND_DOCUMENTS, find_docs(Status=ALL_STATUS)))
    )
    returned = element.findall(f"{rim('RegistryObjectList')}/{rim('ExtrinsicObject')}")
    with store.read() as conn:
        stored = db.objects_by_id(conn, [uid("D1"), uid("D2"), uid("D3")])
    assert [e.get("id") for e in returned] == [uid("D1"), uid("D2"), uid("D3")]
    for e in returned:
        assert etree.tostring(e, method="c14n", exclusive=True) == etree.tostring(
            etree.fromstring(stored[e.get("id")].ebrim), method="c14n", exclusive=True
        )


def test_home_community_id_marks_returned_objects(store):
    home = "urn:oid:1.2.3.4.5"
    leaf = ask(
        store,
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS2"))},
        home_community_id=home,
    )
    assert {leaf.submission_sets[0].home_community_id, leaf.document_entries[0].home_community_id} == {home}
    refs = ask(store, StoredQuery.FIND_DOCUMENTS, find_docs(), REFS, home_community_id=home)
    assert {r.home_community_id for r in refs.object_refs} == {home}


@pytest.mark.parametrize(
    "stored",
    [
        '<r:E xmlns:r="urn:r" id="a" home="urn:oid:9.9"><r:N/></r:E>',
        '<r:E xmlns:r="urn:r" home="urn:oid:9.9" id="a"/>',
        '<r:E xmlns:r="urn:r" id="a"/>',
        '<r:E xmlns:r="urn:r" id="x&gt;y" lhome="kept"><r:N home="inner"/></r:E>',
    ],
)
def test_home_replaces_what_the_stored_xml_carries(stored):
    # ITI TF-2a 3.18.4.1.2.3.8: the registry's own homeCommunityId, once, on the returned object only
    element = etree.fromstring(with_home(stored, "urn:oid:1.2&3"))
    original = etree.fromstring(stored)
    assert element.get("home") == "urn:oid:1.2&3"
    assert {k: v for k, v in element.attrib.items() if k != "home"} == {
        k: v for k, v in original.attrib.items() if k != "home"
    }
    assert [etree.tostring(c) for c in element] == [etree.tostring(c) for c in original]


def test_request_home_and_home_community_id_parameter_are_ignored(store):
    # NIST 11901 homeCommunityId: "homeCommunityId present - must not cause error"
    req = request(
        StoredQuery.GET_DOCUMENTS,
        {f"{_DE}UniqueId": many(unique_id("D2")), "$homeCommunityId": one("urn:oid:1.1.1")},
    )
    answer = adhoc_query_response_from_ebrim(
        etree.fromstring(stored_query(store, adhoc_query_request_to_ebrim(req)))
    )
    assert names(answer) == {"D2"}


def test_request_as_element_and_on_a_connection(store):
    element = adhoc_query_request_to_ebrim(request(StoredQuery.FIND_DOCUMENTS, find_docs()))
    with store.read() as conn:
        answer = etree.fromstring(stored_query(conn, element))
    assert names(adhoc_query_response_from_ebrim(answer)) == {"D2", "D3"}


def test_parameter_errors_come_from_the_parse(store):
    fails(
        ErrorCode.XDS_STORED_QUERY_MISSING_PARAM,
        store,
        StoredQuery.FIND_DOCUMENTS,
        {f"{_DE}PatientId": one(P1)},
    )
    fails(
        ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER,
        store,
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": many(uid("SS1"), uid("SS2"))},
    )


# --- FindDocumentsByReferenceId (ITI TF-2a 3.18.4.1.2.3.7.14) ----------------------------------------------


@pytest.mark.parametrize(
    ("references", "extra", "expected"),
    [
        (many(ACCESSION), {}, {"D2", "D3"}),
        (many(ORDER), {}, {"D2"}),
        (many(ACCESSION + "^^^"), {}, {"D2", "D3"}),  # trailing empty components: the same CXi
        (many("OTHER^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession", ORDER), {}, {"D2"}),
        (many(ACCESSION.replace("accession", "referral")), {}, set()),  # the type is part of the value
        # several Slots: AND of the Slots' OR-lists (ITI TF-2a 3.18.4.1.2.3.5)
        ([many(ACCESSION), many(ORDER)], {}, {"D2"}),
        ([many(ACCESSION), many(ORDER, "X^^^&1.2&ISO")], {}, {"D2"}),
        ([many(ORDER), many("X^^^&1.2&ISO")], {}, set()),
        (many(ACCESSION), {"Status": many(DEPRECATED)}, set()),
        (many(ACCESSION), {"ClassCode": many(Code("BEF", CS_CLASS))}, {"D3"}),
    ],
)
def test_find_documents_by_reference_id(store, references, extra, expected):
    params = find_docs(ReferenceIdList=references, **extra)
    assert names(ask(store, StoredQuery.FIND_DOCUMENTS_BY_REFERENCE_ID, params)) == expected


# --- FindSubmissionSets (ITI TF-2a 3.18.4.1.2.3.7.2) --------------------------------------------------------

FIND_SUBMISSION_SETS = {
    "all": ({}, {"SS1", "SS2", "SS3"}),
    "deprecated": ({"Status": many(DEPRECATED)}, set()),
    "source_id": ({"SourceId": many("1.2.3", SOURCE_ID)}, {"SS1", "SS2", "SS3"}),
    "other_source_id": ({"SourceId": many("1.2.3")}, set()),
    "time_from_inclusive": ({"SubmissionTimeFrom": "20240201130000"}, {"SS2", "SS3"}),
    "time_to_exclusive": ({"SubmissionTimeTo": "20240201130000"}, {"SS1"}),
    "time_range_month": ({"SubmissionTimeFrom": "202402", "SubmissionTimeTo": "202403"}, {"SS2"}),
    "time_out": ({"SubmissionTimeFrom": "2025"}, set()),
    "author": ({"AuthorPerson": one("%Schmidt%")}, {"SS2"}),
    "author_other": ({"AuthorPerson": one("%Mustermann%")}, {"SS1", "SS3"}),
    "author_none": ({"AuthorPerson": one("Nobody%")}, set()),
    "content_type": ({"ContentType": many(CONTENT_2)}, {"SS2"}),
    "content_type_none": ({"ContentType": many(Code("9", "1.2.3"))}, set()),
}


@pytest.mark.parametrize("case", FIND_SUBMISSION_SETS)
def test_find_submission_sets(store, case):
    extra, expected = FIND_SUBMISSION_SETS[case]
    params = {"$XDSSubmissionSetPatientId": one(P1), "$XDSSubmissionSetStatus": many(APPROVED)}
    params |= {f"$XDSSubmissionSet{k}": v for k, v in extra.items()}
    assert names(ask(store, StoredQuery.FIND_SUBMISSION_SETS, params)) == expected


def test_find_submission_sets_of_merged_patient(store):
    params = {"$XDSSubmissionSetPatientId": one(P3), "$XDSSubmissionSetStatus": many(APPROVED)}
    assert names(ask(store, StoredQuery.FIND_SUBMISSION_SETS, params)) == set()


# --- FindFolders (ITI TF-2a 3.18.4.1.2.3.7.3) ---------------------------------------------------------------

FIND_FOLDERS = {
    "approved": ({"Status": many(APPROVED)}, {"F1"}),
    "both": ({}, {"F1", "F2"}),
    "updated_from_inclusive": ({"LastUpdateTimeFrom": "20240301090000"}, {"F2"}),
    "updated_to_exclusive": ({"LastUpdateTimeTo": "20240301090000"}, {"F1"}),
    "codes_one": ({"CodeList": many(PAT)}, {"F2"}),
    "codes_or": ({"CodeList": many(PAT, ECR)}, {"F1", "F2"}),
    "codes_and": ({"CodeList": [many(ECR), many(PAT)]}, {"F2"}),
    "codes_and_unmatched": ({"CodeList": [many(ECR), many(Code("X", "1.2"))]}, set()),
}


@pytest.mark.parametrize("case", FIND_FOLDERS)
def test_find_folders(store, case):
    extra, expected = FIND_FOLDERS[case]
    params = {"$XDSFolderPatientId": one(P1), "$XDSFolderStatus": ALL_STATUS}
    params |= {f"$XDSFolder{k}": v for k, v in extra.items()}
    assert names(ask(store, StoredQuery.FIND_FOLDERS, params)) == expected


# --- GetAll (ITI TF-2a 3.18.4.1.2.3.7.4) --------------------------------------------------------------------

SS1_CONTENTS = {"SS1", "D1", "D2", "F1", "A_SS1_D1", "A_SS1_D2", "A_SS1_F1", "A_F1_D1", "A_SS1_A_F1_D1"}

P1_ASSOCIATIONS = {
    *("A_SS1_D1", "A_SS1_D2", "A_SS1_F1", "A_F1_D1", "A_SS1_A_F1_D1"),
    *("A_SS2_D3", "A_D3_RPLC_D1", "A_SS3_D4", "A_SS3_F2"),
}
# GetAll returns every Association with a source or target among the objects returned, whatever is at its
# other end: A_SS3_D4 and A_SS3_F2 come with SS3 although D4 (On-Demand) and F2 (Deprecated) do not
GET_ALL = {
    "default": ({}, {"SS1", "SS2", "SS3", "D1", "D2", "D3", "F1"} | P1_ASSOCIATIONS),
    "approved_documents": (
        {f"{_DE}Status": many(APPROVED)},
        {"SS1", "SS2", "SS3", "D2", "D3", "F1"} | P1_ASSOCIATIONS,
    ),
    "everything": (
        {f"{_DE}Type": many(*BOTH_TYPES), "$XDSFolderStatus": ALL_STATUS},
        {"SS1", "SS2", "SS3", "D1", "D2", "D3", "D4", "F1", "F2"} | P1_ASSOCIATIONS,
    ),
    # D1 and D3 left out: the RPLC between them is the one Association with neither end returned
    "format": (
        {f"{_DE}FormatCode": many(KOS_FORMAT)},
        {"SS1", "SS2", "SS3", "D2", "F1"} | P1_ASSOCIATIONS - {"A_D3_RPLC_D1"},
    ),
    "confidentiality_and": (
        {f"{_DE}ConfidentialityCode": [many(N), many(R)]},
        {"SS1", "SS2", "SS3", "D2", "F1"} | P1_ASSOCIATIONS - {"A_D3_RPLC_D1"},
    ),
    # no SubmissionSet: their HasMembers come by target; the one to the Folder link, and SS3's, do not
    "no_submission_sets": (
        {"$XDSSubmissionSetStatus": many(DEPRECATED)},
        {"D1", "D2", "D3", "F1", "A_SS1_D1", "A_SS1_D2", "A_SS1_F1", "A_F1_D1", "A_SS2_D3", "A_D3_RPLC_D1"},
    ),
}


@pytest.mark.parametrize("case", GET_ALL)
def test_get_all(store, case):
    extra, expected = GET_ALL[case]
    params = {
        "$patientId": one(P1),
        f"{_DE}Status": ALL_STATUS,
        "$XDSSubmissionSetStatus": many(APPROVED),
        "$XDSFolderStatus": many(APPROVED),
    }
    assert names(ask(store, StoredQuery.GET_ALL, params | extra)) == expected


def test_get_all_of_merged_patient(store):
    params = {"$patientId": one(P3), f"{_DE}Status": ALL_STATUS, "$XDSSubmissionSetStatus": ALL_STATUS}
    assert names(ask(store, StoredQuery.GET_ALL, params | {"$XDSFolderStatus": ALL_STATUS})) == set()


# --- GetDocuments, GetFolders, GetAssociations, GetDocumentsAndAssociations, GetSubmissionSets ---

GETS = {
    # GetDocuments (3.18.4.1.2.3.7.5): no status or objectType filter
    "documents_uuid": (
        StoredQuery.GET_DOCUMENTS,
        {f"{_DE}EntryUUID": many(uid("D1"), uid("D2"))},
        {"D1", "D2"},
    ),
    "documents_uuid_slots": (
        StoredQuery.GET_DOCUMENTS,
        {f"{_DE}EntryUUID": [many(uid("D1")), many(uid("D4"))]},
        {"D1", "D4"},
    ),
    "documents_unique_id": (StoredQuery.GET_DOCUMENTS, {f"{_DE}UniqueId": many(unique_id("D3"))}, {"D3"}),
    "documents_logical_id": (StoredQuery.GET_DOCUMENTS, {f"{_DE}LogicalID": many(uid("D1"))}, {"D1"}),
    "documents_unknown": (StoredQuery.GET_DOCUMENTS, {f"{_DE}EntryUUID": many(uid("nothing"))}, set()),
    "documents_not_a_document": (StoredQuery.GET_DOCUMENTS, {f"{_DE}EntryUUID": many(uid("F1"))}, set()),
    # GetFolders (3.18.4.1.2.3.7.6)
    "folders_uuid": (
        StoredQuery.GET_FOLDERS,
        {"$XDSFolderEntryUUID": many(uid("F1"), uid("F2"))},
        {"F1", "F2"},
    ),
    "folders_unique_id": (StoredQuery.GET_FOLDERS, {"$XDSFolderUniqueId": many(unique_id("F2"))}, {"F2"}),
    "folders_logical_id": (StoredQuery.GET_FOLDERS, {"$XDSFolderLogicalID": many(uid("F1"))}, {"F1"}),
    # GetAssociations (3.18.4.1.2.3.7.7): source or target
    "associations_document": (
        StoredQuery.GET_ASSOCIATIONS,
        {"$uuid": many(uid("D1"))},
        {"A_SS1_D1", "A_F1_D1", "A_D3_RPLC_D1"},
    ),
    "associations_submission_set": (
        StoredQuery.GET_ASSOCIATIONS,
        {"$uuid": many(uid("SS1"))},
        {"A_SS1_D1", "A_SS1_D2", "A_SS1_F1", "A_SS1_A_F1_D1"},
    ),
    "associations_association": (
        StoredQuery.GET_ASSOCIATIONS,
        {"$uuid": many(uid("A_F1_D1"))},
        {"A_SS1_A_F1_D1"},
    ),
    "associations_two": (
        StoredQuery.GET_ASSOCIATIONS,
        {"$uuid": many(uid("D3"), uid("D1"))},
        {"A_SS1_D1", "A_F1_D1", "A_D3_RPLC_D1", "A_SS2_D3"},
    ),
    # GetDocumentsAndAssociations (3.18.4.1.2.3.7.8)
    "documents_and_associations_uuid": (
        StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS,
        {f"{_DE}EntryUUID": many(uid("D1"))},
        {"D1", "A_SS1_D1", "A_F1_D1", "A_D3_RPLC_D1"},
    ),
    "documents_and_associations_unique_id": (
        StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS,
        {f"{_DE}UniqueId": many(unique_id("D2"), unique_id("D3"))},
        {"D2", "D3", "A_SS1_D2", "A_SS2_D3", "A_D3_RPLC_D1"},
    ),
    # GetSubmissionSets (3.18.4.1.2.3.7.9): only HasMember from a SubmissionSet (not F1 -> D1)
    "submission_sets_of_document_and_folder": (
        StoredQuery.GET_SUBMISSION_SETS,
        {"$uuid": many(uid("D1"), uid("F1"))},
        {"SS1", "A_SS1_D1", "A_SS1_F1"},
    ),
    "submission_sets_two": (
        StoredQuery.GET_SUBMISSION_SETS,
        {"$uuid": many(uid("D2"), uid("D3"))},
        {"SS1", "SS2", "A_SS1_D2", "A_SS2_D3"},
    ),
    "submission_sets_of_association": (
        StoredQuery.GET_SUBMISSION_SETS,
        {"$uuid": many(uid("A_F1_D1"))},
        {"SS1", "A_SS1_A_F1_D1"},
    ),
    "submission_sets_unknown": (StoredQuery.GET_SUBMISSION_SETS, {"$uuid": many(uid("x"))}, set()),
}


@pytest.mark.parametrize("case", GETS)
def test_get_by_id(store, case):
    query, params, expected = GETS[case]
    assert names(ask(store, query, params)) == expected


# --- GetSubmissionSetAndContents, GetFolderAndContents, GetFoldersForDocument, GetRelatedDocuments ---

CONTENTS = {
    "ss_uuid": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS1"))},
        SS1_CONTENTS,
    ),
    "ss_unique_id": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetUniqueId": one(unique_id("SS1"))},
        SS1_CONTENTS,
    ),
    # D1 filtered out: its HasMember, the Folder link to it and the HasMember to that link go too
    "ss_format": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS1")), f"{_DE}FormatCode": many(KOS_FORMAT)},
        {"SS1", "D2", "F1", "A_SS1_D2", "A_SS1_F1"},
    ),
    "ss_confidentiality": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS1")), f"{_DE}ConfidentialityCode": many(R)},
        {"SS1", "D2", "F1", "A_SS1_D2", "A_SS1_F1"},
    ),
    "ss_confidentiality_and": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS1")), f"{_DE}ConfidentialityCode": [many(R), many(E200)]},
        {"SS1", "F1", "A_SS1_F1"},
    ),
    # the RPLC of SS2's document is no member of SS2
    "ss_replacement": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS2"))},
        {"SS2", "D3", "A_SS2_D3"},
    ),
    "ss_on_demand_default": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS3"))},
        {"SS3", "F2", "A_SS3_F2"},
    ),
    "ss_on_demand_asked": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS3")), f"{_DE}Type": many(*BOTH_TYPES)},
        {"SS3", "F2", "D4", "A_SS3_F2", "A_SS3_D4"},
    ),
    "ss_unknown": (
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("x"))},
        set(),
    ),
    "folder_uuid": (
        StoredQuery.GET_FOLDER_AND_CONTENTS,
        {"$XDSFolderEntryUUID": one(uid("F1"))},
        {"F1", "D1", "A_F1_D1"},
    ),
    "folder_unique_id": (
        StoredQuery.GET_FOLDER_AND_CONTENTS,
        {"$XDSFolderUniqueId": one(unique_id("F1"))},
        {"F1", "D1", "A_F1_D1"},
    ),
    "folder_confidentiality_filtered": (
        StoredQuery.GET_FOLDER_AND_CONTENTS,
        {"$XDSFolderEntryUUID": one(uid("F1")), f"{_DE}ConfidentialityCode": many(R)},
        {"F1"},
    ),
    "folder_format": (
        StoredQuery.GET_FOLDER_AND_CONTENTS,
        {
            "$XDSFolderEntryUUID": one(uid("F1")),
            f"{_DE}FormatCode": many(Code("urn:ihe-d:mime", "1.3.6.1.4.1.19376.3.276.1.5.6")),
        },
        {"F1", "D1", "A_F1_D1"},
    ),
    "folder_empty": (StoredQuery.GET_FOLDER_AND_CONTENTS, {"$XDSFolderEntryUUID": one(uid("F2"))}, {"F2"}),
    "folders_for_document": (
        StoredQuery.GET_FOLDERS_FOR_DOCUMENT,
        {f"{_DE}EntryUUID": one(uid("D1"))},
        {"F1"},
    ),
    "folders_for_document_unique_id": (
        StoredQuery.GET_FOLDERS_FOR_DOCUMENT,
        {f"{_DE}UniqueId": one(unique_id("D1"))},
        {"F1"},
    ),
    "folders_for_document_none": (
        StoredQuery.GET_FOLDERS_FOR_DOCUMENT,
        {f"{_DE}EntryUUID": one(uid("D2"))},
        set(),
    ),
}

RPLC = many(AssociationType.RPLC, AssociationType.APND)
RELATED = {
    "original": (
        {f"{_DE}EntryUUID": one(uid("D1")), "$AssociationTypes": RPLC},
        {"D1", "D3", "A_D3_RPLC_D1"},
    ),
    "replacement": (
        {f"{_DE}UniqueId": one(unique_id("D3")), "$AssociationTypes": RPLC},
        {"D1", "D3", "A_D3_RPLC_D1"},
    ),
    "other_type": (
        {f"{_DE}EntryUUID": one(uid("D1")), "$AssociationTypes": many(AssociationType.XFRM)},
        set(),
    ),
    # HasMember from a Folder or SubmissionSet relates no documents (NIST 11909 near_folder)
    "has_member": (
        {f"{_DE}EntryUUID": one(uid("D1")), "$AssociationTypes": many(AssociationType.HAS_MEMBER)},
        set(),
    ),
    "unrelated": ({f"{_DE}EntryUUID": one(uid("D2")), "$AssociationTypes": RPLC}, set()),
    "unknown": ({f"{_DE}EntryUUID": one(uid("x")), "$AssociationTypes": RPLC}, set()),
}


@pytest.mark.parametrize("case", CONTENTS)
def test_get_contents(store, case):
    query, params, expected = CONTENTS[case]
    assert names(ask(store, query, params)) == expected


@pytest.mark.parametrize("case", RELATED)
def test_get_related_documents(store, case):
    params, expected = RELATED[case]
    assert names(ask(store, StoredQuery.GET_RELATED_DOCUMENTS, params)) == expected


def test_answer_order_is_kind_then_registration(store):
    element = etree.fromstring(
        stored_query(
            store,
            request(
                StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS, {"$XDSSubmissionSetEntryUUID": one(uid("SS1"))}
            ),
        )
    )
    order = [NAMES[child.get("id")] for child in element.find(rim("RegistryObjectList"))]
    assert order == ["SS1", "F1", "D1", "D2", "A_SS1_D1", "A_SS1_D2", "A_SS1_F1", "A_F1_D1", "A_SS1_A_F1_D1"]


def test_object_refs_of_contents(store):
    answer = ask(
        store,
        StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": one(uid("SS2"))},
        REFS,
    )
    assert [NAMES[r.id] for r in answer.object_refs] == ["SS2", "D3", "A_SS2_D3"]
    assert not (answer.submission_sets or answer.document_entries or answer.associations)


# --- XDSResultNotSinglePatient (ITI TF-2a 3.18.4.1.3; NIST 12368) -------------------------------------------

TWO_PATIENTS = {
    "documents": (StoredQuery.GET_DOCUMENTS, {f"{_DE}EntryUUID": many(uid("D2"), uid("D5"))}, {"D2", "D5"}),
    "documents_merged": (
        StoredQuery.GET_DOCUMENTS,
        {f"{_DE}UniqueId": many(unique_id("D2"), unique_id("D6"))},
        {"D2", "D6"},
    ),
    "documents_and_associations": (
        StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS,
        {f"{_DE}EntryUUID": many(uid("D3"), uid("D5"))},
        {"D3", "D5", "A_SS2_D3", "A_D3_RPLC_D1", "A_SS4_D5"},
    ),
    "submission_sets": (
        StoredQuery.GET_SUBMISSION_SETS,
        {"$uuid": many(uid("D2"), uid("D5"))},
        {"SS1", "SS4", "A_SS1_D2", "A_SS4_D5"},
    ),
}


@pytest.mark.parametrize("case", TWO_PATIENTS)
def test_leaf_class_spanning_patients_is_refused(store, case):
    query, params, expected = TWO_PATIENTS[case]
    fails(ErrorCode.XDS_RESULT_NOT_SINGLE_PATIENT, store, query, params)
    assert names(ask(store, query, params, REFS)) == expected


def test_associations_alone_are_of_no_patient(store):
    params = {"$uuid": many(uid("D3"), uid("D5"))}
    assert names(ask(store, StoredQuery.GET_ASSOCIATIONS, params)) == {"A_SS2_D3", "A_D3_RPLC_D1", "A_SS4_D5"}


# --- XDSTooManyResults ------------------------------------------------------------------------------------


def test_too_many_results(store):
    params = find_docs(Status=ALL_STATUS)  # D1, D2, D3
    assert len(names(ask(store, StoredQuery.FIND_DOCUMENTS, params, limits=QueryLimits(leaf_class=3)))) == 3
    fails(
        ErrorCode.XDS_TOO_MANY_RESULTS,
        store,
        StoredQuery.FIND_DOCUMENTS,
        params,
        limits=QueryLimits(leaf_class=2),
    )
    # ObjectRef answers have their own, higher cap
    refs = ask(
        store, StoredQuery.FIND_DOCUMENTS, params, REFS, limits=QueryLimits(leaf_class=2, object_refs=3)
    )
    assert len(refs.object_refs) == 3
    fails(
        ErrorCode.XDS_TOO_MANY_RESULTS,
        store,
        StoredQuery.FIND_DOCUMENTS,
        params,
        REFS,
        limits=QueryLimits(leaf_class=2, object_refs=2),
    )


def test_too_many_results_counts_each_object_once(store):
    # D1 is both source-side and target-side of associations asked for: counted once
    params = {"$uuid": many(uid("D1"), uid("D3"))}
    assert len(names(ask(store, StoredQuery.GET_ASSOCIATIONS, params, limits=QueryLimits(leaf_class=4)))) == 4
    fails(
        ErrorCode.XDS_TOO_MANY_RESULTS,
        store,
        StoredQuery.GET_ASSOCIATIONS,
        params,
        limits=QueryLimits(leaf_class=3),
    )


def test_every_stored_query_is_planned():
    from registry.queries import PLANNERS

    assert set(PLANNERS) == set(StoredQuery)


def test_default_limits():
    assert QueryLimits().leaf_class == 5000 and QueryLimits().object_refs == 100_000


# --- a registry of its own: many documents --------------------------------------------------------------


def test_many_documents_of_one_patient(database_url: str):
    from dataclasses import replace

    from query_baseline import objects

    from registry.rows import object_row

    base = next(o for o in objects() if getattr(o, "entry_uuid", None) == uid("D2"))
    entries = [
        replace(
            base,
            entry_uuid=uid(f"many{i}"),
            unique_id=f"1.2.3.{i}",
            logical_id=uid(f"many{i}"),
            creation_time=f"2023{i % 12 + 1:02d}01",
        )
        for i in range(300)
    ]
    registry = db.RegistryStore.open(database_url)
    try:
        with registry.write() as conn:
            db.save_patient(conn, P1, name=None, birth_date=None, sex=None)
            db.insert_objects(conn, [object_row(e) for e in entries])
        answer = ask(
            registry,
            StoredQuery.FIND_DOCUMENTS,
            find_docs(CreationTimeFrom="20230601", CreationTimeTo="20230701"),
        )
        assert len(answer.document_entries) == 25
        assert [d.entry_uuid for d in answer.document_entries] == [
            e.entry_uuid for e in entries if e.creation_time == "20230601"
        ]
        fails(
            ErrorCode.XDS_TOO_MANY_RESULTS,
            registry,
            StoredQuery.FIND_DOCUMENTS,
            find_docs(),
            limits=QueryLimits(leaf_class=299),
        )
        assert len(ask(registry, StoredQuery.FIND_DOCUMENTS, find_docs(), REFS).object_refs) == 300
    finally:
        registry.close()


# --- one statement per query, database failures -------------------------------------------------------------

ONE_OF_EACH = {
    StoredQuery.FIND_DOCUMENTS: find_docs(
        AuthorPerson=many("%Schmidt%"), EventCodeList=[many(E200), many(CT)]
    ),
    StoredQuery.FIND_DOCUMENTS_BY_REFERENCE_ID: find_docs(ReferenceIdList=many(ACCESSION)),
    StoredQuery.FIND_SUBMISSION_SETS: {
        "$XDSSubmissionSetPatientId": one(P1),
        "$XDSSubmissionSetStatus": ALL_STATUS,
    },
    StoredQuery.FIND_FOLDERS: {"$XDSFolderPatientId": one(P1), "$XDSFolderStatus": ALL_STATUS},
    StoredQuery.GET_ALL: {
        "$patientId": one(P1),
        f"{_DE}Status": ALL_STATUS,
        "$XDSSubmissionSetStatus": ALL_STATUS,
        "$XDSFolderStatus": ALL_STATUS,
    },
    StoredQuery.GET_DOCUMENTS: {f"{_DE}EntryUUID": many(uid("D1")), "$MetadataLevel": "1"},
    StoredQuery.GET_FOLDERS: {"$XDSFolderEntryUUID": many(uid("F1"))},
    StoredQuery.GET_ASSOCIATIONS: {"$uuid": many(uid("D1"))},
    StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS: {f"{_DE}EntryUUID": many(uid("D1"))},
    StoredQuery.GET_SUBMISSION_SETS: {"$uuid": many(uid("D1"))},
    StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS: {"$XDSSubmissionSetEntryUUID": one(uid("SS1"))},
    StoredQuery.GET_FOLDER_AND_CONTENTS: {"$XDSFolderEntryUUID": one(uid("F1"))},
    StoredQuery.GET_FOLDERS_FOR_DOCUMENT: {f"{_DE}EntryUUID": one(uid("D1"))},
    StoredQuery.GET_RELATED_DOCUMENTS: {f"{_DE}EntryUUID": one(uid("D1")), "$AssociationTypes": RPLC},
}


@pytest.mark.parametrize("query", list(StoredQuery), ids=lambda q: q.name)
@pytest.mark.parametrize("return_type", [LEAF, REFS])
def test_each_query_is_one_statement(store, query, return_type):
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        answer = ask(store, query, ONE_OF_EACH[query], return_type)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert names(answer), "each of these finds something"
    assert len(statements) == 1, statements


def test_a_database_failure_is_a_registry_error(tmp_path):
    broken = db.RegistryStore(create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}"))  # no tables
    try:
        fails(ErrorCode.XDS_REGISTRY_ERROR, broken, StoredQuery.FIND_DOCUMENTS, find_docs())
    finally:
        broken.close()

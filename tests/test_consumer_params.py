"""consumer.params and consumer.cli_values: typed values to the Slot values of ITI TF-2a 3.18.4.1.2.3.5.

The encoded slots are read back with the registry's own parser (xds.validation.parse_stored_query), so the
client and the server agree on the wire form without this test restating it.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sample_data import CS_CLASS, CS_EVENT_CONTEXT, PATIENT_ID

from consumer.cli_values import CliParams
from consumer.params import ParameterError, encode_all, parameter_names, query_by_name, quote
from xds.model import AdhocQueryRequest, Code
from xds.validation.stored_query import parse_stored_query
from xds.vocabulary import AssociationType, Status, StoredQuery


def _parsed(query: StoredQuery, **params: object):  # noqa: ANN202
    slots = encode_all(query, params)
    return parse_stored_query(AdhocQueryRequest(query, slots)).params


def test_strings_are_quoted_with_doubled_quotes():
    assert quote("O'Brien") == "'O''Brien'"
    parsed = _parsed(
        StoredQuery.FIND_DOCUMENTS, patient_id=PATIENT_ID, status="approved", author_person=["O'Brien%"]
    )
    assert parsed["$XDSDocumentEntryAuthorPerson"].values == ("O'Brien%",)


def test_find_documents_round_trips_through_the_registry_parser():
    parsed = _parsed(
        StoredQuery.FIND_DOCUMENTS,
        patient_id=PATIENT_ID,
        status=[Status.APPROVED, "deprecated"],
        class_code=[Code("BEF", CS_CLASS), f"BIL^^{CS_CLASS}"],
        event_code_list=[[Code("E200", CS_EVENT_CONTEXT)], [Code("E100", CS_EVENT_CONTEXT)]],
        creation_time_from=datetime(2024, 1, 15, 11, 30, tzinfo=timezone(timedelta(hours=1))),
        creation_time_to=date(2024, 2, 1),
        document_entry_type="on-demand",
    )
    assert parsed["$XDSDocumentEntryPatientId"].value.render() == PATIENT_ID
    assert set(parsed["$XDSDocumentEntryStatus"].values) == {Status.APPROVED, Status.DEPRECATED}
    assert parsed["$XDSDocumentEntryClassCode"].groups == ((Code("BEF", CS_CLASS), Code("BIL", CS_CLASS)),)
    # ITI TF-2a 3.18.4.1.2.3.5: two Slots of eventCodeList are an AND of two OR-lists
    assert len(parsed["$XDSDocumentEntryEventCodeList"].groups) == 2
    assert parsed["$XDSDocumentEntryCreationTimeFrom"].value == "20240115103000"  # in UTC
    assert parsed["$XDSDocumentEntryCreationTimeTo"].value == "20240201"


def test_every_query_knows_its_python_names():
    for query in StoredQuery:
        names = parameter_names(query)
        assert all(name.isidentifier() for name in names), names
    assert {"document_entry_status", "submission_set_status", "folder_status"} <= set(
        parameter_names(StoredQuery.GET_ALL)
    )


def test_query_names_in_every_spelling():
    assert query_by_name("find-documents") is StoredQuery.FIND_DOCUMENTS
    assert query_by_name("GetSubmissionSetAndContents") is StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS
    assert query_by_name(StoredQuery.GET_RELATED_DOCUMENTS.value) is StoredQuery.GET_RELATED_DOCUMENTS
    with pytest.raises(ParameterError, match="unknown stored query"):
        query_by_name("find-everything")


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"nonsense": "x"}, "no parameter"),
        ({"creation_time_from": "yesterday"}, "DTM"),
        ({"class_code": "BEF"}, "code\\^\\^codingScheme"),
        ({"class_code": [[Code("BEF", CS_CLASS)]]}, "list of lists"),  # classCode has no AND form
        ({"patient_id": "PAT-1"}, "assigning authority"),
        ({"status": "lost"}, "not a status"),
        ({"document_entry_type": "sometimes"}, "DocumentEntry type"),
        ({"patient_id": [PATIENT_ID, PATIENT_ID]}, "single value"),
    ],
)
def test_bad_values_are_refused_before_sending(params, problem):
    with pytest.raises(ParameterError, match=problem):
        encode_all(StoredQuery.FIND_DOCUMENTS, params)


def test_association_types_by_short_name():
    query = StoredQuery.GET_RELATED_DOCUMENTS
    parsed = _parsed(query, entry_uuid="urn:uuid:1", association_types=["RPLC", "APND"])
    assert set(parsed["$AssociationTypes"].values) == {AssociationType.RPLC, AssociationType.APND}


def test_naive_datetimes_are_utc():
    parsed = _parsed(
        StoredQuery.FIND_DOCUMENTS, patient_id=PATIENT_ID, status="approved",
        creation_time_from=datetime(2024, 1, 15, 10, 0),
        creation_time_to=datetime(2024, 1, 15, 10, 0, tzinfo=UTC),
    )
    assert parsed["$XDSDocumentEntryCreationTimeFrom"].value == "20240115100000"
    assert parsed["$XDSDocumentEntryCreationTimeTo"].value == "20240115100000"


def test_command_line_values_bare_codes_and_and_groups():
    params = CliParams(StoredQuery.FIND_DOCUMENTS)
    params.add("patient_id", PATIENT_ID)
    params.add("status", "approved,deprecated")
    params.add_pair("class_code=BEF,BIL")  # looked up in the IHE-DE value sets
    params.add_pair(f"$XDSDocumentEntryEventCodeList=E200^^{CS_EVENT_CONTEXT}")
    params.add_pair("event_code_list=E100")
    slots = encode_all(StoredQuery.FIND_DOCUMENTS, params.build())
    parsed = parse_stored_query(AdhocQueryRequest(StoredQuery.FIND_DOCUMENTS, slots)).params
    assert parsed["$XDSDocumentEntryClassCode"].groups == ((Code("BEF", CS_CLASS), Code("BIL", CS_CLASS)),)
    assert [g[0].code for g in parsed["$XDSDocumentEntryEventCodeList"].groups] == ["E200", "E100"]


def test_command_line_wire_values_pass_unchanged():
    params = CliParams(StoredQuery.FIND_DOCUMENTS)
    params.add_pair("$XDSDocumentEntryClassCode=('BEF')")
    assert params.raw[0].values == ("('BEF')",)
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        params.add_pair("class_code")

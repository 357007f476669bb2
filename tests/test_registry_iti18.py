"""ITI-18 over HTTP against a running registry filled through ITI-42 and ITI-8, on SQLite and PostgreSQL.

The queries themselves are tested in depth in test_registry_queries*.py; here: the SOAP endpoint, zeep as
an independent client using our ?wsdl, the error answers, the configured result cap, and what a patient
merge does to queries (ITI TF-2a 3.18.4.1.2.3.9.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from registry_helpers import Mllp, RegistryServer, adt, running_registry, single_document
from sample_data import DOMAIN_OID, PATIENT_ID

from xds.ebrim import adhoc_query_request_to_ebrim, adhoc_query_response_from_ebrim
from xds.errors import ErrorCode
from xds.model import AdhocQueryRequest, AdhocQueryResponse, QueryParameter
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus, ReturnType, Status, StoredQuery

OTHER = f"PAT-2000^^^&{DOMAIN_OID}&ISO"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[RegistryServer]:
    with running_registry(database_url, tmp_path / "data", query_max_leaf_class=3) as server:
        server.add_patient()
        yield server


def find_documents(pid: str, return_type: str = ReturnType.LEAF_CLASS) -> AdhocQueryRequest:
    return AdhocQueryRequest(
        StoredQuery.FIND_DOCUMENTS,
        (
            QueryParameter("$XDSDocumentEntryPatientId", (f"'{pid}'",)),
            QueryParameter("$XDSDocumentEntryStatus", (f"('{Status.APPROVED}')",)),
        ),
        return_type=return_type,
    )


def query(registry: RegistryServer, request: AdhocQueryRequest) -> AdhocQueryResponse:
    reply = registry.client.call(registry.url, Transaction.ITI_18, adhoc_query_request_to_ebrim(request))
    assert reply.action == Transaction.ITI_18.info.response_action
    return adhoc_query_response_from_ebrim(reply.body)


def unique_ids(response: AdhocQueryResponse) -> list[str]:
    return [de.unique_id for de in response.document_entries]


def test_find_documents_after_register(registry: RegistryServer) -> None:
    submissions = [single_document(str(i)) for i in (1, 2)]
    for submission in submissions:
        assert registry.register(submission).status == ResponseStatus.SUCCESS
    response = query(registry, find_documents(PATIENT_ID))
    assert response.status == ResponseStatus.SUCCESS
    assert unique_ids(response) == [s.document_entries[0].unique_id for s in submissions]
    assert all(de.availability_status == Status.APPROVED for de in response.document_entries)


def test_zeep_through_the_served_wsdl(registry: RegistryServer) -> None:
    assert registry.register(single_document("3")).status == ResponseStatus.SUCCESS
    client = zeep.Client(registry.url + "?wsdl")
    result = client.service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "ObjectRef", "returnComposedObjects": True},
        AdhocQuery={
            "id": StoredQuery.FIND_DOCUMENTS.value,
            "Slot": [
                {"name": "$XDSDocumentEntryPatientId", "ValueList": {"Value": [f"'{PATIENT_ID}'"]}},
                {"name": "$XDSDocumentEntryStatus", "ValueList": {"Value": [f"('{Status.APPROVED}')"]}},
            ],
        },
    )
    assert result.status == ResponseStatus.SUCCESS
    refs = result.RegistryObjectList._value_1
    assert len(refs) == 1 and refs[0]["ObjectRef"].id.startswith("urn:uuid:")


def test_missing_parameter_answer(registry: RegistryServer) -> None:
    request = AdhocQueryRequest(StoredQuery.FIND_DOCUMENTS, find_documents(PATIENT_ID).parameters[:1])
    response = query(registry, request)
    assert response.status == ResponseStatus.FAILURE
    assert [e.code for e in response.errors] == [ErrorCode.XDS_STORED_QUERY_MISSING_PARAM]


def test_too_many_results_by_configuration(registry: RegistryServer) -> None:
    for i in range(4):
        assert registry.register(single_document(f"4.{i}")).status == ResponseStatus.SUCCESS
    response = query(registry, find_documents(PATIENT_ID))
    assert response.status == ResponseStatus.FAILURE
    assert [e.code for e in response.errors] == [ErrorCode.XDS_TOO_MANY_RESULTS]
    assert response.document_entries == ()
    # ObjectRef answers have their own, larger cap
    assert len(query(registry, find_documents(PATIENT_ID, ReturnType.OBJECT_REF)).object_refs) == 4


def test_queries_after_a_merge(registry: RegistryServer) -> None:
    peer = Mllp(registry.mllp_port)
    try:
        assert peer.send(adt("A01", OTHER))["MSA"][1] == "AA"
        mine, theirs = single_document("5"), single_document("6", OTHER)
        for submission in (mine, theirs):
            assert registry.register(submission).status == ResponseStatus.SUCCESS
        assert peer.send(adt("A40", PATIENT_ID, OTHER))["MSA"][1] == "AA"
    finally:
        peer.close()
    # ITI TF-2a 3.18.4.1.2.3.9.1: the subsumed ID finds nothing; the survivor finds both, under its own ID
    assert query(registry, find_documents(OTHER)).document_entries == ()
    survivor = query(registry, find_documents(PATIENT_ID))
    assert sorted(unique_ids(survivor)) == sorted(s.document_entries[0].unique_id for s in (mine, theirs))
    assert {de.patient_id.render() for de in survivor.document_entries} == {PATIENT_ID}

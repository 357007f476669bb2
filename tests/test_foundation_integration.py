"""The core parts working together over real sockets, before any actor exists.

A server made only of the foundation (SOAP route + our WSDL + ebRIM codec + validation per transaction)
is called by zeep, knowing nothing but the endpoint URL, and by our own client with MTOM. The handlers do
what every actor's front door will do: decode, validate, answer or raise XdsError. There is no registry
behind them, so a valid query gets an empty result; what is checked is everything on the way there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import zeep
from sample_data import DOMAIN_OID, find_documents_query, pnr_request, register_submission
from soap_helpers import serving

from xds.ebrim import (
    adhoc_query_request_from_ebrim,
    adhoc_query_request_to_ebrim,
    adhoc_query_response_from_ebrim,
    adhoc_query_response_to_ebrim,
    failure_body,
    pnr_from_ebrim,
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
    registry_response_to_ebrim,
    submit_objects_from_ebrim,
    submit_objects_to_ebrim,
)
from xds.errors import ErrorCode, SoapFaultCode
from xds.hl7v2 import CX
from xds.model import AdhocQueryResponse, RegistryResponse
from xds.schemas import PublishedWsdl
from xds.soap import (
    DetailedSoapFault,
    Operation,
    SoapClient,
    SoapRequest,
    SoapResponse,
    create_app,
    soap_route,
)
from xds.transactions import Transaction
from xds.validation import parse_stored_query, validate_or_raise
from xds.vocabulary import ResponseStatus, Status, StoredQuery


async def stored_query(request: SoapRequest) -> SoapResponse:
    parse_stored_query(adhoc_query_request_from_ebrim(request.body))  # XdsError -> AdhocQueryResponse
    return SoapResponse(adhoc_query_response_to_ebrim(AdhocQueryResponse(ResponseStatus.SUCCESS)))


async def register(request: SoapRequest) -> SoapResponse:
    warnings = validate_or_raise(submit_objects_from_ebrim(request.body), Transaction.ITI_42)
    return SoapResponse(registry_response_to_ebrim(RegistryResponse(ResponseStatus.SUCCESS, tuple(warnings))))


async def provide(request: SoapRequest) -> SoapResponse:
    pnr = pnr_from_ebrim(request.body, request.attachments)
    validate_or_raise(pnr, Transaction.ITI_41)
    # what a repository does with each document: read it back from the spool in chunks
    for document in pnr.documents:
        digest = hashlib.sha1()
        for chunk in document.content.iter_chunks():
            digest.update(chunk)
        assert digest.hexdigest() == document.content.sha1
    return SoapResponse(registry_response_to_ebrim(RegistryResponse(ResponseStatus.SUCCESS)))


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spool = tmp_path_factory.mktemp("spool")
    registry = soap_route(
        "/xds/registry",
        [
            Operation(Transaction.ITI_18, stored_query, failure_body),
            Operation(Transaction.ITI_42, register, failure_body),
        ],
        wsdl=PublishedWsdl("registry"),
        spool_dir=spool,
    )
    repository = soap_route(
        "/xds/repository",
        [Operation(Transaction.ITI_41, provide, failure_body)],
        wsdl=PublishedWsdl("repository"),
        spool_dir=spool,
        memory_threshold=1024,  # the test documents are spooled to disk, as large ones are
    )
    with serving(create_app([registry, repository], actors=["registry", "repository"])) as url:
        yield url


@pytest.fixture(scope="module")
def zeep_registry(base_url: str) -> zeep.Client:
    # the WSDL and every schema it imports come from the endpoint itself (?wsdl, ?xsd=NAME); zeep adds the
    # WS-Addressing headers on its own because the WSDL's binding says wsaw:UsingAddressing
    return zeep.Client(f"{base_url}/xds/registry?wsdl")


def _find_documents(client: zeep.Client, slots: list[dict], query_id: str = StoredQuery.FIND_DOCUMENTS):
    return client.service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={"id": query_id, "Slot": slots},
    )


PATIENT_SLOT = {"name": "$XDSDocumentEntryPatientId", "ValueList": {"Value": [f"'P1^^^&{DOMAIN_OID}&ISO'"]}}
STATUS_SLOT = {"name": "$XDSDocumentEntryStatus", "ValueList": {"Value": [f"('{Status.APPROVED}')"]}}


def test_zeep_finds_the_port_at_the_endpoint_url(zeep_registry: zeep.Client, base_url: str) -> None:
    (service,) = zeep_registry.wsdl.services.values()
    (port,) = service.ports.values()
    assert port.binding_options["address"] == f"{base_url}/xds/registry"


def test_zeep_stored_query_gets_a_success(zeep_registry: zeep.Client) -> None:
    result = _find_documents(zeep_registry, [PATIENT_SLOT, STATUS_SLOT])
    assert result.status == ResponseStatus.SUCCESS
    assert result.RegistryErrorList is None


def test_zeep_query_without_patient_id_gets_missing_param(zeep_registry: zeep.Client) -> None:
    result = _find_documents(zeep_registry, [STATUS_SLOT])
    assert result.status == ResponseStatus.FAILURE
    codes = [e.errorCode for e in result.RegistryErrorList.RegistryError]
    assert codes == [ErrorCode.XDS_STORED_QUERY_MISSING_PARAM]


def test_zeep_unknown_query_id_gets_unknown_stored_query(zeep_registry: zeep.Client) -> None:
    result = _find_documents(zeep_registry, [PATIENT_SLOT], "urn:uuid:00000000-0000-0000-0000-000000000000")
    assert result.status == ResponseStatus.FAILURE
    assert result.RegistryErrorList.RegistryError[0].errorCode == ErrorCode.XDS_UNKNOWN_STORED_QUERY


def test_our_client_and_codec_read_the_query_response(base_url: str) -> None:
    with SoapClient() as client:
        reply = client.call(
            f"{base_url}/xds/registry",
            Transaction.ITI_18,
            adhoc_query_request_to_ebrim(find_documents_query()),
        )
    assert reply.status_code == 200 and reply.action == Transaction.ITI_18.info.response_action
    assert adhoc_query_response_from_ebrim(reply.body) == AdhocQueryResponse(ResponseStatus.SUCCESS)


def test_register_accepts_the_baseline(base_url: str) -> None:
    with SoapClient() as client:
        reply = client.call(
            f"{base_url}/xds/registry", Transaction.ITI_42, submit_objects_to_ebrim(register_submission())
        )
    assert registry_response_from_ebrim(reply.body).status == ResponseStatus.SUCCESS


def test_register_with_two_patients_gets_patient_id_does_not_match(base_url: str) -> None:
    baseline = register_submission()
    other = CX.parse(f"OTHER-1^^^&{DOMAIN_OID}&ISO")
    entries = (replace(baseline.document_entries[0], patient_id=other), *baseline.document_entries[1:])
    with SoapClient() as client:
        reply = client.call(
            f"{base_url}/xds/registry",
            Transaction.ITI_42,
            submit_objects_to_ebrim(replace(baseline, document_entries=entries)),
        )
    response = registry_response_from_ebrim(reply.body)
    assert response.status == ResponseStatus.FAILURE
    assert ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH in {e.code for e in response.errors}


def test_provide_and_register_over_mtom(base_url: str, tmp_path: Path) -> None:
    body, parts = pnr_to_ebrim_with_parts(pnr_request())
    assert parts, "the documents travel as MIME parts"
    with SoapClient(spool_dir=tmp_path) as client:
        reply = client.call(f"{base_url}/xds/repository", Transaction.ITI_41, body, parts)
    assert registry_response_from_ebrim(reply.body).status == ResponseStatus.SUCCESS


def test_provide_and_register_missing_its_document_part(base_url: str, tmp_path: Path) -> None:
    body, parts = pnr_to_ebrim_with_parts(pnr_request())
    # an xop:Include naming an absent part is a broken XOP package (XOP 1.0 3.1), not missing metadata:
    # a SOAP 1.2 Sender fault with HTTP 400
    with SoapClient(spool_dir=tmp_path) as client, pytest.raises(DetailedSoapFault) as info:
        client.call(f"{base_url}/xds/repository", Transaction.ITI_41, body, parts[:1])
    assert (info.value.code, info.value.http_status) == (SoapFaultCode.SENDER, 400)
    assert info.value.detail == "UnresolvedXopHref"

"""The body a transaction answers with when it fails (ITI TF-3 4.2.4; the SOAP boundary calls this)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml.etree import _Element

from xds.ebrim.query import adhoc_query_response_to_ebrim
from xds.ebrim.registry_response import registry_response_to_ebrim, status_from_errors
from xds.ebrim.retrieve import retrieve_response_to_ebrim
from xds.errors import RegistryError
from xds.model import AdhocQueryResponse, RegistryResponse, RetrieveDocumentSetResponse
from xds.transactions import Transaction

_REGISTRY_RESPONSE = {Transaction.ITI_41, Transaction.ITI_42, Transaction.RAD_68}
_RETRIEVE_RESPONSE = {Transaction.ITI_43, Transaction.RAD_69}


def failure_body(transaction: Transaction, errors: Sequence[RegistryError]) -> _Element:
    """ITI-41/42 (ITI TF-2b 3.41.4.2 / 3.42.4.2) and RAD-68: rs:RegistryResponse; ITI-18 (ITI TF-2a
    3.18.4.1.3): query:AdhocQueryResponse with an empty RegistryObjectList; ITI-43 (ITI TF-2b 3.43.4.2)
    and RAD-69 (RAD TF-3 4.69.4.2): xdsb:RetrieveDocumentSetResponse around rs:RegistryResponse.
    The status is Failure when any error has severity Error (ITI TF-3 4.2.4.2), else Success."""
    status = status_from_errors(errors)
    errs = tuple(errors)
    if transaction in _REGISTRY_RESPONSE:
        return registry_response_to_ebrim(RegistryResponse(status, errs))
    if transaction == Transaction.ITI_18:
        return adhoc_query_response_to_ebrim(AdhocQueryResponse(status, errs))
    if transaction in _RETRIEVE_RESPONSE:
        return retrieve_response_to_ebrim(RetrieveDocumentSetResponse(RegistryResponse(status, errs)))[0]
    raise ValueError(f"{transaction.info.code} has no ebXML response body")

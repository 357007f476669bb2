"""The repository as a client of its registry: ITI-42 to register, ITI-18 GetDocuments to ask what is there.

A failed ITI-42 call is one of two kinds, and the difference decides whether stored bytes may be deleted:
``certain`` -- the registry did not process the request (no connection, not a SOAP endpoint, a SOAP fault);
otherwise the request may have been processed and only the answer was lost (timeout, broken connection).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import httpx

from xds.config import Settings
from xds.ebrim import (
    adhoc_query_request_to_ebrim,
    adhoc_query_response_from_ebrim,
    registry_response_from_ebrim,
    submit_objects_to_ebrim,
)
from xds.errors import SoapFault
from xds.model import AdhocQueryRequest, QueryParameter, RegistryResponse, Submission
from xds.runtime import local_url
from xds.soap import AsyncSoapClient, TransportError
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus, ReturnType, StoredQuery

REGISTRY_PATH = "/xds/registry"
QUERY_BATCH = 100  # uniqueIds per GetDocuments query


class RegistryUnavailable(Exception):
    def __init__(self, reason: str, *, certain: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.certain = certain  # True: the registry certainly did not register anything


def registry_url(settings: Settings) -> str:
    """``registry_url``, or (empty) the registry of this process (xds.config)."""
    return settings.registry_url or local_url(settings, REGISTRY_PATH)


def _not_sent(exc: TransportError) -> bool:
    cause = exc.__cause__
    if cause is None:
        return True  # an answer came, but not SOAP: nothing there processed an ITI-42
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol)


class RegistryLink:
    def __init__(
        self,
        url: str,
        repository_unique_id: str,
        *,
        timeout: float = 300.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.tls = tls  # the node's client context (ATNA): https registries see our certificate
        self.repository_unique_id = repository_unique_id
        self.timeout = timeout
        self._client: AsyncSoapClient | None = None

    @property
    def client(self) -> AsyncSoapClient:
        if self._client is None:  # made on first use, inside the event loop that uses it
            self._client = AsyncSoapClient(timeout=self.timeout, tls=self.tls)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def register(self, submission: Submission) -> RegistryResponse:
        """ITI-42 (ITI TF-2b 3.42); raises RegistryUnavailable when no RegistryResponse came back."""
        try:
            reply = await self.client.call(self.url, Transaction.ITI_42, submit_objects_to_ebrim(submission))
        except TransportError as exc:
            raise RegistryUnavailable(str(exc), certain=_not_sent(exc)) from exc
        except SoapFault as fault:
            # SOAP 1.2 Part 1 5.4: a fault is the answer of a request that was not processed
            raise RegistryUnavailable(f"registry fault: {fault.reason}", certain=True) from fault
        try:
            return registry_response_from_ebrim(reply.body)
        except SoapFault as exc:
            raise RegistryUnavailable(f"registry answer unreadable: {exc.reason}", certain=False) from exc

    async def registered(self, unique_ids: Iterable[str]) -> set[str]:
        """The uniqueIds that the registry holds as DocumentEntries of this repository (any status), by
        ITI-18 GetDocuments (ITI TF-2a 3.18.4.1.2.3.7.5). Raises RegistryUnavailable when it cannot say."""
        wanted = sorted(set(unique_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), QUERY_BATCH):
            batch = wanted[start : start + QUERY_BATCH]
            # ITI TF-2a 3.18.4.1.2.3.5: a quote inside a value is doubled
            values = "(" + ",".join("'" + uid.replace("'", "''") + "'" for uid in batch) + ")"
            request = AdhocQueryRequest(
                StoredQuery.GET_DOCUMENTS,
                (QueryParameter("$XDSDocumentEntryUniqueId", (values,)),),
                ReturnType.LEAF_CLASS,
            )
            try:
                reply = await self.client.call(
                    self.url, Transaction.ITI_18, adhoc_query_request_to_ebrim(request)
                )
                response = adhoc_query_response_from_ebrim(reply.body)
            except (TransportError, SoapFault) as exc:
                raise RegistryUnavailable(f"GetDocuments: {exc}", certain=False) from exc
            if response.status == ResponseStatus.FAILURE:
                codes = ", ".join(str(e.code) for e in response.errors)
                raise RegistryUnavailable(f"GetDocuments failed: {codes}", certain=False)
            found |= {
                de.unique_id
                for de in response.document_entries
                if de.repository_unique_id == self.repository_unique_id
            }
        return found

"""The Document Repository's endpoint: ``POST /xds/repository`` (ITI-41, ITI-43), ``?wsdl``, and its sweeper.

Handlers decode with the ebRIM codec and hand domain objects to repository.iti41 / repository.iti43; an
XdsError becomes the transaction's RegistryResponse / RetrieveDocumentSetResponse in xds.soap.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import Route

from repository.files import BlobFolders
from repository.iti41 import ProvideAndRegister
from repository.iti43 import retrieve
from repository.registry_link import RegistryLink, registry_url
from repository.store import BlobStore
from repository.sweep import Sweeper
from xds.config import Settings
from xds.ebrim import (
    failure_body,
    pnr_from_ebrim,
    registry_response_to_ebrim,
    retrieve_request_from_ebrim,
    retrieve_response_to_ebrim,
)
from xds.runtime import ActorService
from xds.schemas import PublishedWsdl
from xds.soap import Operation, SoapRequest, SoapResponse, soap_route
from xds.tls import client_context
from xds.transactions import Transaction
from xds.validation import ValidationConfig
from xds.validation.config import CodeValidation

PATH = "/xds/repository"


@dataclass
class Repository:
    """The repository of one process: blob store, registry link, sweeper, and one handler per transaction."""

    settings: Settings
    store: BlobStore
    registry: RegistryLink
    sweeper: Sweeper

    @classmethod
    def open(cls, settings: Settings) -> Repository:
        rid = settings.repository_unique_id
        folders = BlobFolders.for_repository(settings.data_dir, rid)
        store = BlobStore(settings.effective_database_url, folders, rid)
        registry = RegistryLink(registry_url(settings), rid, tls=client_context(settings))
        return cls(settings, store, registry, Sweeper(store, registry))

    def __post_init__(self) -> None:
        # codes are the affinity domain's business, checked by the registry (it owns the value sets); the
        # repository checks what only it can: documents against entries, hash and size
        self.provide_and_register = ProvideAndRegister(
            self.store, self.registry, ValidationConfig(CodeValidation.IGNORE), self.sweeper.add
        )

    async def iti41(self, request: SoapRequest) -> SoapResponse:
        pnr = pnr_from_ebrim(request.body, request.attachments)
        response = await self.provide_and_register(pnr)
        return SoapResponse(registry_response_to_ebrim(response))

    async def iti43(self, request: SoapRequest) -> SoapResponse:
        wanted = retrieve_request_from_ebrim(request.body)
        response = await retrieve(self.store, wanted)
        # ITI TF-2b 3.43.4.2.2: the documents travel as MTOM/XOP parts
        body, parts = retrieve_response_to_ebrim(response, xop=True)
        return SoapResponse(body, tuple(parts))

    def route(self) -> Route:
        return soap_route(
            PATH,
            [
                Operation(Transaction.ITI_41, self.iti41, failure_body),
                Operation(Transaction.ITI_43, self.iti43, failure_body),
            ],
            wsdl=PublishedWsdl("repository"),
            # the repository's own spool: MTOM parts land next to the blobs (a rename, not a copy, stores
            # them) and a crash's leftovers are the repository's to sweep
            spool_dir=self.store.folders.spool,
            max_xml_bytes=self.settings.max_xml_bytes,
            memory_threshold=self.settings.spool_memory_threshold,
        )

    async def start(self) -> None:
        await self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.registry.close()
        self.store.close()


def service(settings: Settings) -> ActorService:
    repository = Repository.open(settings)
    return ActorService(
        name="repository",
        routes=[repository.route()],
        startup=[repository.start],
        shutdown=[repository.stop],
        endpoints=[
            f"POST {{base}}{PATH}  ITI-41 Provide and Register Document Set-b, ITI-43 Retrieve Document Set"
            f" (repositoryUniqueId {settings.repository_unique_id}, registry {repository.registry.url})",
        ],
    )

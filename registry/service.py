"""The Document Registry's endpoints: ``POST /xds/registry`` (ITI-42, ITI-18) and the ITI-8 feed on MLLP.

Handlers decode with the ebRIM codec, run the transaction in a worker thread (the database is blocking)
and answer; XdsError becomes the transaction's RegistryResponse / AdhocQueryResponse in xds.soap.
"""

from __future__ import annotations

import anyio.to_thread

from registry.iti8 import handle_feed
from registry.iti18 import stored_query
from registry.iti42 import register
from registry.queries import QueryLimits
from registry.store import RegistryStore
from registry.submitted import submitted_objects
from xds.config import Settings
from xds.ebrim import failure_body, registry_response_to_ebrim, submit_objects_from_ebrim
from xds.mllp import MllpServer
from xds.model import RegistryResponse
from xds.runtime import ActorService
from xds.schemas import PublishedWsdl
from xds.soap import Operation, SoapRequest, SoapResponse, soap_route
from xds.tls import server_context
from xds.transactions import Transaction
from xds.validation import ValidationConfig
from xds.vocabulary import ResponseStatus

PATH = "/xds/registry"


class Registry:
    """The registry of one process: its store and configuration, and one handler per transaction."""

    def __init__(self, settings: Settings, store: RegistryStore) -> None:
        self.settings = settings
        self.store = store
        self.validation = ValidationConfig.from_settings(settings)
        self.limits = QueryLimits(settings.query_max_leaf_class, settings.query_max_object_refs)

    async def iti42(self, request: SoapRequest) -> SoapResponse:
        submission = submit_objects_from_ebrim(request.body)
        sent = submitted_objects(request.body)
        warnings = await anyio.to_thread.run_sync(
            lambda: register(self.store, submission, validation=self.validation, submitted=sent)
        )
        # ITI TF-2b 3.42.4.2.2: Success, with any warnings in the RegistryErrorList
        response = RegistryResponse(ResponseStatus.SUCCESS, tuple(warnings))
        return SoapResponse(registry_response_to_ebrim(response))

    def route(self):  # noqa: ANN201 - a Starlette Route
        return soap_route(
            PATH,
            [
                Operation(Transaction.ITI_42, self.iti42, failure_body),
                Operation(Transaction.ITI_18, self.iti18, failure_body),
            ],
            wsdl=PublishedWsdl("registry"),
            spool_dir=self.settings.spool_dir,
            max_xml_bytes=self.settings.max_xml_bytes,
            memory_threshold=self.settings.spool_memory_threshold,
        )


    async def iti18(self, request: SoapRequest) -> SoapResponse:
        body = request.body
        response = await anyio.to_thread.run_sync(
            lambda: stored_query(
                self.store,
                body,
                limits=self.limits,
                home_community_id=self.settings.home_community_id or None,
            )
        )
        return SoapResponse(response)

    async def feed(self, message: bytes, _peer: str | None) -> bytes:
        return await anyio.to_thread.run_sync(handle_feed, self.store, self.settings.domain_oid, message)


def service(settings: Settings) -> ActorService:
    store = RegistryStore.open(settings.effective_database_url)
    registry = Registry(settings, store)
    # DESIGN "Fixed interface": the registry's ITI-8 feed listens on its own MLLP port
    mllp = MllpServer(
        registry.feed, settings.http_host, settings.registry_mllp_port, ssl=server_context(settings)
    )

    async def shutdown() -> None:
        await mllp.close()
        store.close()

    return ActorService(
        name="registry",
        routes=[registry.route()],
        startup=[mllp.start],
        shutdown=[shutdown],
        endpoints=[
            f"POST {{base}}{PATH}  ITI-42 Register Document Set-b, ITI-18 Registry Stored Query",
            f"MLLP {settings.http_host}:{settings.registry_mllp_port}  ITI-8 Patient Identity Feed",
        ],
    )

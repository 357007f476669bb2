"""The Imaging Document Source of one process: DICOM listener (intake, Q/R), RAD-68 publisher and its
completion watcher, and the HTTP endpoints ``POST /xds/imaging`` (RAD-69), ``GET /wado`` (RAD-55) and
``/dicomweb`` (RAD-107)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio.to_thread
from starlette.routing import BaseRoute, Route

from imaging_source.audit import ImagingAudit
from imaging_source.config import ImagingConfig
from imaging_source.intake import Intake
from imaging_source.listener import DicomListener
from imaging_source.qr import QueryRetrieve
from imaging_source.rad68 import CompletionWatcher, Publisher
from imaging_source.rad69 import ImagingRetrieve
from imaging_source.store import InstanceStore
from imaging_source.wado_rs import WadoRs
from imaging_source.wado_uri import WadoUri
from xds.audit.trail import set_study_patients
from xds.config import Settings
from xds.ebrim import failure_body, imaging_retrieve_request_from_ebrim, retrieve_response_to_ebrim
from xds.runtime import ActorService
from xds.schemas import PublishedWsdl
from xds.soap import Operation, SoapRequest, SoapResponse, soap_route
from xds.tls import client_context, server_context
from xds.transactions import Transaction
from xds.vocabulary import AUDIT_TX_RAD_55, AUDIT_TX_RAD_107

PATH = "/xds/imaging"
WADO_PATH = "/wado"

log = logging.getLogger(__name__)


@dataclass
class ImagingSource:
    config: ImagingConfig
    store: InstanceStore
    intake: Intake
    publisher: Publisher
    watcher: CompletionWatcher
    listener: DicomListener
    retrieve: ImagingRetrieve
    audit: ImagingAudit

    @classmethod
    def open(cls, settings: Settings) -> ImagingSource:
        config = ImagingConfig.from_settings(settings)
        store = InstanceStore(config.database_url, config.data_dir)
        intake = Intake(store)
        publisher = Publisher(store, config)
        watcher = CompletionWatcher(store, publisher, config.study_idle_seconds)
        audit = ImagingAudit(store, config)
        # ATNA (ITI-19): the node's certificate on the DICOM port and towards C-MOVE destinations
        qr = QueryRetrieve(store, config, client_context(settings))
        listener = DicomListener(config, intake, qr, audit, server_context(settings))
        set_study_patients(audit.patients)  # the RAD-69 records name the patient (xds.audit.events)
        return cls(config, store, intake, publisher, watcher, listener, ImagingRetrieve(store, config), audit)

    async def rad69(self, request: SoapRequest) -> SoapResponse:
        wanted = imaging_retrieve_request_from_ebrim(request.body)
        response = await self.retrieve(wanted)
        # RAD TF-3 4.69.4.2.2: the ITI-43 response, instances as MTOM/XOP parts
        body, parts = retrieve_response_to_ebrim(response, xop=True)
        return SoapResponse(body, tuple(parts))

    def routes(self) -> list[BaseRoute]:
        rad69 = soap_route(
            PATH,
            [Operation(Transaction.RAD_69, self.rad69, failure_body)],
            wsdl=PublishedWsdl("imaging"),
            spool_dir=self.store.tmp,
            max_xml_bytes=self.config.max_xml_bytes,
        )
        wado_uri = self.audit.web(WadoUri(self.store).endpoint, AUDIT_TX_RAD_55)
        wado = Route(WADO_PATH, wado_uri, methods=["GET"])
        # every DICOMweb resource read is an Export of its study (imaging_source.audit)
        wado_rs = [
            Route(r.path, self.audit.web(r.endpoint, AUDIT_TX_RAD_107), methods=r.methods)
            for r in WadoRs(self.store).routes()
        ]
        return [rad69, wado, *wado_rs]

    async def start(self) -> None:
        # instances of unpublished studies were not fsynced yet: a power loss may have taken some
        lost = await anyio.to_thread.run_sync(self.store.check_unpublished)
        if lost:
            log.warning("%d received instance(s) lost in a power failure are no longer indexed", lost)
        await anyio.to_thread.run_sync(self.listener.start)
        await self.watcher.start()

    async def stop(self) -> None:
        await self.watcher.stop()
        await anyio.to_thread.run_sync(self.listener.stop)
        await self.publisher.close()
        self.store.close()

    def close(self) -> None:
        self.store.close()


def service(settings: Settings) -> ActorService:
    return actor(ImagingSource.open(settings))


def actor(source: ImagingSource) -> ActorService:
    config = source.config
    return ActorService(
        name="imaging-source",
        routes=source.routes(),
        startup=[source.start],
        shutdown=[source.stop],
        endpoints=[
            f"DICOM {config.ae_title}@{config.dicom_host}:{config.dicom_port}  C-STORE C-FIND C-MOVE C-GET",
            f"POST {{base}}{PATH}  RAD-69 Retrieve Imaging Document Set (source {config.source_unique_id})",
            f"GET {{base}}{WADO_PATH}  RAD-55 WADO-URI;  GET {{base}}/dicomweb/studies/...  RAD-107 WADO-RS",
            f"RAD-68 manifests to {config.repository_url}",
        ],
    )

"""The DICOM listener of the Imaging Document Source: one pynetdicom AE on ``dicom_port`` (AE ``XDSI_SOURCE``)
serving Verification, Storage (intake) and Query/Retrieve (C-FIND, C-MOVE, C-GET).

With the node's TLS context (ATNA ITI-19, DICOM PS3.15 B.1 "Basic TLS Secure Transport Connection Profile")
every peer completes a mutually authenticated TLS handshake before the first association PDU is read; one
without a certificate the CA bundle vouches for is disconnected in the handshake. Every service is audited
(imaging_source.audit).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import (
    ALL_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    _config,
    evt,
)
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from pynetdicom.transport import ThreadedAssociationServer
from pynetdicom.utils import make_target

from imaging_source.audit import ImagingAudit
from imaging_source.config import ImagingConfig
from imaging_source.intake import Intake
from imaging_source.qr import QueryRetrieve, nodelay
from imaging_source.send import ListenerAE
from imaging_source.store_scp import StorageAssociation, StorageRoute, peek_request, storage_only
from xds.tls import HANDSHAKE_TIMEOUT

log = logging.getLogger(__name__)

# received data sets go straight to a temporary file (memory stays flat whatever the instance size)
_config.STORE_RECV_CHUNKED_DATASET = True
# instances of SOP classes pynetdicom does not list (private, newer) are storage too (PS3.4 B.5)
_config.UNRESTRICTED_STORAGE_SERVICE = True

QR_MODELS = (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelMove,
    PatientRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelGet,
)
MAX_PDU = 0  # no limit on what we receive (PS3.8 D.1: 0 = unlimited)


class TlsAssociationServer(ThreadedAssociationServer):
    """pynetdicom's threaded server, but the TLS handshake runs in the connection's own thread, within
    HANDSHAKE_TIMEOUT: pynetdicom does it in the accepting thread, where one peer that connects and stays
    silent would stop every other peer from getting in. Without TLS, an association that only stores goes
    to ``storage`` (imaging_source.store_scp) instead of pynetdicom, and pynetdicom sees only the supported
    contexts whose abstract syntax was proposed: it deep-copies the list for every association (0.15 s for
    all 170, measured), and the others play no part in the answer (PS3.8 9.3.3.2)."""

    storage: Callable[[socket.socket, Any], None] | None = None
    # the storage fast path runs in the connection's thread: stopping does not wait for those (the listener
    # cuts their connections, DicomListener.stop)
    daemon_threads = True
    block_on_close = False
    _proposed = threading.local()  # the contexts of the association this thread is setting up

    @property  # type: ignore[override]
    def contexts(self) -> list[Any]:
        narrowed = getattr(self._proposed, "contexts", None)
        return self._contexts if narrowed is None else narrowed

    @contexts.setter
    def contexts(self, value: list[Any]) -> None:
        self._contexts = value

    def get_request(self) -> tuple[socket.socket, Any]:
        assert self.socket is not None
        return self.socket.accept()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        context = self.ssl_context
        if context is not None:
            try:
                request.settimeout(HANDSHAKE_TIMEOUT)
                request = context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (OSError, ValueError) as exc:  # no, an untrusted or an expired certificate; no TLS at all
                log.warning("DICOM peer %s refused in the TLS handshake: %s", client_address, exc)
                with contextlib.suppress(OSError):
                    request.close()
                return
        elif self.storage is not None:
            proposed = peek_request(request)
            if proposed is not None and storage_only(proposed):
                self.storage(request, client_address)
                return
            if proposed is not None:
                wanted = {c.abstract_syntax for c in proposed.contexts}
                self._proposed.contexts = [cx for cx in self._contexts if cx.abstract_syntax in wanted]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._proposed.contexts = None

    def shutdown(self) -> None:
        with contextlib.suppress(ValueError):  # not in the AE's list of servers it started itself
            super().shutdown()


class DicomListener:
    def __init__(
        self,
        config: ImagingConfig,
        intake: Intake,
        qr: QueryRetrieve,
        audit: ImagingAudit,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.tls = tls
        self.intake = intake
        self.audit = audit
        self.ae = ListenerAE(config.ae_title, intake.store)
        self.ae.maximum_pdu_size = MAX_PDU
        self.ae.network_timeout = 60
        self.ae.acse_timeout = 30
        self.ae.dimse_timeout = 120
        self.ae.maximum_associations = 20
        self.ae.add_supported_context(Verification)
        for model in QR_MODELS:
            self.ae.add_supported_context(model)
        for cx in AllStoragePresentationContexts:
            # C-STORE SCP for intake; SCU role too, for C-GET sub-operations on the requestor's contexts
            # (PS3.4 C.4.3, PS3.7 D.3.3.4 SCP/SCU role selection)
            self.ae.add_supported_context(
                cx.abstract_syntax, ALL_TRANSFER_SYNTAXES, scu_role=True, scp_role=True
            )
        self.handlers = [
            (evt.EVT_CONN_OPEN, nodelay),
            (evt.EVT_C_STORE, self.handle_store),
            (evt.EVT_C_FIND, audit.find(qr.handle_find)),
            (evt.EVT_C_MOVE, audit.move(qr.handle_move)),
            (evt.EVT_C_GET, audit.get(qr.handle_get)),
            (evt.EVT_RELEASED, audit.association_ended),
            (evt.EVT_ABORTED, audit.association_ended),
        ]
        self._server: ThreadedAssociationServer | None = None
        self._storage_route = StorageRoute(self.ae.maximum_associations)

    @property
    def port(self) -> int:
        if self._server is None:
            return self.config.dicom_port
        return int(self._server.server_address[1])

    def handle_store(self, event) -> Dataset:  # noqa: ANN001 - a pynetdicom Event
        status = self.intake.handle_store(event)
        self.audit.stored(event, status)
        return status

    def _store_fast(self, sock: socket.socket, address: Any) -> None:
        self._storage_route.serve(StorageAssociation(
            sock, address, receive=self.intake.receive, new_tmp=self.intake.store.new_tmp, audit=self.audit,
            max_pdu=MAX_PDU,
        ))

    def start(self) -> None:
        # AE.start_server, with the handshake moved out of the accepting thread (TlsAssociationServer)
        server = self.ae.make_server(
            (self.config.dicom_host, self.config.dicom_port),
            ssl_context=self.tls,
            evt_handlers=self.handlers,
            server_class=TlsAssociationServer,
        )
        if self.tls is None:
            server.storage = self._store_fast
        threading.Thread(target=make_target(server.serve_forever), name="dicom-listener", daemon=True).start()
        self._server = server
        tls = " (TLS)" if self.tls is not None else ""
        log.info("DICOM listener %s on %s:%d%s", self.config.ae_title, self.config.dicom_host, self.port, tls)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self._storage_route.close()

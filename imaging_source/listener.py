"""The DICOM listener of the Imaging Document Source: one pynetdicom AE on ``dicom_port`` (AE ``XDSI_SOURCE``)
serving Verification, Storage (intake) and Query/Retrieve (C-FIND, C-MOVE, C-GET)."""

from __future__ import annotations

import logging

from pynetdicom import (
    AE,
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

from imaging_source.config import ImagingConfig
from imaging_source.intake import Intake
from imaging_source.qr import QueryRetrieve, nodelay

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
MAX_PDU = 0  # no limit on what we receive (PS3.8 9.3.2.1 allows 0 = unlimited)
SEND_PDU = 1 << 20


class DicomListener:
    def __init__(self, config: ImagingConfig, intake: Intake, qr: QueryRetrieve) -> None:
        self.config = config
        self.ae = AE(ae_title=config.ae_title)
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
            (evt.EVT_C_STORE, intake.handle_store),
            (evt.EVT_C_FIND, qr.handle_find),
            (evt.EVT_C_MOVE, qr.handle_move),
            (evt.EVT_C_GET, qr.handle_get),
        ]
        self._server = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self.config.dicom_port
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._server = self.ae.start_server(
            (self.config.dicom_host, self.config.dicom_port), block=False, evt_handlers=self.handlers
        )
        log.info("DICOM listener %s on %s:%d", self.config.ae_title, self.config.dicom_host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

"""ITI-20 audit records of the Imaging Document Source's DICOM and DICOMweb services (RAD-69 goes through
the SOAP endpoint's own hook, which asks ``patients`` whose studies a request names).

The records themselves are built by xds.audit.events (DICOM PS3.15 A.5.3); this module only collects what
they need from pynetdicom events and HTTP requests, and hands it to the process's trail:
  C-STORE received     DICOM Instances Transferred (110104, C), one per association and patient (A.5.3.7)
  C-FIND               Query (110112) with the identifier as sent (A.5.3.10)
  C-MOVE / C-GET       DICOM Instances Transferred (110104, R), one per request and patient (A.5.3.7)
  WADO-URI / WADO-RS   Export (110106), one per request and patient (A.5.3.4)
Patients are named by the affinity domain's XAD-PID, as in the KOS (imaging_source.patient), so that
``xds audit --pid`` finds the images with the documents. With no trail installed nothing happens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.dimse_messages import C_STORE_RSP
from starlette.requests import Request
from starlette.responses import Response

from imaging_source.config import ImagingConfig
from imaging_source.instance_meta import valid_uid
from imaging_source.kos import StudyInfo
from imaging_source.patient import affinity_patient_id
from imaging_source.send import ON_STORE_STATUS
from imaging_source.store import InstanceStore
from imaging_source.vocabulary import STATUS_MOVE_DESTINATION_UNKNOWN, STATUS_PENDING, STATUS_SUCCESS
from xds.audit.events import (
    DicomPeer,
    Node,
    StudyTransfer,
    dicom_query,
    exported,
    instances_transferred,
)
from xds.audit.message import Action, AuditMessage, Coded, Outcome
from xds.audit.trail import current as current_trail
from xds.vocabulary import AUDIT_TX_RAD_8, AUDIT_TX_RAD_14, AUDIT_TX_RAD_16

log = logging.getLogger(__name__)

Handler = Callable[[Any], Iterator[Any]]
_PENDING = (STATUS_PENDING, 0xFF01)
_CACHE_LIMIT = 10_000


def _outcome(completed: int, failed: int) -> Outcome:
    # PS3.15 A.5.1 / ITI TF-2a 3.20.7: 0 success, 4 some failed, 8 nothing done
    if not failed:
        return Outcome.SUCCESS
    return Outcome.MINOR_FAILURE if completed else Outcome.SERIOUS_FAILURE


def _is_success(status: int) -> bool:
    return status == STATUS_SUCCESS or (status & 0xF000) == 0xB000  # Bxxx: warning, stored all the same


def requestor_of(event: Any) -> DicomPeer:
    return DicomPeer(str(event.assoc.requestor.ae_title).strip(), event.assoc.requestor.address)


@dataclass
class _Received:
    """The C-STOREs of one association: SOP Instance UIDs stored, and how many were refused."""

    requestor: DicomPeer
    stored: list[str]
    refused: int = 0


class _Retrieval:
    """What one C-MOVE or C-GET did: the instances handed to pynetdicom, the C-STORE responses of the
    sub-operations (EVT_DIMSE_RECV), and a failure status of the request itself."""

    def __init__(self) -> None:
        self.moved: list[tuple[str, str]] = []  # (Study Instance UID, SOP Class UID)
        self.completed = 0
        self.failed = 0
        self.failure: int | None = None
        self.expected = 0  # the number of sub-operations announced
        self.started = False  # pynetdicom asked for the first one: the destination took the association

    def on_message(self, event: Any) -> None:
        """EVT_DIMSE_RECV on a pynetdicom sub-association."""
        if isinstance(event.message, C_STORE_RSP):
            self.on_status(int(event.message.command_set.Status))

    def on_status(self, status: int) -> None:
        """The status of a sub-operation's C-STORE-RSP."""
        if _is_success(status):
            self.completed += 1
        else:
            self.failed += 1

    def pass_on(self, answers: Iterator[Any]) -> Iterator[Any]:
        """Yield the handler's count and (status, data set) answers, noting what they say."""
        for answer in answers:
            if not isinstance(answer, tuple):
                self.expected = int(answer)
                yield answer
                self.started = True
                continue
            status, dataset = answer
            if status in _PENDING and dataset is not None:
                self.moved.append((str(dataset.StudyInstanceUID), str(dataset.SOPClassUID)))
            elif status not in _PENDING and status != STATUS_SUCCESS:
                self.failure = status
            yield answer

    def outcome(self) -> tuple[Outcome, str | None]:
        if self.failure is None and self.expected and not self.started:
            # pynetdicom stops before the first sub-operation when the destination refuses the association
            self.failure = STATUS_MOVE_DESTINATION_UNKNOWN
        if self.failure is not None:
            return Outcome.SERIOUS_FAILURE, f"status 0x{self.failure:04X}"
        failed = self.failed + max(0, len(self.moved) - self.completed - self.failed)  # no response: failed
        note = f"{failed} sub-operation(s) failed" if failed else None
        return _outcome(self.completed, failed), note


class ImagingAudit:
    def __init__(self, store: InstanceStore, config: ImagingConfig) -> None:
        self.store = store
        self.config = config
        self._patients: dict[str, str] = {}
        self._received: dict[Any, _Received] = {}
        self._lock = threading.Lock()

    def me(self, node: Node) -> DicomPeer:
        return DicomPeer(self.config.ae_title, node.host)

    @staticmethod
    def _record(what: str, builder: Callable[[Node], Sequence[AuditMessage]]) -> None:
        trail = current_trail()
        if trail is not None:
            trail.build(what, builder)

    # --- patients ---------------------------------------------------------------------------------------

    def patients(self, study_uids: Sequence[str]) -> dict[str, str]:
        """Study Instance UID -> the patient's XAD-PID (ITI TF-3 4.2.3.2.23 form), for the studies held."""
        out: dict[str, str] = {}
        for uid in study_uids:
            if uid not in self._patients:
                row = self.store.study(uid)
                if row is None:
                    continue
                if len(self._patients) > _CACHE_LIMIT:
                    self._patients.clear()
                self._patients[uid] = affinity_patient_id(self.config, StudyInfo.of(row)).render()
            out[uid] = self._patients[uid]
        return out

    def _transfers(self, pairs: Sequence[tuple[str, str]]) -> list[StudyTransfer]:
        """StudyTransfers of (Study Instance UID, SOP Class UID) pairs, with their patients."""
        studies: dict[str, StudyTransfer] = {}
        known = self.patients(list(dict.fromkeys(study for study, _ in pairs)))
        for study, sop_class in pairs:
            studies.setdefault(study, StudyTransfer(study, known.get(study))).add(sop_class)
        return list(studies.values())

    # --- C-STORE: one record per association (and patient) ------------------------------------------------

    def stored(self, event: Any, status: Dataset) -> None:
        """EVT_C_STORE of the pynetdicom listener, after the handler answered."""
        uid = str(event.request.AffectedSOPInstanceUID)
        self.received(event.assoc, requestor_of(event), uid, status.Status)

    def received(self, association: object, requestor: DicomPeer, sop_instance_uid: str, status: int) -> None:
        """After each C-STORE: remember the instance (or the refusal) for the association's record."""
        if current_trail() is None:
            return
        with self._lock:
            received = self._received.get(association)
            if received is None:
                received = self._received[association] = _Received(requestor, [])
            if _is_success(int(status)):
                received.stored.append(sop_instance_uid)
            else:
                received.refused += 1

    def association_ended(self, event: Any) -> None:
        """EVT_RELEASED / EVT_ABORTED of the pynetdicom listener."""
        self.receiving_ended(event.assoc)

    def receiving_ended(self, association: object) -> None:
        """The record of what the association stored (PS3.15 A.5.3.7)."""
        with self._lock:
            received = self._received.pop(association, None)
        if received is None:
            return
        held = self.store.find_instances(sop_uids=received.stored)
        studies = self._transfers([(i.study_uid, i.sop_class_uid) for i in held])
        outcome = _outcome(len(received.stored), received.refused)
        note = f"{received.refused} instance(s) refused" if received.refused else None
        self._record("C-STORE", lambda node: instances_transferred(
            node, studies, source=received.requestor, destination=self.me(node), requestor=received.requestor,
            action=Action.CREATE, outcome=outcome, event_type=AUDIT_TX_RAD_8, description=note))

    # --- C-FIND ---------------------------------------------------------------------------------------------

    def find(self, handler: Handler) -> Handler:
        """EVT_C_FIND: the answers as ``handler`` gives them, then one Query record (PS3.15 A.5.3.10)."""

        def audited(event: Any) -> Iterator[Any]:
            failure: int | None = None
            try:
                for status, identifier in handler(event):
                    if status not in _PENDING and status != STATUS_SUCCESS:
                        failure = status
                    yield status, identifier
            finally:
                if current_trail() is not None:
                    self._query(event, failure)

        return audited

    def _query(self, event: Any, failure: int | None) -> None:
        request = event.request
        identifier = request.Identifier.getvalue() if request.Identifier is not None else b""
        try:
            wanted = event.identifier
            patient_id = str(wanted.get("PatientID", "") or "")
            issuer = str(wanted.get("IssuerOfPatientID", "") or "")
        except Exception:  # an identifier that does not decode: the query is recorded all the same
            patient_id = issuer = ""
        patient = None
        if patient_id and not any(c in patient_id for c in "*?\\"):
            info = StudyInfo("", patient_id, issuer, "", "", "", "", "", "", "", "", "")
            patient = affinity_patient_id(self.config, info).render()
        outcome = Outcome.SUCCESS if failure is None else Outcome.SERIOUS_FAILURE
        note = None if failure is None else f"C-FIND status 0x{failure:04X}"
        self._record("C-FIND", lambda node: [dicom_query(
            node, requestor=requestor_of(event), responder=self.me(node),
            sop_class_uid=str(request.AffectedSOPClassUID), identifier=identifier,
            transfer_syntax_uid=str(event.context.transfer_syntax), patient_id=patient, outcome=outcome,
            event_type=AUDIT_TX_RAD_14, description=note)])

    # --- C-MOVE and C-GET ---------------------------------------------------------------------------------

    def move(self, handler: Handler) -> Handler:
        """EVT_C_MOVE: ``handler``'s answers; the sub-operations' responses counted on the sub-association;
        one DICOM Instances Transferred record per patient at the end (PS3.15 A.5.3.7, RAD TF-3 4.16)."""

        def audited(event: Any) -> Iterator[Any]:
            retrieval = _Retrieval()
            destination = DicomPeer(str(event.move_destination).strip(), None)
            answers = handler(event)
            try:
                target = next(answers)
                if target[0] is None:
                    retrieval.failure = STATUS_MOVE_DESTINATION_UNKNOWN
                else:
                    destination = DicomPeer(destination.ae_title, target[0])
                    if len(target) == 3:  # the sub-association reports its C-STORE responses to us
                        extra = dict(target[2])
                        extra["evt_handlers"] = [*extra.get("evt_handlers", []),
                                                 (evt.EVT_DIMSE_RECV, retrieval.on_message)]
                        extra[ON_STORE_STATUS] = retrieval.on_status  # our own sub-association's hook
                        target = (target[0], target[1], extra)
                yield target
                yield from retrieval.pass_on(answers)
            finally:
                if current_trail() is not None:
                    self._retrieved(event, destination, retrieval, AUDIT_TX_RAD_16)

        return audited

    def get(self, handler: Handler) -> Handler:
        """EVT_C_GET: as C-MOVE, the sub-operations on the requestor's own association."""

        def audited(event: Any) -> Iterator[Any]:
            retrieval = _Retrieval()
            event.assoc.bind(evt.EVT_DIMSE_RECV, retrieval.on_message)
            try:
                yield from retrieval.pass_on(handler(event))
            finally:
                event.assoc.unbind(evt.EVT_DIMSE_RECV, retrieval.on_message)
                if current_trail() is not None:
                    # a C-GET is no transaction of IHE Radiology (RAD-16 is C-MOVE): no EventTypeCode
                    self._retrieved(event, requestor_of(event), retrieval, None)

        return audited

    def _retrieved(
        self, event: Any, destination: DicomPeer, retrieval: _Retrieval, event_type: Coded | None
    ) -> None:
        studies = self._transfers(retrieval.moved)
        outcome, note = retrieval.outcome()
        requestor = requestor_of(event)
        self._record("C-MOVE/C-GET", lambda node: instances_transferred(
            node, studies, source=self.me(node), destination=destination, requestor=requestor,
            action=Action.READ, outcome=outcome, event_type=event_type, description=note))

    # --- WADO-URI and WADO-RS -------------------------------------------------------------------------------

    def web(
        self, endpoint: Callable[[Request], Awaitable[Response]], event_type: tuple[str, str, str]
    ) -> Callable[[Request], Awaitable[Response]]:
        """An HTTP endpoint that records an Export (PS3.15 A.5.3.4) of the study it was asked for."""

        async def audited(request: Request) -> Response:
            response = await endpoint(request)
            if current_trail() is not None:
                study = request.path_params.get("study") or request.query_params.get("studyUID") or ""
                client = request.client.host if request.client else None
                await anyio.to_thread.run_sync(self._exported, study, client, str(request.url.path),
                                               response.status_code, event_type)
            return response

        return audited

    def _exported(
        self, study: str, client: str | None, path: str, status: int, event_type: tuple[str, str, str]
    ) -> None:
        studies = [StudyTransfer(study, self.patients([study]).get(study))] if valid_uid(study) else []
        outcome = Outcome.SUCCESS if status < 400 else Outcome.SERIOUS_FAILURE
        note = None if status < 400 else f"HTTP {status}"
        requestor = DicomPeer(client or "unknown", client, web=True)
        self._record(path, lambda node: exported(
            node, studies, source=self.me(node), destination=requestor, outcome=outcome,
            event_type=event_type, description=note))

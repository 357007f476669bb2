"""C-MOVE as the Imaging Document Consumer (RAD-16 Retrieve Images over DICOM, RAD TF-2 4.16; DICOM PS3.4
C.4.2): a Storage SCP of our own AE is opened as the move destination, then one C-MOVE per series at SERIES
level (PS3.4 C.6.2.2.1: Study and Series Instance UID as unique keys) to the source's Retrieve AE Title.
SERIES rather than IMAGE level with a list of SOP Instance UIDs (PS3.4 C.2.2.2.2), because list matching is
where Q/R SCPs differ most (ours among them, see the report of issue 7); instances of the series the manifest
does not reference are received and dropped. The source knows our AE as a move destination (``xds up`` adds
it; elsewhere it is configured there). Received data sets stream to files (pynetdicom's chunked receive).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, _config, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove

from consumer.imaging.config import Sources
from consumer.imaging.dicom_net import SUCCESS, nodelay, status_text
from consumer.imaging.fetched import Fetched, by_series
from consumer.imaging.manifest import InstanceRef
from consumer.progress import Progress
from xds.config import DicomDestination

log = logging.getLogger(__name__)
PENDING = (0xFF00, 0xFF01)


class Receiver:
    """A Storage SCP of AE ``me`` writing each instance to ``folder/<SOP Instance UID>.dcm``."""

    def __init__(self, me: DicomDestination, folder: Path, progress: Progress | None = None) -> None:
        self.me, self.folder, self.progress = me, folder, progress
        self.received: dict[str, Path] = {}
        self.wanted: set[str] = set()  # the instances to keep; others are acknowledged and dropped
        self._lock = threading.Lock()
        # data sets go straight to a temporary PS3.10 file; any storage SOP class is taken (PS3.4 B.5)
        _config.STORE_RECV_CHUNKED_DATASET = True
        _config.UNRESTRICTED_STORAGE_SERVICE = True
        self.ae = AE(ae_title=me.ae_title)
        self.ae.maximum_pdu_size = 0
        self.ae.network_timeout = 60
        self.ae.dimse_timeout = 300
        for cx in AllStoragePresentationContexts:
            self.ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self.ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
        self._server = None

    def _store(self, event) -> int:  # noqa: ANN001 - a pynetdicom Event
        uid = str(event.request.AffectedSOPInstanceUID).strip()
        if uid not in self.wanted:
            return SUCCESS  # pynetdicom deletes the temporary file
        target = self.folder / f"{uid}.dcm"
        try:
            shutil.move(str(event.dataset_path), target)
        except OSError as exc:
            log.error("cannot keep %s: %s", uid, exc)
            return 0xA700  # PS3.4 Table B.2-1: Refused, Out of Resources
        with self._lock:
            self.received[uid] = target
        if self.progress is not None:
            self.progress.add_bytes(target.stat().st_size)
            self.progress.advance()
        return SUCCESS

    def __enter__(self) -> Receiver:
        try:
            self._server = self.ae.start_server(
                (self.me.host, self.me.port),
                block=False,
                evt_handlers=[(evt.EVT_C_STORE, self._store), (evt.EVT_CONN_OPEN, nodelay)],
            )
        except OSError as exc:
            raise OSError(
                f"cannot open the C-MOVE destination {self.me.ae_title} on {self.me.host}:{self.me.port}: "
                f"{exc.strerror or exc}"
            ) from exc
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def fetch_cmove(
    refs: Sequence[InstanceRef], folder: Path, sources: Sources, me: DicomDestination, *,
    progress: Progress | None = None,
) -> Fetched:
    result = Fetched()
    with Receiver(me, folder, progress) as receiver:
        receiver.wanted = {r.sop_instance_uid for r in refs}
        for (study_uid, series_uid), members in by_series(refs):
            ae_title = members[0].retrieve_ae_title
            address = sources.address(ae_title)
            if address is None:
                why = f"C-MOVE: no address known for Retrieve AE Title {ae_title!r} (give --dicom-source)"
                result.errors.update({r.sop_instance_uid: why for r in members})
                continue
            problem = _move(receiver, address, study_uid, series_uid)
            if problem:
                result.errors.update({r.sop_instance_uid: problem for r in members})
        result.files.update(receiver.received)
    return result


def _move(receiver: Receiver, source: DicomDestination, study: str, series: str) -> str:
    """One C-MOVE; an empty string when it completed, else what went wrong."""
    assoc = receiver.ae.associate(
        source.host, source.port, ae_title=source.ae_title, evt_handlers=[(evt.EVT_CONN_OPEN, nodelay)]
    )
    if not assoc.is_established:
        raise ConnectionError(
            f"cannot reach the Imaging Document Source {source.ae_title}@{source.host}:{source.port} "
            "(association rejected or no answer)"
        )
    # PS3.4 C.4.2.2.1 / C.6.2.2.1: Study Root, SERIES level, the unique keys of study and series
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study
    identifier.SeriesInstanceUID = series
    final: Dataset | None = None
    try:
        for status, _ in assoc.send_c_move(
            identifier, receiver.me.ae_title, StudyRootQueryRetrieveInformationModelMove
        ):
            if status is None or "Status" not in status or int(status.Status) not in PENDING:
                final = status
    finally:
        assoc.release()
    if final is not None and int(final.get("Status", -1)) == SUCCESS:
        return ""
    return f"C-MOVE {status_text(final)}"

"""Stored instances sent as they are on disk by the C-STORE sub-operations of C-MOVE and C-GET (PS3.4 C.4.2.3,
C.4.3.3).

Without TLS, a C-MOVE's association to its destination is our own (imaging_source.store_scu): ``ListenerAE``
hands pynetdicom's C-MOVE SCP a ``MoveSubAssociation`` with the few members it uses of an association. The
rest of this docstring is about the sub-operations that stay with pynetdicom (C-GET, and C-MOVE over TLS).

pynetdicom's Q/R SCP takes a pydicom Dataset from the handler for each sub-operation and encodes it again;
the instance would be decoded from its file only for that (measured: a third of the time of a C-MOVE).
``StoredFile`` is a stand-in Dataset holding the UIDs (for the handler's callers) and the file's path, and
``Association.send_c_store`` is wrapped so that a StoredFile goes out through pynetdicom's own file path:
the encoded data set read from the file in PDU-sized pieces (``STORE_SEND_CHUNKED_DATASET``), no decoding,
no re-encoding, memory independent of the instance size. Only when the peer accepted no presentation context
in the stored transfer syntax is the instance decoded, for pynetdicom to convert it as before.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, _config
from pynetdicom.association import Association
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_primitives import C_GET, C_MOVE

from imaging_source.store import InstanceStore, StoredInstance
from imaging_source.store_scu import StoreScu
from imaging_source.transcode import deliver
from imaging_source.vocabulary import STATUS_PENDING

log = logging.getLogger(__name__)

# pynetdicom sends a data set given as a file path from the file, in pieces (never the whole in memory)
_config.STORE_SEND_CHUNKED_DATASET = True


class StoredFile(Dataset):
    """A stored instance to send from its file: a Dataset with the UIDs only, the instance and its path."""

    def __init__(self, inst: StoredInstance) -> None:
        super().__init__()
        self.SOPClassUID = inst.sop_class_uid
        self.SOPInstanceUID = inst.sop_instance_uid
        self.StudyInstanceUID = inst.study_uid
        self.SeriesInstanceUID = inst.series_uid
        self.stored_path = inst.path
        self.instance = inst

    # pydicom's Dataset keeps unknown attributes on the instance: these are no data elements
    stored_path: Path
    instance: StoredInstance


def _from_file(send_c_store: Any) -> Any:
    @functools.wraps(send_c_store)
    def send(self: Association, dataset: Any, *args: Any, **kwargs: Any) -> Dataset:
        if not isinstance(dataset, StoredFile):
            return send_c_store(self, dataset, *args, **kwargs)
        try:
            return send_c_store(self, dataset.stored_path, *args, **kwargs)
        except ValueError:
            # no accepted context in the stored transfer syntax (PS3.7 D.3.3.2 negotiation): pynetdicom
            # converts a decoded copy between the uncompressed syntaxes, as it did before
            return send_c_store(self, dcmread(dataset.stored_path), *args, **kwargs)

    send.sends_stored_files = True  # type: ignore[attr-defined]
    return send


# keys a C-MOVE handler may add to what ``associate`` is given: a callback for each sub-operation's status,
# and the AE title of the C-MOVE's requestor (PS3.7 Table 9.3-1: the Move Originator of the C-STORE-RQs;
# pynetdicom names its own AE there)
ON_STORE_STATUS = "on_store_status"
MOVE_ORIGINATOR = "move_originator_ae"


class _Refused:
    """pynetdicom closes the socket of a sub-association that was not established: there is none."""

    class socket:  # noqa: N801 - the attribute pynetdicom reads
        @staticmethod
        def close() -> None:
            pass


class MoveSubAssociation:
    """What pynetdicom's C-MOVE SCP uses of the association to the move destination: ``is_established``,
    ``send_c_store`` (of StoredFiles), ``release`` (and ``dul.socket.close`` when it was refused)."""

    dul = _Refused

    def __init__(
        self, scu: StoreScu | None, store: InstanceStore, on_status: Callable[[int], None], originator: str
    ) -> None:
        self.scu = scu
        self.store = store
        self.on_status = on_status
        self.originator = originator
        self.is_established = scu is not None

    def send_c_store(
        self,
        dataset: Dataset,
        msg_id: int = 1,
        priority: int = 2,
        originator_aet: str | None = None,
        originator_id: int | None = None,
    ) -> Dataset:
        if self.scu is None or not isinstance(dataset, StoredFile):
            raise ValueError("only stored instances go out on an established association")
        inst = dataset.instance
        # PS3.4 C.4.2.3.1: as stored, or transcoded to a syntax the destination accepted for the class
        path, syntax = deliver(self.store, inst, self.scu.accepted_syntaxes(inst.sop_class_uid))
        status = self.scu.send(
            path, inst.sop_class_uid, inst.sop_instance_uid, syntax, message_id=msg_id, priority=priority,
            originator_ae=self.originator or str(originator_aet or "").strip(), originator_id=originator_id,
        )
        self.on_status(status)
        answer = Dataset()
        answer.Status = status
        return answer

    def release(self) -> None:
        if self.scu is not None:
            self.scu.release()


class ListenerAE(AE):
    """The listener's AE: a C-MOVE's sub-association without TLS is a MoveSubAssociation."""

    def __init__(self, ae_title: str, store: InstanceStore) -> None:
        super().__init__(ae_title=ae_title)
        self.store = store

    def associate(self, addr: str, port: int, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        on_status = kwargs.pop(ON_STORE_STATUS, None) or (lambda _status: None)
        originator = str(kwargs.pop(MOVE_ORIGINATOR, "") or "")
        contexts = kwargs.get("contexts")
        if args or kwargs.get("tls_args") or not contexts:
            return super().associate(addr, port, *args, **kwargs)
        proposed = [(str(cx.abstract_syntax), [str(ts) for ts in cx.transfer_syntax]) for cx in contexts]
        try:
            scu = StoreScu.open(
                addr, port, called_ae=str(kwargs.get("ae_title", "ANY-SCP")), calling_ae=str(self.ae_title),
                contexts=proposed, timeout=float(self.acse_timeout or 30),
            )
            scu.sock.settimeout(float(self.dimse_timeout or 120))
        except (OSError, ValueError) as exc:
            # the text only: a log record holding the exception would keep its frames, and the C-MOVE
            # handler's generator in them, alive (its audit record is written when it is closed)
            log.warning("C-MOVE destination %s:%s refused the association: %s", addr, port, str(exc))
            scu = None
        return MoveSubAssociation(scu, self.store, on_status, originator)


if not getattr(Association.send_c_store, "sends_stored_files", False):
    Association.send_c_store = _from_file(Association.send_c_store)  # type: ignore[method-assign]


# PS3.4 C.4.2.1.6 / C.4.3.1.6 (C.4.2.2, C.4.3.2): Pending responses to a C-MOVE or C-GET are optional;
# pynetdicom sends one after every sub-operation (half the time of a C-MOVE, measured). One per interval
# still shows the requestor how far it got (dcm4chee's sendPendingCMoveInterval does the same).
PENDING_INTERVAL = 1.0


def _fewer_pending(send_msg: Any) -> Any:
    @functools.wraps(send_msg)
    def send(self: DIMSEServiceProvider, primitive: Any, context_id: int) -> None:
        if isinstance(primitive, C_MOVE | C_GET) and primitive.Status == STATUS_PENDING:
            now = time.monotonic()
            if now - getattr(self, "_last_pending", 0.0) < PENDING_INTERVAL:
                return
            self._last_pending = now  # type: ignore[attr-defined]
        send_msg(self, primitive, context_id)

    send.sends_fewer_pending = True  # type: ignore[attr-defined]
    return send


if not getattr(DIMSEServiceProvider.send_msg, "sends_fewer_pending", False):
    DIMSEServiceProvider.send_msg = _fewer_pending(DIMSEServiceProvider.send_msg)  # type: ignore[method-assign]

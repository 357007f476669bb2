"""Stored instances sent as they are on disk by the C-STORE sub-operations of C-MOVE and C-GET (PS3.4 C.4.2.3,
C.4.3.3).

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
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import _config
from pynetdicom.association import Association

from imaging_source.store import StoredInstance

# pynetdicom sends a data set given as a file path from the file, in pieces (never the whole in memory)
_config.STORE_SEND_CHUNKED_DATASET = True


class StoredFile(Dataset):
    """A stored instance to send from its file: a Dataset with the UIDs only, and the path."""

    def __init__(self, inst: StoredInstance) -> None:
        super().__init__()
        self.SOPClassUID = inst.sop_class_uid
        self.SOPInstanceUID = inst.sop_instance_uid
        self.StudyInstanceUID = inst.study_uid
        self.SeriesInstanceUID = inst.series_uid
        self.stored_path = inst.path

    # pydicom's Dataset keeps unknown attributes on the instance: the path is no data element
    stored_path: Path


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


if not getattr(Association.send_c_store, "sends_stored_files", False):
    Association.send_c_store = _from_file(Association.send_c_store)  # type: ignore[method-assign]

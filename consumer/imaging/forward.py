"""Forwarding fetched instances to a local PACS by C-STORE (DICOM PS3.4 Annex B Storage Service Class, as
SCU). Each file is sent as stored: its data set streams from disk in the transfer syntax of its File Meta,
so memory stays flat and the PACS gets the bytes the source sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pynetdicom import AE, build_context, evt

from consumer.imaging.dicom_net import SUCCESS, WARNINGS, nodelay, status_text
from consumer.progress import Progress
from xds.config import ConfigError, DicomDestination

MAX_CONTEXTS = 128  # PS3.8 9.3.2.2: presentation context IDs are odd numbers 1..255
CALLING_AE = "XDS_CONSUMER"


@dataclass
class Forwarded:
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def parse_target(text: str) -> DicomDestination:
    try:
        return DicomDestination.parse(text)
    except ConfigError:
        raise ValueError(f"--forward {text!r} is not AE@host:port") from None


def forward(
    files: Mapping[str, Path], target: DicomDestination, *, calling_ae: str = CALLING_AE,
    progress: Progress | None = None,
) -> Forwarded:
    """C-STORE every file (SOP Instance UID -> path) to ``target``, on as many associations as the
    presentation contexts need (at most 128 per association)."""
    out = Forwarded()
    groups: dict[tuple[str, str], list[tuple[str, Path]]] = {}
    for uid, path in files.items():
        meta = dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"]).file_meta
        key = (str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID))
        groups.setdefault(key, []).append((uid, path))
    keys = list(groups)
    for start in range(0, len(keys), MAX_CONTEXTS):
        part = keys[start : start + MAX_CONTEXTS]
        ae = AE(ae_title=calling_ae)
        ae.requested_contexts = [build_context(sop, [ts]) for sop, ts in part]
        assoc = ae.associate(
            target.host, target.port, ae_title=target.ae_title, evt_handlers=[(evt.EVT_CONN_OPEN, nodelay)]
        )
        if not assoc.is_established:
            raise ConnectionError(
                f"cannot reach the PACS {target.ae_title}@{target.host}:{target.port} "
                "(association rejected or no answer)"
            )
        try:
            for key in part:
                for uid, path in groups[key]:
                    status = assoc.send_c_store(path)
                    code = int(status.Status) if status is not None and "Status" in status else -1
                    if code == SUCCESS or code in WARNINGS:
                        out.sent.append(uid)
                        if progress is not None:
                            progress.advance()
                    else:
                        out.failed[uid] = f"C-STORE {status_text(status)}"
        finally:
            assoc.release()
    return out

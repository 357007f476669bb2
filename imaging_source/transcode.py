"""Instances in another transfer syntax, for RAD-69 and WADO (PS3.5 Section 10 / Annex A transfer syntaxes).

The stored file is returned as it is when its transfer syntax is acceptable (byte-identical); otherwise a
re-encoded copy is made once with pydicom and kept under ``transcoded/<syntax>/`` (instances never change,
so the copy stays valid). What pydicom cannot decode or encode raises ``CannotTranscode``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydicom import dcmread
from pydicom.uid import UID

from imaging_source.store import InstanceStore, StoredInstance
from imaging_source.vocabulary import (
    DEFLATED_EXPLICIT_VR_LE,
    EXPLICIT_VR_BE,
    EXPLICIT_VR_LE,
    IMPLICIT_VR_LE,
    RLE_LOSSLESS,
)

NATIVE = (EXPLICIT_VR_LE, IMPLICIT_VR_LE, EXPLICIT_VR_BE, DEFLATED_EXPLICIT_VR_LE)
# what pydicom 3 encodes without extra plug-ins
ENCODABLE = (*NATIVE, RLE_LOSSLESS)


class CannotTranscode(ValueError):
    pass


def _safe(uid: str) -> str:
    return "".join(c if c.isdigit() or c == "." else "_" for c in uid) or "_"


def transcode(store: InstanceStore, inst: StoredInstance, target: str) -> Path:
    """The instance's file in ``target`` transfer syntax (the stored file itself when it already is)."""
    if inst.transfer_syntax_uid == target:
        return inst.path
    if target not in ENCODABLE:
        raise CannotTranscode(f"cannot encode {target}")
    cached = store.transcoded / _safe(target) / f"{_safe(inst.sop_instance_uid)}.dcm"
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    temporary = store.new_tmp()
    try:
        ds = dcmread(inst.path)
        if UID(inst.transfer_syntax_uid).is_compressed and "PixelData" in ds:
            ds.decompress()  # pydicom pixel handlers (RLE; JPEG via Pillow)
        if target == RLE_LOSSLESS:
            ds.compress(RLE_LOSSLESS)
        else:
            # pydicom encodes the data set as the File Meta's Transfer Syntax UID says
            ds.file_meta.TransferSyntaxUID = target
        ds.save_as(temporary, enforce_file_format=True)
    except Exception as exc:  # pydicom raises many kinds for data it cannot decode or encode
        temporary.unlink(missing_ok=True)
        raise CannotTranscode(f"{inst.sop_instance_uid} to {target}: {exc}") from exc
    os.replace(temporary, cached)
    return cached


def best_syntax(inst: StoredInstance, accepted: Sequence[str]) -> list[str]:
    """The syntaxes to try, in the requester's order, the stored one first when it is accepted."""
    if not accepted or inst.transfer_syntax_uid in accepted:
        return [inst.transfer_syntax_uid]
    return [ts for ts in accepted if ts in ENCODABLE or ts == inst.transfer_syntax_uid]


def deliver(store: InstanceStore, inst: StoredInstance, accepted: Sequence[str]) -> tuple[Path, str]:
    """(file, transfer syntax) of the instance in the first acceptable syntax that can be made."""
    failures = []
    for ts in best_syntax(inst, accepted):
        try:
            return transcode(store, inst, ts), ts
        except CannotTranscode as exc:
            failures.append(str(exc))
    raise CannotTranscode("; ".join(failures) or f"none of {', '.join(accepted)} can be made")

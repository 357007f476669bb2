"""Writing fetched instances as a DICOM File-set with a DICOMDIR (DICOM PS3.10 8, PS3.3 F.3 Basic Directory
IOD), with pydicom's FileSet: PATIENT/STUDY/SERIES/IMAGE records and files named ``PTxxxxxx/STxxxxxx/
SExxxxxx/IMxxxxxx``. pydicom stages a re-encoded copy of each instance it adds; we add the header only (no
pixel data in memory) and put the received file in place of the staged copy, so the File-set holds the bytes
the source sent."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from pydicom import dcmread
from pydicom.fileset import FileSet


def write_fileset(files: Mapping[str, Path], out_dir: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Move ``files`` (SOP Instance UID -> path) into the File-set at ``out_dir`` (a new one, or the one its
    DICOMDIR describes). Returns where each instance now is, and the instances left out with the reason."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dicomdir = out_dir / "DICOMDIR"
    fs = FileSet(dicomdir) if dicomdir.exists() else FileSet()
    skipped: dict[str, str] = {}
    for uid, path in files.items():
        header = dcmread(path, stop_before_pixels=True)
        try:
            instance = fs.add(header)
        except (ValueError, KeyError, AttributeError, NotImplementedError) as exc:
            skipped[uid] = f"no DICOMDIR record for it ({exc}); kept as {uid}.dcm"
            shutil.move(str(path), out_dir / f"{uid}.dcm")
            continue
        if instance.for_addition:
            shutil.move(str(path), instance.path)  # the received bytes, not pydicom's re-encoding
        else:
            path.unlink(missing_ok=True)  # already in the File-set
    if fs.is_staged:
        if fs.path is None:
            fs.write(out_dir)
        else:
            fs.write()
    placed = {
        str(inst.SOPInstanceUID): out_dir / inst.FileID for inst in fs if str(inst.SOPInstanceUID) in files
    }
    return placed, skipped

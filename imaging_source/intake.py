"""C-STORE SCP (DICOM PS3.4 Annex B Storage Service Class) and file import, into the instance store.

Each received data set arrives as a temporary PS3.10 file (written by imaging_source.store_scp, or by
pynetdicom with ``STORE_RECV_CHUNKED_DATASET``), so memory does not grow with instance size; ``receive``
checks the header, then renames the file into the store (same file system: no copy).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging_source.instance_meta import BadInstance, InstanceMeta
from imaging_source.store import InstanceStore
from imaging_source.vocabulary import (
    STATUS_CANNOT_UNDERSTAND,
    STATUS_DATASET_MISMATCH,
    STATUS_OUT_OF_RESOURCES,
    STATUS_SUCCESS,
)

log = logging.getLogger(__name__)


def status(code: int, comment: str = "") -> Dataset:
    ds = Dataset()
    ds.Status = code
    if comment:
        # PS3.7 C.4.2.1.4 / Table C.4-1: Error Comment, at most 64 characters
        ds.ErrorComment = comment[:64]
    return ds


@dataclass
class Intake:
    store: InstanceStore
    # told the Study Instance UID of each newly stored instance (the publisher's completeness clock)
    on_new: Callable[[str], None] = lambda _study: None
    stored: int = 0
    duplicates: int = 0
    refused: int = 0

    def handle_store(self, event) -> Dataset:  # noqa: ANN001 - a pynetdicom Event
        """EVT_C_STORE of the pynetdicom listener."""
        request = event.request
        return self.receive(
            Path(event.dataset_path),
            str(request.AffectedSOPClassUID),
            str(request.AffectedSOPInstanceUID),
            str(event.assoc.requestor.ae_title),
        )

    def receive(
        self,
        path: Path,
        sop_class_uid: str,
        sop_instance_uid: str,
        calling_ae: str,
        *,
        head: bytes = b"",
        size: int | None = None,
    ) -> Dataset:
        """A received PS3.10 file at ``path`` for the C-STORE of (``sop_class_uid``, ``sop_instance_uid``):
        stored (moved from ``path``) or refused with the PS3.4 Table B.2-1 status for what is wrong.
        ``head``/``size``: the file's first bytes and length, when the receiver kept them."""
        try:
            meta = InstanceMeta.read(path, check_file_meta=False, head=head, size=size)
        except BadInstance as exc:
            # PS3.4 B.2.3 / Table B.2-1: Error, Cannot understand (Cxxx)
            self.refused += 1
            log.warning("C-STORE from %s refused: %s", calling_ae.strip(), exc)
            return status(STATUS_CANNOT_UNDERSTAND, str(exc))
        # PS3.4 Table B.2-1 A900: the data set is not the instance (or class) the request names
        if meta.sop_instance_uid != sop_instance_uid or meta.sop_class_uid != sop_class_uid:
            self.refused += 1
            return status(STATUS_DATASET_MISMATCH, "data set SOP Class/Instance UID differ from the request")
        # PS3.4 B.2.3: Success once stored; made durable (fsync) before its manifest is published, not per
        # instance (imaging_source.store.InstanceStore.add)
        return self._store(path, meta, move=True, durable=False)

    def _store(self, path: Path, meta: InstanceMeta, *, move: bool, durable: bool) -> Dataset:
        try:
            added = self.store.add(path, meta, move=move, durable=durable)
        except OSError as exc:
            # PS3.4 Table B.2-1 A7xx: Refused, Out of Resources
            log.error("cannot store %s: %s", meta.sop_instance_uid, exc)
            return status(STATUS_OUT_OF_RESOURCES, f"cannot store: {exc.strerror or exc}")
        except Exception:  # the index cannot be written (database down or full): nothing was kept
            log.exception("cannot index %s", meta.sop_instance_uid)
            return status(STATUS_OUT_OF_RESOURCES, "cannot store: the index is not available")
        if added:
            self.stored += 1
            self.on_new(meta.study_uid)
        else:
            self.duplicates += 1  # the same SOP Instance again: success, nothing changes
        return status(STATUS_SUCCESS)

    # --- xds publish PATH -------------------------------------------------------------------------------

    def import_file(self, path: Path) -> tuple[str | None, str]:
        """Copy one PS3.10 file into the store: (Study Instance UID or None, outcome)."""
        try:
            meta = InstanceMeta.read(path)
        except BadInstance as exc:
            return None, f"skipped: {exc}"
        result = self._store(path, meta, move=False, durable=True)
        if result.Status != STATUS_SUCCESS:
            return None, f"failed: {result.get('ErrorComment', '')}"
        return meta.study_uid, "stored"


@dataclass
class ImportReport:
    studies: set[str] = field(default_factory=set)
    stored: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _dicomdir_files(dicomdir: Path) -> Iterator[Path]:
    # PS3.10 8.6 / PS3.3 F.3: the DICOMDIR's records name their files by Referenced File ID, relative
    # to the folder of the DICOMDIR, components separated as a multi-valued CS
    ds = dcmread(dicomdir)
    base = dicomdir.parent
    for record in ds.get("DirectoryRecordSequence", []):
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        candidate = base.joinpath(*parts)
        if not candidate.exists():  # CDs written on case-insensitive systems
            candidate = base.joinpath(*(p.lower() for p in parts))
        yield candidate


def candidate_files(path: Path) -> Iterator[Path]:
    """The files to try importing from ``path``: a file, a DICOMDIR, or every file below a folder."""
    if path.is_dir():
        dicomdir = next((p for p in (path / "DICOMDIR", path / "dicomdir") if p.is_file()), None)
        if dicomdir is not None:
            yield from _dicomdir_files(dicomdir)
            return
        for child in sorted(path.rglob("*")):
            if child.is_file():
                yield child
        return
    if path.name.upper() == "DICOMDIR":
        yield from _dicomdir_files(path)
        return
    yield path


def import_path(intake: Intake, path: Path, scratch: Path) -> ImportReport:
    """Import DICOM files, a folder, a DICOMDIR or a ZIP of any of them (extracted member by member)."""
    report = ImportReport()

    def one(file: Path, name: str) -> None:
        if file.name.upper() == "DICOMDIR":
            return  # the directory itself is no instance
        study, outcome = intake.import_file(file)
        if study is None:
            report.skipped.append((name, outcome))
        else:
            report.studies.add(study)
            report.stored += 1

    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                member = scratch / "zip-member.dcm"
                with archive.open(info) as src, member.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                try:
                    one(member, info.filename)
                finally:
                    member.unlink(missing_ok=True)
        return report
    try:
        files = list(candidate_files(path))
    except (InvalidDicomError, OSError) as exc:
        report.skipped.append((str(path), f"unreadable: {exc}"))
        return report
    for file in files:
        one(file, str(file))
    return report

"""Synthetic DICOM studies and a running Imaging Document Source for the imaging tests.

Studies are generated here (CT Image Storage, 16-bit, Explicit VR Little Endian); the peers are dcmtk's
command-line tools at /usr/bin (pynetdicom installs same-named scripts into the venv that would shadow them).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from soap_helpers import serving

from imaging_source.service import ImagingSource, actor
from xds.config import DicomDestination, Settings
from xds.runtime import services_app

DCMTK = Path("/usr/bin")
UID_ROOT = "1.2.826.0.1.3680043.10.543."  # a test root; each generated UID is unique below it
LOCAL_ISSUER = "1.2.276.0.76.4.17.9999.1"


def need_tool(name: str) -> Path:
    path = DCMTK / name
    if not path.is_file():
        pytest.skip(f"{path} not installed (Debian dcmtk / dicom3tools; see tools/install-system-deps.sh)")
    return path


def dciodvfy() -> str:
    found = shutil.which("dciodvfy")
    if found is None:
        pytest.skip("dciodvfy not installed (Debian dicom3tools)")
    return found


@dataclass
class Study:
    study_uid: str
    series_uids: list[str]
    files: list[Path] = field(default_factory=list)
    patient_id: str = "4711"
    accession: str = "ACC-1"

    @property
    def sop_uids(self) -> list[str]:
        from pydicom import dcmread

        return [str(dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in self.files]


def ct_slice(
    study_uid: str,
    series_uid: str,
    number: int,
    *,
    rows: int = 64,
    columns: int = 64,
    patient_id: str = "4711",
    accession: str = "ACC-1",
    issuer: str = LOCAL_ISSUER,
    body_part: str = "CHEST",
) -> Dataset:
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid(UID_ROOT)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jana"
    ds.PatientID = patient_id
    ds.IssuerOfPatientID = issuer
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = "20240115"
    ds.StudyTime = "091500"
    ds.AccessionNumber = accession
    ds.StudyID = "1"
    ds.ReferringPhysicianName = "Mustermann^Erika"
    ds.StudyDescription = "CT Thorax"
    ds.Modality = "CT"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 1
    ds.BodyPartExamined = body_part
    ds.InstanceNumber = number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    y, x = np.mgrid[0:rows, 0:columns]
    pixels = ((x * 7 + y * 3 + number * 11) % 4096).astype(np.uint16)
    ds.PixelData = pixels.tobytes()
    return ds


def write_study(
    folder: Path, slices: int = 4, series: int = 1, *, rows: int = 64, columns: int = 64, **fields: str
) -> Study:
    folder.mkdir(parents=True, exist_ok=True)
    study = Study(generate_uid(UID_ROOT), [generate_uid(UID_ROOT) for _ in range(series)])
    study.patient_id = fields.get("patient_id", study.patient_id)
    study.accession = fields.get("accession", study.accession)
    for s, series_uid in enumerate(study.series_uids):
        for n in range(1, slices + 1):
            ds = ct_slice(study.study_uid, series_uid, n, rows=rows, columns=columns, **fields)
            path = folder / f"s{s}_{n:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            study.files.append(path)
    return study


def storescu(
    port: int, *files: Path, ae_title: str = "XDSI_SOURCE", extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(need_tool("storescu")),
            "-aec",
            ae_title,
            "-aet",
            "TESTSCU",
            *extra,
            "127.0.0.1",
            str(port),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def imaging_settings(database_url: str, data_dir: Path, **extra: object) -> Settings:
    """Settings of a source on a free DICOM port; ``extra`` goes to the [imaging] section."""
    section = {"study_idle_seconds": 0, **extra}
    destinations = tuple(section.pop("destinations", ()))
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        dicom_port=free_port(),
        dicom_destinations=destinations,
        extra={"imaging": section},
    )


@dataclass
class RunningSource:
    source: ImagingSource
    base: str  # http://127.0.0.1:port

    @property
    def port(self) -> int:
        return self.source.listener.port

    @property
    def store(self):  # noqa: ANN201
        return self.source.store

    @property
    def uid(self) -> str:
        return self.source.config.source_unique_id


@contextmanager
def running_source(settings: Settings) -> Iterator[RunningSource]:
    """The Imaging Document Source as in production: its HTTP routes on uvicorn, its DICOM listener started
    by the app's lifespan."""
    source = ImagingSource.open(settings)
    with serving(services_app([actor(source)])) as base:
        yield RunningSource(source, base)


def destination(ae: str, port: int) -> DicomDestination:
    return DicomDestination(ae, "127.0.0.1", port)


def dataset_part(path: Path) -> bytes:
    """The encoded data set of a PS3.10 file: what follows preamble, "DICM" and the File Meta group
    (PS3.10 7.1), i.e. the bytes a C-STORE carries."""
    data = path.read_bytes()
    assert data[128:132] == b"DICM"
    # (0002,0000) UL, explicit VR little endian: tag 4 + VR 2 + length 2 + value 4
    group_length = int.from_bytes(data[140:144], "little")
    return data[144 + group_length :]


def tool(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(need_tool(name)), *args], capture_output=True, text=True, timeout=600, cwd=cwd)


@contextmanager
def storescp(folder: Path, ae_title: str = "DEST", port: int | None = None) -> Iterator[int]:
    """dcmtk storescp receiving into ``folder`` (on a free port unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = subprocess.Popen(
        [str(need_tool("storescp")), "-aet", ae_title, "-od", str(folder), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # wait until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("storescp did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)

"""Synthetic DICOM studies and a running Imaging Document Source for the imaging tests.

Studies come from consumer.demo_data (CT Image Storage, 16-bit, Explicit VR Little Endian); the peers are
dcmtk's command-line tools at /usr/bin (pynetdicom installs same-named scripts into the venv that would
shadow them).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from registry_helpers import free_port  # noqa: F401 - re-exported for the imaging tests
from soap_helpers import serving

from consumer.demo_data import LOCAL_ISSUER, UID_ROOT, Study, ct_slice, write_study  # noqa: F401
from imaging_source.service import ImagingSource, actor
from xds.config import DicomDestination, Settings
from xds.runtime import services_app

DCMTK = Path("/usr/bin")


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
def storescp(
    folder: Path, ae_title: str = "DEST", port: int | None = None, extra: tuple[str, ...] = ()
) -> Iterator[int]:
    """dcmtk storescp receiving into ``folder`` (on a free port unless given; ``extra`` options)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = subprocess.Popen(
        [str(need_tool("storescp")), *extra, "-aet", ae_title, "-od", str(folder), str(port)],
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

"""``publish_path`` (for ``xds publish PATH``): files, folder, DICOMDIR and ZIP imported and published by
RAD-68; and the completion watcher publishing a study once it is quiet."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from imaging_helpers import imaging_settings, running_source, storescu, write_study
from pydicom import dcmread
from pydicom.fileset import FileSet
from repository_helpers import running_domain, wait_for
from sample_data import DOMAIN_OID

from imaging_source.publish import publish_path

PID = f"4711^^^&{DOMAIN_OID}&ISO"


def as_dicomdir(files: list[Path], folder: Path) -> Path:
    fileset = FileSet()
    for path in files:
        fileset.add(dcmread(path))
    fileset.write(folder)
    return folder


def as_zip(files: list[Path], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for n, file in enumerate(files):
            archive.write(file, f"images/{n:03d}.dcm")
        archive.writestr("README.txt", "not DICOM")
    return path


@pytest.mark.parametrize("form", ["folder", "file", "dicomdir", "zip"])
def test_publish_path_imports_and_registers(tmp_path: Path, form: str) -> None:
    study = write_study(tmp_path / "in", slices=3)
    source = {
        "folder": lambda: tmp_path / "in",
        "file": lambda: study.files[0],
        "dicomdir": lambda: as_dicomdir(study.files, tmp_path / "cd"),
        "zip": lambda: as_zip(study.files, tmp_path / "study.zip"),
    }[form]()
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with running_domain(database_url, tmp_path / "domain") as domain:
        domain.registry.add_patient(PID)
        settings = imaging_settings(database_url, tmp_path / "img", repository_url=domain.repository.url)
        report = publish_path(settings, source)
        assert report.ok, report.results
        assert report.imported.studies == {study.study_uid}
        assert report.imported.stored == (1 if form == "file" else 3)
        if form == "zip":
            assert [name for name, _ in report.imported.skipped] == ["README.txt"]
        [result] = report.results
        assert result.status == "published"
        assert len(domain.registry.rows_by_unique_id("DocumentEntry", result.kos_uid)) == 1
        again = publish_path(settings, source)  # nothing new: nothing published
        assert [r.status for r in again.results] == ["unchanged"]


def test_publish_path_reports_the_registry_refusal(tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=1, patient_id="UNKNOWN-1")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with running_domain(database_url, tmp_path / "domain") as domain:
        settings = imaging_settings(database_url, tmp_path / "img", repository_url=domain.repository.url)
        report = publish_path(settings, study.files[0])
        assert not report.ok
        [result] = report.results
        assert result.status == "failed"
        assert any(e.startswith("XDSUnknownPatientId") for e in result.errors), result.errors
        assert domain.repository.blob_count() == 0


def test_completion_watcher_publishes_a_quiet_study(tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=2)
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with running_domain(database_url, tmp_path / "domain") as domain:
        domain.registry.add_patient(PID)
        settings = imaging_settings(
            database_url, tmp_path / "img", repository_url=domain.repository.url, study_idle_seconds=0.5
        )
        with running_source(settings) as src:
            assert storescu(src.port, *study.files).returncode == 0
            wait_for(lambda: src.store.published_manifest(study.study_uid) is not None, "the manifest")
            kos_uid = src.store.published_manifest(study.study_uid).kos_uid
            assert len(domain.registry.rows_by_unique_id("DocumentEntry", kos_uid)) == 1

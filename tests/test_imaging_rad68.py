"""KOS manifest (checked by dciodvfy) and RAD-68 publishing to a real repository and registry, with RPLC
when a published study receives more instances."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from imaging_helpers import dciodvfy, imaging_settings, running_source, storescu, write_study
from pydicom import dcmread
from repository_helpers import running_domain
from sample_data import DOMAIN_OID

from xds.vocabulary import Status

PID = f"4711^^^&{DOMAIN_OID}&ISO"


def publish(src, study_uid: str):  # noqa: ANN001, ANN201
    async def run():  # noqa: ANN202
        try:
            return await src.source.publisher.publish(study_uid)
        finally:
            await src.source.publisher.close()

    return asyncio.run(run())


def test_kos_references_every_instance_and_passes_dciodvfy(tmp_path: Path) -> None:
    tool = dciodvfy()
    study = write_study(tmp_path / "in", slices=3, series=2)
    settings = imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")
    with running_source(settings) as src:
        assert storescu(src.port, *study.files).returncode == 0
        built = src.source.publisher.build(study.study_uid)
        assert built is not None
        check = subprocess.run([tool, str(built.manifest.path)], capture_output=True, text=True, timeout=60)
        report = check.stdout + check.stderr
        assert "Error" not in report, report
        kos = dcmread(built.manifest.path)
        assert kos.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.59"
        title = kos.ConceptNameCodeSequence[0]
        assert (title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning) == (
            "113030",
            "DCM",
            "Manifest",
        )
        evidence = kos.CurrentRequestedProcedureEvidenceSequence
        assert [s.StudyInstanceUID for s in evidence] == [study.study_uid]
        series = evidence[0].ReferencedSeriesSequence
        assert {s.SeriesInstanceUID for s in series} == set(study.series_uids)
        for item in series:
            assert item.RetrieveAETitle == "XDSI_SOURCE"
            assert item.RetrieveLocationUID == src.uid
        referenced = {r.ReferencedSOPInstanceUID for s in series for r in s.ReferencedSOPSequence}
        assert referenced == set(study.sop_uids)
        assert {
            r.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for r in kos.ContentSequence
        } == referenced


def test_rad68_registers_the_manifest_and_replaces_it_when_the_study_grows(
    database_url: str, tmp_path: Path
) -> None:
    study = write_study(tmp_path / "in", slices=3)
    with running_domain(database_url, tmp_path / "domain") as domain:
        domain.registry.add_patient(PID)
        settings = imaging_settings(database_url, tmp_path / "img", repository_url=domain.repository.url)
        with running_source(settings) as src:
            assert storescu(src.port, *study.files[:2]).returncode == 0
            first = publish(src, study.study_uid)
            assert first.status == "published", first.errors
            entry = domain.registry.rows_by_unique_id("DocumentEntry", first.kos_uid)
            assert len(entry) == 1
            # the repository holds exactly our KOS file
            got = domain.repository.retrieve(first.kos_uid).documents[0]
            kos_path = src.store.published_manifest(study.study_uid).path
            assert got.content.read() == kos_path.read_bytes()
            assert got.mime_type == "application/dicom"

            unchanged = publish(src, study.study_uid)
            assert unchanged.status == "unchanged"

            assert storescu(src.port, study.files[2]).returncode == 0
            second = publish(src, study.study_uid)
            assert second.status == "published", second.errors
            assert second.replaced == first.kos_uid
            old = domain.registry.rows_by_unique_id("DocumentEntry", first.kos_uid)[0]
            new = domain.registry.rows_by_unique_id("DocumentEntry", second.kos_uid)[0]
            assert old.status == Status.DEPRECATED
            assert new.status == Status.APPROVED
            kos = dcmread(src.store.published_manifest(study.study_uid).path)
            refs = (
                kos.CurrentRequestedProcedureEvidenceSequence[0]
                .ReferencedSeriesSequence[0]
                .ReferencedSOPSequence
            )
            assert len(refs) == 3

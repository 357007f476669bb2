"""The Imaging Document Consumer (``consumer.imaging``, ``xds images``) against ``xds up`` with every actor:
bad input and failing peers get a one-line answer and a non-zero exit; forwarding to dcmtk's storescp; the
manifest reader, the DICOMDIR (checked by dciodvfy) and the progress line."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from consumer_helpers import UpDomain, ok, run_xds, submit_when_known, xad_pid, xds_up_domain
from imaging_helpers import dataset_part
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from consumer.demo_data import LOCAL_ISSUER, Study, write_study
from consumer.imaging import ManifestError, read_manifest
from consumer.progress import Progress

STORESCU = Path("/usr/bin/storescu")
STORESCP = Path("/usr/bin/storescp")
KOS_FORMAT = "urn:oid:1.2.840.10008.5.1.4.1.1.88.59^^1.3.6.1.4.1.19376.1.2.3"


def need(tool: Path) -> None:
    if not tool.is_file():
        pytest.skip(f"{tool} not installed (dcmtk; tools/install-system-deps.sh)")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line(result: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and text in result.stderr, result.stderr


def feed(env: dict[str, str], number: str) -> None:
    ok(run_xds(env, "feed", "--pid", xad_pid(number), "--pid", f"{number}^^^&{LOCAL_ISSUER}&ISO",
               "--name", "Roe^Richard"))


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """``xds up``, and patient IMG-1 with a published 2 x 3 slice study."""
    need(STORESCU)
    tmp = tmp_path_factory.mktemp("imaging-consumer")
    with xds_up_domain(tmp) as up:
        feed(up.env, "IMG-1")
        study = write_study(tmp / "ct", slices=3, series=2, patient_id="IMG-1")
        sent = subprocess.run([str(STORESCU), "-aec", "XDSI_SOURCE", "127.0.0.1", str(up.dicom_port),
                               *map(str, study.files)], capture_output=True, text=True, timeout=120)
        assert sent.returncode == 0, sent.stderr
        # the feed may still be on its way from the PIX Manager to the registry
        deadline = time.monotonic() + 30
        while True:
            published = run_xds(up.env, "publish", str(tmp / "ct"), "--json")
            if published.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert published.returncode == 0, published.stdout + published.stderr
        yield up, study


def images(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run_xds(env, "images", "--pid", xad_pid("IMG-1"), *args)


def test_no_manifest_for_the_patient(domain: tuple[UpDomain, Study], tmp_path: Path) -> None:
    up, _ = domain
    feed(up.env, "IMG-0")
    # a report, but no imaging study
    submit_when_known(up.env, str(_pdf(tmp_path)), "--pid", xad_pid("IMG-0"))
    one_line(run_xds(up.env, "images", "--pid", xad_pid("IMG-0"), "--out", str(tmp_path / "o")), 1,
             "holds no KOS manifest")
    one_line(run_xds(up.env, "images", "--pid", xad_pid("NOBODY"), "--out", str(tmp_path / "o")), 1, "xds: ")
    one_line(images(up.env), 2, "give --out DIR, --forward")
    one_line(images(up.env, "--forward", "not-an-address"), 2, "is not AE@host:port")


def _pdf(folder: Path) -> Path:
    path = folder / "report.pdf"
    path.write_bytes(b"%PDF-1.4 report")
    return path


Served = tuple[UpDomain, Study]


def test_a_manifest_naming_an_instance_the_source_lacks(domain: Served, tmp_path: Path) -> None:
    up, study = domain
    feed(up.env, "IMG-2")
    # a manifest that references the study's instances plus one the source never received
    found = json.loads(ok(run_xds(up.env, "query", "find-documents", "--pid", xad_pid("IMG-1"),
                                  "--json")).stdout)["document_entries"]
    kos_uid = next(e["unique_id"] for e in found if e["mime_type"] == "application/dicom")
    ok(run_xds(up.env, "retrieve", kos_uid, "--out", str(tmp_path / "kos")))
    manifest = dcmread(tmp_path / "kos" / f"{kos_uid}.dcm")
    ghost = generate_uid("1.2.826.0.1.3680043.10.543.")
    extra = Dataset()
    extra.ReferencedSOPClassUID = study_class(study)
    extra.ReferencedSOPInstanceUID = ghost
    series = manifest.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    series.ReferencedSOPSequence.append(extra)
    manifest.PatientID = "IMG-2"
    manifest.SOPInstanceUID = manifest.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    bad = tmp_path / "bad-kos.dcm"
    manifest.save_as(bad, enforce_file_format=True)
    submit_when_known(up.env, str(bad), "--pid", xad_pid("IMG-2"), "--class", "BIL", "--type", "BILD",
                      "--format", KOS_FORMAT, "--mime-type", "application/dicom")

    reasons = {"rad69": "XDSDocumentUniqueIdError", "wado-rs": "WADO-RS", "cmove": "did not send",
               "wado": "WADO-URI HTTP 404"}
    for via, reason in reasons.items():
        got = run_xds(up.env, "images", "--pid", xad_pid("IMG-2"), "--out", str(tmp_path / via), "--via", via,
                      "--json")
        assert got.returncode == 1, got.stderr
        body = json.loads(got.stdout)
        assert body["referenced"] == len(study.files) + 1 and body["received"] == len(study.files), via
        assert [m["sop_instance_uid"] for m in body["missing"]] == [ghost]
        assert reason in body["missing"][0]["reason"], (via, body["missing"])
        assert f"xds: missing {ghost}" in got.stderr
        assert len(body["files"]) == len(study.files)  # what did arrive is written all the same


def study_class(study: Study) -> str:
    return str(dcmread(study.files[0], stop_before_pixels=True).SOPClassUID)


def test_unreachable_sources(domain: tuple[UpDomain, Study], tmp_path: Path) -> None:
    up, _ = domain
    nowhere = f"http://127.0.0.1:{closed_port()}"
    for via in ("rad69", "wado", "wado-rs"):
        one_line(images(up.env, "--out", str(tmp_path / via), "--via", via, "--source-url", nowhere), 3,
                 "cannot reach the Imaging Document Source")
    one_line(images(up.env, "--out", str(tmp_path / "m"), "--via", "cmove", "--dicom-source",
                    f"XDSI_SOURCE@127.0.0.1:{closed_port()}"), 3, "cannot reach the Imaging Document Source")
    one_line(images(up.env, "--forward", f"PACS@127.0.0.1:{closed_port()}"), 3, "cannot reach the PACS")
    # the registry itself unreachable: its XDS code
    one_line(images(up.env, "--out", str(tmp_path / "r"), "--registry", nowhere + "/xds/registry"), 3,
             "XDSRegistryNotAvailable")


def test_cmove_to_an_ae_the_source_does_not_know(domain: tuple[UpDomain, Study], tmp_path: Path) -> None:
    up, study = domain
    env = {**up.env, "XDS_CONSUMER_AE_TITLE": "STRANGER"}
    got = run_xds(env, "images", "--pid", xad_pid("IMG-1"), "--out", str(tmp_path / "o"), "--via", "cmove",
                  "--json")
    assert got.returncode == 1
    missing = json.loads(got.stdout)["missing"]
    assert len(missing) == len(study.files)
    # PS3.4 C.4.2.1.5 Table C.4-2: A801 Refused: Move Destination unknown
    assert all("A801" in m["reason"] for m in missing)


def test_forward_to_a_pacs(domain: tuple[UpDomain, Study], tmp_path: Path) -> None:
    need(STORESCP)
    up, study = domain
    port = closed_port()
    inbox = tmp_path / "pacs"
    inbox.mkdir()
    pacs = subprocess.Popen([str(STORESCP), "-aet", "PACS", "-od", str(inbox), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert pacs.poll() is None and time.monotonic() < deadline, "storescp did not start"
                time.sleep(0.05)
        got = json.loads(ok(images(up.env, "--forward", f"PACS@127.0.0.1:{port}", "--via", "wado-rs",
                                   "--json")).stdout)
    finally:
        pacs.terminate()
        pacs.wait(timeout=30)
    assert got["forwarded"] == {"sent": len(study.files), "failed": {}}
    sent = {uid: dataset_part(p) for uid, p in zip(study.sop_uids, study.files, strict=True)}
    arrived = {str(dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in inbox.iterdir()}
    assert set(arrived) == set(sent)
    for uid, path in arrived.items():
        assert dataset_part(path) == sent[uid]


def test_dicomdir_passes_dciodvfy_and_the_manifest_reads(domain: Served, tmp_path: Path) -> None:
    up, study = domain
    out = tmp_path / "cd"
    ok(images(up.env, "--out", str(out)))
    # a second run into the same folder adds nothing twice
    ok(images(up.env, "--out", str(out)))
    from pydicom.fileset import FileSet

    assert sorted(str(i.SOPInstanceUID) for i in FileSet(out / "DICOMDIR")) == sorted(study.sop_uids)
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy:
        checked = subprocess.run([dciodvfy, str(out / "DICOMDIR")], capture_output=True, text=True)
        assert "Error" not in checked.stdout + checked.stderr, checked.stderr
    found = json.loads(ok(run_xds(up.env, "query", "find-documents", "--pid", xad_pid("IMG-1"),
                                  "--json")).stdout)["document_entries"]
    kos_uid = next(e["unique_id"] for e in found if e["mime_type"] == "application/dicom")
    ok(run_xds(up.env, "retrieve", kos_uid, "--out", str(tmp_path / "kos")))
    manifest = read_manifest(tmp_path / "kos" / f"{kos_uid}.dcm")
    assert manifest.sop_instance_uid == kos_uid and manifest.study_uids == (study.study_uid,)
    assert {r.sop_instance_uid for r in manifest.references} == set(study.sop_uids)
    assert {r.retrieve_ae_title for r in manifest.references} == {"XDSI_SOURCE"}
    assert all(r.retrieve_location_uid for r in manifest.references)
    with pytest.raises(ManifestError):
        read_manifest(study.files[0])  # a CT image is no manifest


def test_progress_line() -> None:
    stream = io.StringIO()
    with Progress("rad69 instances", 4, unit="instances", stream=stream, enabled=True) as progress:
        progress.add_bytes(3 * 1024 * 1024)
        progress.advance(4)
    text = stream.getvalue()
    assert text.startswith("\r") and text.endswith("\n")
    assert "rad69 instances: 4/4 instances, 3.0 MB 100%" in text
    quiet = io.StringIO()
    with Progress("x", 1, stream=quiet) as progress:  # not a terminal: nothing drawn
        progress.advance()
    assert quiet.getvalue() == ""

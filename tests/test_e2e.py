"""End to end, as issue 7 asks: ``xds up`` as a subprocess with every actor on free ports, driven through the
``xds`` command line only, with dcmtk's storescu as the modality; then the same documents read by zeep, an
independent SOAP client working from the published WSDLs (ITI-18, ITI-43).

The CT study here is 2 series x 20 slices of 256x256 (about 5 MB): the flow, not the volume, is under test
(bench/imaging.py and the imaging tests carry the 200 x 512x512 figure). Images are compared by their
encoded data set (what a C-STORE carries): a file's File Meta group is written by whoever stores it.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
from pathlib import Path

import pytest
import zeep
from consumer_helpers import UpDomain, ok, run_xds, submit_when_known, xad_pid, xds_up_domain
from imaging_helpers import dataset_part
from lxml import etree
from pydicom import dcmread
from pydicom.fileset import FileSet

from consumer.demo_data import LOCAL_ISSUER, Study, tiny_pdf, write_study
from xds.vocabulary import Status

STORESCU = Path("/usr/bin/storescu")
NS_XDSB = "urn:ihe:iti:xds-b:2007"
KIS = "1.2.276.0.76.3.1.99"


def need_storescu() -> None:
    if not STORESCU.is_file():
        pytest.skip("dcmtk storescu not installed (tools/install-system-deps.sh)")


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    with xds_up_domain(tmp_path_factory.mktemp("e2e")) as up:
        yield up


def feed(env: dict[str, str], number: str) -> None:
    # the XAD-PID and two local numbers (KIS, RIS) of one person, to the PIX Manager
    fed = ok(run_xds(env, "feed", "--pid", xad_pid(number), "--pid", f"K-{number}^^^&{KIS}&ISO",
                     "--pid", f"{number}^^^&{LOCAL_ISSUER}&ISO", "--name", "Mueller^Jana",
                     "--birth", "19700101", "--sex", "F", "--json"))
    assert json.loads(fed.stdout)["to"].endswith(":" + env["XDS_PIX_MLLP_PORT"])


def publish_study(domain: UpDomain, number: str, folder: Path, slices: int, size: int) -> Study:
    need_storescu()
    study = write_study(folder, slices=slices, series=2, rows=size, columns=size, patient_id=number,
                        accession=f"ACC-{number}")
    sent = subprocess.run(
        [str(STORESCU), "-aec", "XDSI_SOURCE", "-aet", "MODALITY", "127.0.0.1", str(domain.dicom_port),
         *map(str, study.files)], capture_output=True, text=True, timeout=300,
    )
    assert sent.returncode == 0, sent.stderr
    published = json.loads(ok(run_xds(domain.env, "publish", str(folder), "--json")).stdout)
    assert [s["status"] for s in published["studies"]] == ["published"], published
    return study


def entries(env: dict[str, str], pid: str, *extra: str) -> list[dict]:
    found = ok(run_xds(env, "query", "find-documents", "--pid", pid, "--json", *extra))
    return json.loads(found.stdout)["document_entries"]


def test_feed_submit_publish_query_retrieve_images_replace(domain: UpDomain, tmp_path: Path) -> None:
    env, pid = domain.env, xad_pid("E2E-1")
    feed(env, "E2E-1")
    report = tmp_path / "befund.pdf"
    report.write_bytes(tiny_pdf(["Befundbericht CT Thorax", "E2E-1"]))
    sent = submit_when_known(env, str(report), "--pid", pid, "--class", "BEF", "--type", "BERI")
    report_uid = sent["documents"][0]["unique_id"]
    study = publish_study(domain, "E2E-1", tmp_path / "ct", slices=20, size=256)

    # ITI-18 by the XAD-PID: the report and the study's KOS manifest
    found = {e["mime_type"]: e for e in entries(env, pid)}
    assert set(found) == {"application/pdf", "application/dicom"}
    assert found["application/pdf"]["unique_id"] == report_uid
    assert found["application/dicom"]["format_code"]["code"] == "urn:oid:1.2.840.10008.5.1.4.1.1.88.59"

    # ITI-43: the report byte for byte
    ok(run_xds(env, "retrieve", report_uid, "--out", str(tmp_path / "docs")))
    assert (tmp_path / "docs" / f"{report_uid}.pdf").read_bytes() == report.read_bytes()

    # every image by RAD-69, WADO-RS and C-MOVE (and WADO-URI): all 40 there, data sets byte-identical
    sent_sets = {uid: dataset_part(path) for uid, path in zip(study.sop_uids, study.files, strict=True)}
    for via in ("rad69", "wado-rs", "cmove", "wado"):
        out = tmp_path / f"images-{via}"
        got = json.loads(ok(run_xds(env, "images", "--pid", pid, "--out", str(out), "--via", via,
                                    "--json")).stdout)
        assert got["referenced"] == got["received"] == len(study.files) == 40, via
        assert got["missing"] == []
        fileset = FileSet(out / "DICOMDIR")
        received = {str(i.SOPInstanceUID): Path(i.path) for i in fileset}
        assert set(received) == set(sent_sets), via
        for uid, path in received.items():
            assert dataset_part(path) == sent_sets[uid], (via, uid)

    # RPLC: the new version approved, the old one deprecated
    newer = tmp_path / "befund-v2.pdf"
    newer.write_bytes(tiny_pdf(["Befundbericht CT Thorax (korrigiert)", "E2E-1"]))
    replaced = submit_when_known(env, str(newer), "--pid", pid, "--replace", report_uid)
    new_uid = replaced["documents"][0]["unique_id"]
    assert [e["unique_id"] for e in entries(env, pid, "--status", "deprecated")] == [report_uid]
    approved = {e["unique_id"] for e in entries(env, pid)}
    assert new_uid in approved and report_uid not in approved


# --- the same documents through zeep ---
class Received(zeep.Plugin):
    """Keeps the envelope zeep built from the MTOM answer (xop:Include replaced by the part, base64): the
    WSDL's Document element is mixed content, which zeep does not bind to a value."""

    envelope: etree._Element | None = None

    def ingress(self, envelope, http_headers, operation):  # noqa: ANN001, ANN201 - zeep's signature
        self.envelope = envelope
        return envelope, http_headers


RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
UNIQUE_ID_SCHEME = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"  # XDSDocumentEntry.uniqueId


def zeep_find(base: str, pid: str, status: str = Status.APPROVED) -> dict[str, str]:
    """ITI-18 FindDocuments by zeep: uniqueId -> mimeType of the DocumentEntries found. zeep binds
    rim:Identifiable's substitution group (ExtrinsicObject in a LeafClass answer) to the abstract type and
    stops at its first child element in strict mode, so the objects are read from the envelope zeep received
    (non-strict), with XPath."""
    received = Received()
    settings = zeep.Settings(strict=False)
    client = zeep.Client(f"{base}/xds/registry?wsdl", settings=settings, plugins=[received])
    answer = client.service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={"id": "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d", "Slot": [
            {"name": "$XDSDocumentEntryPatientId", "ValueList": {"Value": [f"'{pid}'"]}},
            {"name": "$XDSDocumentEntryStatus", "ValueList": {"Value": [f"('{status}')"]}},
        ]},
    )
    assert answer.status.endswith(":Success"), answer
    found = {}
    for extrinsic in received.envelope.iter(f"{{{RIM}}}ExtrinsicObject"):
        ids = extrinsic.xpath("r:ExternalIdentifier[@identificationScheme=$s]/@value", namespaces={"r": RIM},
                              s=UNIQUE_ID_SCHEME)
        found[ids[0]] = extrinsic.get("mimeType")
    return found


def zeep_retrieve(base: str, repository_id: str, uid: str) -> bytes:
    received = Received()
    client = zeep.Client(f"{base}/xds/repository?wsdl", plugins=[received])
    answer = client.service.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[{"RepositoryUniqueId": repository_id, "DocumentUniqueId": uid}]
    )
    assert answer.RegistryResponse.status.endswith(":Success")
    (content,) = received.envelope.iter(f"{{{NS_XDSB}}}Document")
    return base64.b64decode(content.text or "")


def test_the_same_flow_read_by_zeep(domain: UpDomain, tmp_path: Path) -> None:
    env, pid = domain.env, xad_pid("E2E-2")
    feed(env, "E2E-2")
    report = tmp_path / "befund.pdf"
    # no CR/LF at either end: zeep strips those from a binary part (zeep/wsdl/attachments.py)
    report.write_bytes(tiny_pdf(["Befund", "E2E-2"]).rstrip(b"\r\n"))
    report_uid = submit_when_known(env, str(report), "--pid", pid)["documents"][0]["unique_id"]
    study = publish_study(domain, "E2E-2", tmp_path / "ct", slices=3, size=64)

    found = {mime: uid for uid, mime in zeep_find(domain.base, pid).items()}
    assert set(found) == {"application/pdf", "application/dicom"}
    assert found["application/pdf"] == report_uid

    repository_id = "1.3.6.1.4.1.21367.2011.2.5.1"  # the default of `xds up` (xds.config)
    assert zeep_retrieve(domain.base, repository_id, report_uid) == report.read_bytes()
    kos = tmp_path / "kos.dcm"
    kos.write_bytes(zeep_retrieve(domain.base, repository_id, found["application/dicom"]))
    manifest = dcmread(kos)
    referenced = {
        sop.ReferencedSOPInstanceUID
        for series in manifest.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
        for sop in series.ReferencedSOPSequence
    }
    assert referenced == set(study.sop_uids)

    newer = tmp_path / "befund-v2.pdf"
    newer.write_bytes(b"%PDF-1.4 corrected")
    new_uid = submit_when_known(env, str(newer), "--pid", pid, "--replace", report_uid)["documents"][0][
        "unique_id"
    ]
    assert list(zeep_find(domain.base, pid, Status.DEPRECATED)) == [report_uid]
    assert new_uid in zeep_find(domain.base, pid)


# --- the README quick start ---
def test_demo_and_its_three_commands(domain: UpDomain, tmp_path: Path) -> None:
    need_storescu()
    env = domain.env
    loaded = json.loads(ok(run_xds(env, "demo", "--slices", "4", "--size", "64", "--json")).stdout)
    assert loaded["report_unique_id"] and loaded["instances"] == 8
    for command in loaded["commands"]:
        # printed for a shell (the PID in single quotes); run here as a shell would, in tmp_path
        args = shlex.split(command)
        assert args[0] == "xds"
        ok(run_xds(env, *args[1:], cwd=tmp_path))
    assert (tmp_path / "report" / f"{loaded['report_unique_id']}.pdf").read_bytes().startswith(b"%PDF-1.4")
    assert len(list(FileSet(tmp_path / "images" / "DICOMDIR"))) == 8
    again = json.loads(ok(run_xds(env, "demo", "--json")).stdout)
    assert again["already_loaded"] is True

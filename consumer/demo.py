"""``xds demo``: a demo patient, a PDF report and a CT study, loaded into a running domain through the
standard transactions only: ITI-8 (to the PIX Manager when it runs, else to the registry), ITI-41, C-STORE
to the Imaging Document Source, then RAD-68 publishing of the study's KOS manifest.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from consumer.client import Client
from consumer.demo_data import LOCAL_ISSUER, Study, tiny_pdf, write_study
from consumer.feed import build_adt, send_feed
from consumer.submit import SubmitOptions
from xds.config import Settings
from xds.errors import ErrorCode, XdsError
from xds.runtime import local_host, local_url

DEMO_ID = "DEMO4711"  # the XAD-PID's number; the RIS knows the patient by the same number (its own issuer)
KIS_ID = "K-4711^^^&1.2.276.0.76.3.1.99&ISO"  # the hospital information system's patient number
NAME, BIRTH, SEX = "Mueller^Jana", "19700101", "F"
STORESCU = Path("/usr/bin/storescu")


@dataclass
class DemoResult:
    patient_id: str
    report_unique_id: str = ""
    study_uid: str = ""
    instances: int = 0
    already_loaded: bool = False
    actors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def demo_patient_id(settings: Settings) -> str:
    return f"{DEMO_ID}^^^&{settings.domain_oid}&ISO"


def wait_for_domain(settings: Settings, seconds: float) -> list[str]:
    """The actors of the domain at the settings' HTTP port, once its /health answers."""
    url = local_url(settings, "/health")
    deadline = time.monotonic() + seconds
    while True:
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return list(answer.json().get("actors", []))
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise ConnectionError(f"no domain answers at {url} (start it with `xds up`)")
        time.sleep(0.2)


def _documents(client: Client, pid: str) -> list:
    try:
        return list(client.find_documents(pid).document_entries)
    except XdsError as exc:
        if exc.code == ErrorCode.XDS_UNKNOWN_PATIENT_ID:
            return []
        raise


def _submit(client: Client, pdf: Path, pid: str, seconds: float = 20.0) -> str:
    # the PIX Manager forwards the new XAD-PID to the registry from its outbox: until it has arrived the
    # registry answers XDSUnknownPatientId, so the first submission may have to wait a moment
    options = SubmitOptions(
        patient_id=pid, class_code="BEF", type_code="BERI", title="Befundbericht CT Thorax",
        author_person="^Mustermann^Erika^^^Dr.", source_patient_id=KIS_ID,
    )
    deadline = time.monotonic() + seconds
    while True:
        try:
            return client.submit([pdf], options).document_entries[0].unique_id
        except XdsError as exc:
            if exc.code != ErrorCode.XDS_UNKNOWN_PATIENT_ID or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def store_study(settings: Settings, files: list[Path]) -> None:
    """C-STORE with dcmtk's storescu when installed (the venv's same-named script is pynetdicom's), else
    with a pynetdicom SCU."""
    host, port, ae = local_host(settings), settings.dicom_port, settings.dicom_ae_title
    if STORESCU.is_file():
        run = subprocess.run(
            [str(STORESCU), "-aec", ae, "-aet", "XDS_DEMO", host, str(port), *map(str, files)],
            capture_output=True, text=True, timeout=600,
        )
        if run.returncode != 0:
            raise ConnectionError(f"storescu to {ae}@{host}:{port} failed: {run.stderr.strip()[-300:]}")
        return
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    scu = AE(ae_title="XDS_DEMO")
    scu.add_requested_context(CTImageStorage)
    assoc = scu.associate(host, port, ae_title=ae)
    if not assoc.is_established:
        raise ConnectionError(f"cannot reach the Imaging Document Source {ae}@{host}:{port}")
    try:
        for path in files:
            status = assoc.send_c_store(path)
            if status is None or int(status.get("Status", -1)) != 0:
                raise ConnectionError(f"C-STORE of {path.name} to {ae} failed")
    finally:
        assoc.release()


def load_demo(
    settings: Settings, *, slices: int = 24, size: int = 256, wait: float = 30.0,
    say: Callable[[str], None] = print,
) -> DemoResult:
    pid = demo_patient_id(settings)
    result = DemoResult(pid, actors=wait_for_domain(settings, wait))
    with Client.from_settings(settings) as client:
        existing = _documents(client, pid)
        if existing:
            result.already_loaded = True
            reports = [d.unique_id for d in existing if d.mime_type == "application/pdf"]
            result.report_unique_id = reports[0] if reports else ""
            say(f"demo data is already loaded for {pid}")
            return result
        # ITI-8: the XAD-PID and two local numbers (KIS, RIS) of one person, linked by the PIX Manager
        ris = f"{DEMO_ID}^^^&{LOCAL_ISSUER}&ISO"
        message, _ = build_adt([pid, KIS_ID, ris], NAME, BIRTH, SEX)
        port = settings.pix_mllp_port if "pix" in result.actors else settings.registry_mllp_port
        send_feed(local_host(settings), port, message)
        say(f"ITI-8   patient {pid} (also {KIS_ID}, {ris}) fed to port {port}")
        scratch = Path(tempfile.mkdtemp(prefix="xds-demo-"))
        try:
            pdf = scratch / "befund.pdf"
            pdf.write_bytes(tiny_pdf([
                "Befundbericht CT Thorax", f"Patientin: Jana Mueller, geb. 01.01.1970 ({DEMO_ID})",
                "Befund: Keine Infiltrate, kein Pleuraerguss.", "Beurteilung: Unauffaelliger Befund.",
                "Dr. Erika Mustermann, Radiologie",
            ]))
            result.report_unique_id = _submit(client, pdf, pid)
            say(f"ITI-41  report {result.report_unique_id} (PDF) submitted")
            if "imaging-source" in result.actors:
                study = _study(settings, scratch / "ct", slices, size)
                result.study_uid, result.instances = study.study_uid, len(study.files)
                say(f"C-STORE CT study {study.study_uid}: {len(study.files)} images ({size}x{size})")
            else:
                result.notes.append("no imaging source runs: no CT study loaded")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return result


def _study(settings: Settings, folder: Path, slices: int, size: int) -> Study:
    from imaging_source.publish import publish_path

    study = write_study(
        folder, slices=slices, series=2, rows=size, columns=size, patient_id=DEMO_ID,
        accession="DEMO-ACC-1", patient_name=NAME,
    )
    store_study(settings, study.files)
    # RAD-68 now rather than when the study has been idle for study_idle_seconds: the files are in the
    # source already (same SOP Instance UIDs), so this only makes the source publish the manifest
    report = publish_path(settings, folder)
    if not report.ok:
        errors = "; ".join(e for r in report.results for e in r.errors)
        raise XdsError(ErrorCode.XDS_REPOSITORY_ERROR, f"publishing the CT study failed: {errors}")
    return study


def commands(settings: Settings, result: DemoResult, config: Path | None = None) -> list[str]:
    """The three commands to try next."""
    extra = f" --config {config}" if config else ""
    quoted = f"'{result.patient_id}'"
    report = result.report_unique_id or "<uniqueId from the query>"
    return [
        f"xds query find-documents --pid {quoted}{extra}",
        f"xds retrieve {report} --out report{extra}",
        f"xds images --pid {quoted} --out images{extra}",
    ]

"""RAD-68 Provide and Register Imaging Document Set - MTOM/XOP (RAD TF-3 4.68): the study's KOS manifest and
its metadata sent to the Document Repository in the ITI-41 message.

A study that received instances after its manifest was published gets a new manifest that replaces the
earlier one (ITI TF-3 4.2.2.2.1 RPLC): consumers then find only the complete one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread

from imaging_source.config import ImagingConfig
from imaging_source.kos import ManifestIds, StudyInfo, build_kos, write_kos
from imaging_source.patient import (
    affinity_patient_id,
    local_authority,
    source_patient_id,
    source_patient_info,
)
from imaging_source.store import InstanceStore, Manifest
from imaging_source.vocabulary import (
    BODY_PARTS,
    DEFAULT_CONFIDENTIALITY,
    DEFAULT_CONTENT_TYPE,
    FORMAT_CODE_DISPLAY,
    FORMAT_CODE_SCHEME,
    IHE_DE_CLASS,
    IHE_DE_TYPE,
    OID_DCM,
    OID_SNOMED_CT,
    SCHEME_OIDS,
    new_uid,
)
from xds.ebrim import pnr_to_ebrim_with_parts, registry_response_from_ebrim
from xds.errors import SoapFault
from xds.hl7v2 import CX
from xds.model import (
    Association,
    Attachment,
    Code,
    Document,
    DocumentEntry,
    ProvideAndRegisterRequest,
    RegistryResponse,
    Submission,
    SubmissionSet,
)
from xds.soap import AsyncSoapClient, TransportError
from xds.transactions import Transaction
from xds.vocabulary import (
    FORMAT_CODE_DICOM_KOS,
    MIME_TYPE_DICOM,
    AssociationType,
    ReferenceIdType,
    ResponseStatus,
    SubmissionSetStatus,
)

log = logging.getLogger(__name__)

MODALITY_NAMES = {
    "CT": "Computed Tomography",
    "MR": "Magnetic Resonance",
    "CR": "Computed Radiography",
    "DX": "Digital Radiography",
    "US": "Ultrasound",
    "NM": "Nuclear Medicine",
    "PT": "PET",
    "XA": "X-Ray Angiography",
    "MG": "Mammography",
    "OT": "Other",
    "SR": "SR Document",
}


def _dtm(date: str, time_of_day: str = "") -> str | None:
    # ITI TF-3 4.2.3.1.5: DTM, UTC, truncated to the precision known; DICOM DA is YYYYMMDD, TM HHMMSS.frac
    digits = "".join(c for c in date if c.isdigit())[:8]
    if len(digits) != 8:
        return None
    clock = "".join(c for c in time_of_day.split(".")[0] if c.isdigit())[:6]
    return digits + (clock if len(clock) in (2, 4, 6) else "")


def event_codes(series_rows: list) -> tuple[Code, ...]:
    """RAD TF-3 4.68.4.1.2.3.2: the modalities (DCM, CID 29) and anatomic regions (SNOMED CT, CID 4031)."""
    codes: dict[tuple[str, str], Code] = {}
    for row in series_rows:
        if row.modality:
            codes[(row.modality, OID_DCM)] = Code(
                row.modality, OID_DCM, MODALITY_NAMES.get(row.modality, row.modality)
            )
        if row.anatomic_region:
            value, scheme, meaning = (row.anatomic_region.split("^") + ["", ""])[:3]
            oid = SCHEME_OIDS.get(scheme)
            if oid:
                codes[(value, oid)] = Code(value, oid, meaning or value)
        elif row.body_part in BODY_PARTS:
            value, meaning = BODY_PARTS[row.body_part]
            codes[(value, OID_SNOMED_CT)] = Code(value, OID_SNOMED_CT, meaning)
    return tuple(codes.values())


def manifest_request(
    config: ImagingConfig,
    study: StudyInfo,
    series_rows: list,
    manifest: Manifest,
    content: Attachment,
    replaces: Manifest | None,
) -> ProvideAndRegisterRequest:
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    pid = affinity_patient_id(config, study)
    # ITI TF-3 4.2.3.2.28 referenceIdList (CXi): Study Instance UID (no authority) and accession number (its
    # assigning authority is required, RAD TF-3 4.68.4.1.2.3.3)
    references = [CX.parse(f"{study.study_uid}^^^^{ReferenceIdType.STUDY_INSTANCE_UID}")]
    if study.accession:
        accession = study.accession.replace("^", "\\S\\").replace("&", "\\T\\")
        references.append(
            CX.parse(f"{accession}^^^&{local_authority(config, study)}&ISO^{ReferenceIdType.ACCESSION}")
        )
    entry = DocumentEntry(
        entry_uuid=manifest.entry_uuid,
        unique_id=manifest.kos_uid,  # RAD TF-3 4.68.4.1.2.3: uniqueId = the KOS SOP Instance UID
        patient_id=pid,
        mime_type=MIME_TYPE_DICOM,  # RAD TF-3 4.68.4.1.2.3: application/dicom
        class_code=Code(*IHE_DE_CLASS),  # IHE-DE Cookbook: images are class BIL, type BILD
        type_code=Code(*IHE_DE_TYPE),
        format_code=Code(FORMAT_CODE_DICOM_KOS, FORMAT_CODE_SCHEME, FORMAT_CODE_DISPLAY),
        healthcare_facility_type_code=config.facility_type_code,
        practice_setting_code=config.practice_setting_code,
        confidentiality_codes=(Code(*DEFAULT_CONFIDENTIALITY),),
        event_codes=event_codes(series_rows),
        creation_time=now,
        service_start_time=_dtm(study.study_date, study.study_time),
        language_code="de-DE",
        source_patient_id=source_patient_id(config, study),
        source_patient_info=source_patient_info(config, study),
        reference_ids=tuple(references),
        title=f"Bilddaten {study.description}".strip(),
    )
    submission_set = SubmissionSet(
        entry_uuid=f"urn:uuid:{uuid.uuid4()}",
        unique_id=new_uid(),
        source_id=config.source_unique_id,
        patient_id=pid,
        submission_time=now,
        content_type_code=Code(*DEFAULT_CONTENT_TYPE),
        title="XDS-I.b Manifest",
    )
    associations = [
        Association(
            f"urn:uuid:{uuid.uuid4()}",
            AssociationType.HAS_MEMBER,
            submission_set.entry_uuid,
            entry.entry_uuid,
            submission_set_status=SubmissionSetStatus.ORIGINAL,
        )
    ]
    if replaces is not None:
        # ITI TF-3 4.2.2.2.1: the new manifest replaces the published one (which becomes Deprecated)
        associations.append(
            Association(
                f"urn:uuid:{uuid.uuid4()}", AssociationType.RPLC, entry.entry_uuid, replaces.entry_uuid
            )
        )
    submission = Submission(
        submission_sets=(submission_set,), document_entries=(entry,), associations=tuple(associations)
    )
    return ProvideAndRegisterRequest(submission, (Document(entry.entry_uuid, content),))


@dataclass(frozen=True)
class PublishResult:
    study_uid: str
    kos_uid: str | None
    status: str  # "published" | "unchanged" | "failed"
    replaced: str | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Built:
    manifest: Manifest
    request: ProvideAndRegisterRequest
    covered_until: float


class Publisher:
    """Builds and sends manifests, one study at a time (a per-study lock keeps two publications apart)."""

    def __init__(self, store: InstanceStore, config: ImagingConfig) -> None:
        self.store = store
        self.config = config
        self._client: AsyncSoapClient | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def client(self) -> AsyncSoapClient:
        if self._client is None:
            self._client = AsyncSoapClient(spool_dir=self.store.tmp, timeout=300, tls=self.config.tls)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def build(self, study_uid: str, *, force: bool = False) -> _Built | None:
        """Write the KOS of the study's instances and record it 'pending'; None when there is nothing new."""
        row = self.store.study(study_uid)
        if row is None or not (row.dirty or force):
            return None
        covered_until = row.last_received
        instances = self.store.find_instances(study_uid=study_uid)
        if not instances:
            return None
        # the manifest tells the affinity domain the instances are kept here: they are on disk before it is
        instances = self.store.make_durable(instances)
        if not instances:
            return None
        previous = self.store.published_manifest(study_uid)
        study = StudyInfo.of(row)
        kos_uid = new_uid()
        ids = ManifestIds(kos_uid, new_uid(), self.config.ae_title, self.config.source_unique_id)
        path = self.store.manifest_path(study_uid, kos_uid)
        write_kos(build_kos(study, instances, ids), path)
        manifest = Manifest(
            kos_uid,
            study_uid,
            f"urn:uuid:{uuid.uuid4()}",
            path,
            len(instances),
            "pending",
            previous.kos_uid if previous else None,
        )
        self.store.add_manifest(manifest, covered_until)
        content = Attachment.from_file(path, MIME_TYPE_DICOM)
        request = manifest_request(
            self.config, study, self.store.series_of(study_uid), manifest, content, previous
        )
        return _Built(manifest, request, covered_until)

    async def publish(self, study_uid: str, *, force: bool = False) -> PublishResult:
        lock = self._locks.setdefault(study_uid, asyncio.Lock())
        async with lock:
            built = await anyio.to_thread.run_sync(lambda: self.build(study_uid, force=force))
            if built is None:
                current = self.store.published_manifest(study_uid)
                return PublishResult(study_uid, current.kos_uid if current else None, "unchanged")
            errors = await self._send(built.request)
            manifest = built.manifest
            error_text = "; ".join(errors) if errors else None
            await anyio.to_thread.run_sync(
                lambda: self.store.settle_manifest(manifest, built.covered_until, error=error_text)
            )
            if errors:
                log.warning("RAD-68 for study %s failed: %s", study_uid, error_text)
                return PublishResult(study_uid, manifest.kos_uid, "failed", manifest.replaces, tuple(errors))
            return PublishResult(study_uid, manifest.kos_uid, "published", manifest.replaces)

    async def _send(self, request: ProvideAndRegisterRequest) -> list[str]:
        body, parts = pnr_to_ebrim_with_parts(request, xop=True)
        try:
            reply = await self.client.call(
                self.config.repository_url, Transaction.RAD_68, body, parts, mtom=True
            )
            response: RegistryResponse = registry_response_from_ebrim(reply.body)
        except (TransportError, SoapFault) as exc:
            return [f"repository {self.config.repository_url}: {exc}"]
        if response.status == ResponseStatus.SUCCESS:
            return []
        return [f"{e.code}: {e.context}" for e in response.errors if e.is_error] or [str(response.status)]


class CompletionWatcher:
    """Publishes each study once no new instance arrived for ``study_idle_seconds`` (issue 6 item 2);
    a study whose publication failed is tried again after ``retry_seconds``."""

    def __init__(
        self, store: InstanceStore, publisher: Publisher, idle: float, retry_seconds: float = 60
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.idle = idle
        self.retry_seconds = retry_seconds
        self._retry_after: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self.idle > 0:
            self._task = asyncio.create_task(self._run(), name="imaging-completion")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        interval = max(0.2, min(self.idle / 4, 5.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:
                log.exception("publishing complete studies failed")

    async def tick(self) -> list[PublishResult]:
        now = time.time()
        due = await anyio.to_thread.run_sync(self.store.studies_to_publish, now - self.idle)
        results = []
        for study_uid in due:
            if self._retry_after.get(study_uid, 0) > now:
                continue
            try:
                result = await self.publisher.publish(study_uid)
            except Exception:  # one study's fault (a disk error) does not hold up the others
                log.exception("publishing study %s failed", study_uid)
                self._retry_after[study_uid] = now + self.retry_seconds
                continue
            if result.status == "failed":
                self._retry_after[study_uid] = now + self.retry_seconds
            else:
                self._retry_after.pop(study_uid, None)
            results.append(result)
        return results

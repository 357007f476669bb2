"""The Imaging Document Consumer (XDS-I.b, RAD TF-1 18): a patient's KOS manifests by ITI-18 FindDocuments
(formatCode of the DICOM KOS SOP Class, RAD TF-3 4.68.4.1.2.3.2), the manifests by ITI-43 (ITI TF-2b 3.43),
then the instances they reference by RAD-69, RAD-55 WADO-URI, RAD-107 WADO-RS or C-MOVE, checked instance by
instance, written as a DICOM File-set with a DICOMDIR and/or forwarded to a PACS by C-STORE.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from consumer.client import Client
from consumer.imaging.cmove import fetch_cmove
from consumer.imaging.config import Sources
from consumer.imaging.dicomdir import write_fileset
from consumer.imaging.fetched import Fetched
from consumer.imaging.forward import Forwarded, forward
from consumer.imaging.manifest import InstanceRef, Manifest, ManifestError, read_manifest
from consumer.imaging.rad69 import fetch_rad69
from consumer.imaging.verify import Missing, check
from consumer.imaging.wado import fetch_wado_rs, fetch_wado_uri
from consumer.progress import Progress, ProgressFactory
from xds.config import DicomDestination
from xds.model import Code, DocumentEntry
from xds.vocabulary import FORMAT_CODE_DICOM_KOS, MIME_TYPE_DICOM

VIA = ("auto", "rad69", "wado", "wado-rs", "cmove")
KOS_UID = FORMAT_CODE_DICOM_KOS.removeprefix("urn:oid:")
# RAD TF-3 4.68.4.1.2.3.2 / IHE format codes: the KOS formatCode as IHE lists it today
# (urn:oid:<KOS SOP Class UID> in 1.3.6.1.4.1.19376.1.2.3) and as earlier XDS-I.b sources register it
# (the bare UID in the DICOM UID registry scheme 1.2.840.10008.2.6.1)
KOS_FORMAT_CODES = (
    Code(FORMAT_CODE_DICOM_KOS, "1.3.6.1.4.1.19376.1.2.3"),
    Code(KOS_UID, "1.2.840.10008.2.6.1"),
)


class NoManifests(LookupError):
    """The registry holds no approved KOS manifest for the patient."""


@dataclass
class ImagesResult:
    patient_id: str
    manifests: list[Manifest]
    via: str
    referenced: list[InstanceRef]
    files: dict[str, Path] = field(default_factory=dict)  # SOP Instance UID -> final file
    missing: list[Missing] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # kept, but not indexed in the DICOMDIR
    dicomdir: Path | None = None
    forwarded: Forwarded | None = None

    @property
    def ok(self) -> bool:
        return not self.missing and not (self.forwarded and self.forwarded.failed)


def is_manifest(entry: DocumentEntry) -> bool:
    code = entry.format_code.code if entry.format_code else ""
    return entry.mime_type == MIME_TYPE_DICOM and code.removeprefix("urn:oid:") == KOS_UID


def choose(via: str, ref: InstanceRef) -> str:
    """``auto``: WADO-RS where the manifest gives a Retrieve URL, else RAD-69, the transaction XDS-I.b
    defines for it (RAD TF-3 4.69)."""
    if via != "auto":
        return via
    return "wado-rs" if ref.retrieve_url else "rad69"


class ImagingConsumer:
    def __init__(
        self,
        client: Client,
        sources: Sources,
        receiver: DicomDestination | None = None,
        *,
        timeout: float = 300.0,
        progress: ProgressFactory | None = None,
    ) -> None:
        self.client = client
        self.sources = sources
        self.receiver = receiver
        self.timeout = timeout
        self._progress: ProgressFactory = progress or (lambda *_a, **_k: None)

    # --- ITI-18 and ITI-43 --------------------------------------------------------------------------------
    def find_manifests(self, patient_id: str) -> list[DocumentEntry]:
        answer = self.client.find_documents(patient_id, format_code=list(KOS_FORMAT_CODES))
        return [d for d in answer.document_entries if is_manifest(d)]

    def manifests(self, entries: Sequence[DocumentEntry], folder: Path) -> list[Manifest]:
        result = self.client.retrieve(entries, folder)
        for error in result.errors:
            raise ManifestError(f"manifest {error.location}: {error.code}: {error.context}")
        return [read_manifest(f.path) for f in result.files]

    # --- the instances --------------------------------------------------------------------------------------
    def fetch(self, refs: Sequence[InstanceRef], folder: Path, via: str = "auto") -> Fetched:
        if via not in VIA:
            raise ValueError(f"--via {via!r} is not one of {', '.join(VIA)}")
        groups: dict[str, list[InstanceRef]] = {}
        for ref in refs:
            groups.setdefault(choose(via, ref), []).append(ref)
        result = Fetched()
        for how, members in groups.items():
            progress = self._progress(f"{how} instances", len(members), "instances")
            try:
                result.merge(self._fetch(how, members, folder, progress))
            finally:
                if progress is not None:
                    progress.close()
        return result

    def _fetch(self, how: str, refs: list[InstanceRef], folder: Path, progress: Progress | None) -> Fetched:
        options = {"timeout": self.timeout, "progress": progress}
        if how == "rad69":
            return fetch_rad69(refs, folder, self.sources, **options)  # type: ignore[arg-type]
        if how == "wado":
            return fetch_wado_uri(refs, folder, self.sources, **options)  # type: ignore[arg-type]
        if how == "wado-rs":
            return fetch_wado_rs(refs, folder, self.sources, **options)  # type: ignore[arg-type]
        if self.receiver is None:
            raise ValueError("C-MOVE needs the consumer's own AE (the move destination)")
        return fetch_cmove(refs, folder, self.sources, self.receiver, progress=progress)

    def images(
        self,
        patient_id: str,
        out_dir: Path | None,
        *,
        via: str = "auto",
        forward_to: DicomDestination | None = None,
        include_manifests: bool = False,
    ) -> ImagesResult:
        """Everything for one patient: find, retrieve and read the manifests, fetch, check, then write the
        File-set to ``out_dir`` and/or C-STORE to ``forward_to``. Raises ``NoManifests`` when there is
        nothing to fetch; instances that did not arrive are in ``result.missing``."""
        if out_dir is None and forward_to is None:
            raise ValueError("give an output folder or a PACS to forward to")
        entries = self.find_manifests(patient_id)
        if not entries:
            raise NoManifests(f"the registry holds no KOS manifest (XDS-I.b imaging study) for {patient_id}")
        parent = out_dir if out_dir is not None else Path(tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".xds-images-", dir=parent))
        try:
            manifests = self.manifests(entries, staging / "manifests")
            refs = list({r.sop_instance_uid: r for m in manifests for r in m.references}.values())
            (staging / "instances").mkdir()
            fetched = self.fetch(refs, staging / "instances", via)
            result = ImagesResult(patient_id, manifests, via, refs, missing=check(refs, fetched))
            arrived = {r.sop_instance_uid: fetched.files[r.sop_instance_uid] for r in refs
                       if r.sop_instance_uid in fetched.files}
            if forward_to is not None:
                progress = self._progress(f"C-STORE to {forward_to.ae_title}", len(arrived), "instances")
                try:
                    result.forwarded = forward(arrived, forward_to, progress=progress)
                finally:
                    if progress is not None:
                        progress.close()
            if out_dir is not None:
                wanted = dict(arrived)
                if include_manifests:
                    wanted |= {m.sop_instance_uid: m.path for m in manifests}
                placed, result.skipped = write_fileset(wanted, out_dir)
                result.files = {uid: placed[uid] for uid in arrived if uid in placed}
                result.dicomdir = out_dir / "DICOMDIR"
            else:
                result.files = {}
            return result
        finally:
            shutil.rmtree(staging, ignore_errors=True)

"""The XDS-I.b imaging manifest: a DICOM Key Object Selection (KOS) document referencing every instance of
a study (RAD TF-3 4.68.4.1.2.1; DICOM PS3.3 A.35.4 Key Object Selection Document IOD).

Built with pydicom attribute by attribute, so that what the manifest holds is visible here; a test checks it
with dciodvfy (dicom3tools).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from imaging_source.store import StoredInstance, sorted_instances
from imaging_source.vocabulary import KOS_SOP_CLASS_UID, KOS_TEMPLATE, MANIFEST_TITLE

MANUFACTURER = "xds-affinity-domain"


@dataclass(frozen=True)
class StudyInfo:
    """The patient and study attributes a manifest repeats (PS3.3 C.7.1.1 Patient, C.7.2.1 General Study)."""

    study_uid: str
    patient_id: str
    issuer: str
    patient_name: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    accession: str
    study_id: str
    description: str
    referring: str

    @classmethod
    def of(cls, row: object) -> StudyInfo:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ManifestIds:
    kos_uid: str  # SOP Instance UID = XDS DocumentEntry.uniqueId (RAD TF-3 4.68.4.1.2.3)
    series_uid: str
    retrieve_ae_title: str  # PS3.3 C.4.23.1.1 / RAD TF-3 4.68.4.1.2.1: where the instances are retrieved
    retrieve_location_uid: str  # the Imaging Document Source's uniqueId (RAD-69 RepositoryUniqueId)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    # PS3.3 Table 8.8-1 Code Sequence Macro (basic coded entry attributes)
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _sop_ref(inst: StoredInstance) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = inst.sop_class_uid
    ref.ReferencedSOPInstanceUID = inst.sop_instance_uid
    return ref


def _evidence(study_uid: str, instances: Sequence[StoredInstance], ids: ManifestIds) -> DicomSequence:
    # PS3.3 C.17.6.2.1 Current Requested Procedure Evidence Sequence, Table C.17-3 Hierarchical SOP Instance
    # Reference Macro; RAD TF-3 4.68.4.1.2.1: every series item carries Retrieve AE Title and Retrieve
    # Location UID (XDS-I.b makes these type 1)
    study = Dataset()
    study.StudyInstanceUID = study_uid
    series_items = []
    for series_uid, members in groupby(instances, key=lambda i: i.series_uid):
        item = Dataset()
        item.SeriesInstanceUID = series_uid
        item.RetrieveAETitle = ids.retrieve_ae_title
        item.RetrieveLocationUID = ids.retrieve_location_uid
        item.ReferencedSOPSequence = DicomSequence([_sop_ref(i) for i in members])
        series_items.append(item)
    study.ReferencedSeriesSequence = DicomSequence(series_items)
    return DicomSequence([study])


def _content(instances: Iterable[StoredInstance]) -> DicomSequence:
    # PS3.16 TID 2010 row 6: CONTAINS IMAGE (or COMPOSITE for instances without pixels), one per instance;
    # PS3.3 C.17.3.2.4 / Table C.18.3-1 (IMAGE) and C.18.4-1 (COMPOSITE) Referenced SOP Sequence
    items = []
    for inst in instances:
        item = Dataset()
        item.RelationshipType = "CONTAINS"
        item.ValueType = "IMAGE" if inst.has_pixels else "COMPOSITE"
        item.ReferencedSOPSequence = DicomSequence([_sop_ref(inst)])
        items.append(item)
    return DicomSequence(items)


def build_kos(
    study: StudyInfo, instances: Sequence[StoredInstance], ids: ManifestIds, now: datetime | None = None
) -> Dataset:
    """The KOS manifest of ``instances`` (all of one study), as a pydicom dataset with File Meta."""
    if not instances:
        raise ValueError(f"study {study.study_uid} has no instances to reference")
    instances = sorted_instances(instances)
    now = now or datetime.now(UTC)
    ds = Dataset()
    # PS3.10 7.1 File Meta Information
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = KOS_SOP_CLASS_UID
    meta.MediaStorageSOPInstanceUID = ids.kos_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    # PS3.3 C.12.1 SOP Common: UTF-8, since names come from everywhere (PS3.3 C.12.1.1.2, ISO_IR 192)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.SOPClassUID = KOS_SOP_CLASS_UID
    ds.SOPInstanceUID = ids.kos_uid
    # PS3.3 C.7.1.1 Patient Module (name, ID, birth date, sex are type 2)
    ds.PatientName = study.patient_name
    ds.PatientID = study.patient_id
    if study.issuer:
        ds.IssuerOfPatientID = study.issuer
    ds.PatientBirthDate = study.birth_date
    ds.PatientSex = study.sex
    # PS3.3 C.7.2.1 General Study Module: the manifest belongs to the study it references
    ds.StudyInstanceUID = study.study_uid
    ds.StudyDate = study.study_date
    ds.StudyTime = study.study_time
    ds.ReferringPhysicianName = study.referring
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession
    if study.description:
        ds.StudyDescription = study.description
    # PS3.3 C.17.6.1 Key Object Document Series Module
    ds.Modality = "KO"
    ds.SeriesInstanceUID = ids.series_uid
    ds.SeriesNumber = 999
    ds.SeriesDescription = "XDS-I.b Manifest"
    ds.ReferencedPerformedProcedureStepSequence = DicomSequence()  # type 2
    # PS3.3 C.7.5.1 General Equipment Module
    ds.Manufacturer = MANUFACTURER
    # PS3.3 C.17.6.2 Key Object Document Module
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.CurrentRequestedProcedureEvidenceSequence = _evidence(study.study_uid, instances, ids)
    # PS3.3 C.17.3 SR Document Content Module with the KOS constraints of A.35.4.3.1: root CONTAINER titled
    # (113030, DCM, "Manifest") (RAD TF-3 4.68.4.1.2.1), continuity SEPARATE, template TID 2010
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = DicomSequence([_code(*MANIFEST_TITLE)])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = KOS_TEMPLATE[1]
    template.TemplateIdentifier = KOS_TEMPLATE[0]
    ds.ContentTemplateSequence = DicomSequence([template])
    ds.ContentSequence = _content(instances)
    return ds


def write_kos(ds: Dataset, path: Path) -> None:
    """PS3.10 file (preamble, DICM, meta, data set in Explicit VR Little Endian)."""
    ds.save_as(path, enforce_file_format=True)

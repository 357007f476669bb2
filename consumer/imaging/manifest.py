"""Reading an XDS-I.b manifest: the instances a DICOM Key Object Selection document references and where
to retrieve them (DICOM PS3.3 A.35.4 KOS IOD, C.17.6.2.1 Current Requested Procedure Evidence Sequence with
the Hierarchical SOP Instance Reference Macro, Table C.17-3; RAD TF-3 4.68.4.1.2.1 makes Retrieve AE Title
and Retrieve Location UID required on each series).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

# DICOM PS3.6 Annex A: Key Object Selection Document Storage
KOS_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.59"


class ManifestError(ValueError):
    """A file that is not a KOS manifest we can follow."""


@dataclass(frozen=True, slots=True)
class InstanceRef:
    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    retrieve_ae_title: str  # (0008,0054), of the series item, else of the study item
    retrieve_location_uid: str  # (0040,E011): the Imaging Document Source (RAD-69 RepositoryUniqueId)
    retrieve_url: str = ""  # (0008,1190): a WADO-RS URL of the study or series, when the manifest gives one


@dataclass(frozen=True, slots=True)
class Manifest:
    sop_instance_uid: str  # = the DocumentEntry's uniqueId (RAD TF-3 4.68.4.1.2.3)
    patient_id: str
    path: Path
    references: tuple[InstanceRef, ...]

    @property
    def study_uids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.study_uid for r in self.references))


def _text(item: Dataset, keyword: str, default: str = "") -> str:
    value = item.get(keyword)
    if value is None or value == "":
        return default
    if isinstance(value, MultiValue):
        value = value[0] if value else ""  # Retrieve AE Title has VM 1-n: the first is used
    return str(value).strip()


def read_manifest(path: Path) -> Manifest:
    """The references of the KOS at ``path``; only the header is decoded (a KOS has no pixel data)."""
    try:
        ds = dcmread(path)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise ManifestError(f"{path.name}: not a DICOM file ({exc})") from exc
    if str(ds.get("SOPClassUID", "")) != KOS_SOP_CLASS_UID:
        sop_class = ds.get("SOPClassUID", "?")
        raise ManifestError(f"{path.name}: SOP Class {sop_class} is not Key Object Selection")
    refs: list[InstanceRef] = []
    for study in ds.get("CurrentRequestedProcedureEvidenceSequence", []):
        study_uid = _text(study, "StudyInstanceUID")
        for series in study.get("ReferencedSeriesSequence", []):
            series_uid = _text(series, "SeriesInstanceUID")
            ae = _text(series, "RetrieveAETitle", _text(study, "RetrieveAETitle"))
            location = _text(series, "RetrieveLocationUID", _text(study, "RetrieveLocationUID"))
            url = _text(series, "RetrieveURL", _text(study, "RetrieveURL"))
            for sop in series.get("ReferencedSOPSequence", []):
                refs.append(
                    InstanceRef(
                        study_uid,
                        series_uid,
                        _text(sop, "ReferencedSOPInstanceUID"),
                        _text(sop, "ReferencedSOPClassUID"),
                        ae,
                        location,
                        url,
                    )
                )
    if not refs or not all(r.study_uid and r.series_uid and r.sop_instance_uid for r in refs):
        why = "the Current Requested Procedure Evidence Sequence lists no instances"
        raise ManifestError(f"{path.name}: {why}")
    return Manifest(str(ds.SOPInstanceUID), _text(ds, "PatientID"), path, tuple(refs))

"""What the index needs of one DICOM instance, read from its file header (pixel data is never loaded).

PS3.10 7.1: a DICOM file is preamble, "DICM", File Meta Information (its Transfer Syntax UID says how the
data set is encoded) and the data set. PS3.3 C.12.1 / C.7.2.1 / C.7.3.1: SOP Class/Instance UID, Study and
Series Instance UID are type 1; an instance without them cannot be placed in the information model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

# PS3.5 9.1: a UID is at most 64 characters of digits and dots, components without leading zeros
_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


class BadInstance(ValueError):
    """The file is not a DICOM instance this source can index (the reason is for the DICOM ErrorComment)."""


def valid_uid(value: str) -> bool:
    return 0 < len(value) <= 64 and _UID.match(value) is not None


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    return str(value).strip()


def _issuer(ds: Dataset) -> str:
    # PS3.3 C.2.2.1.1 / C.7.1.1: Issuer of Patient ID, or the UniversalEntityID of its qualifiers (an OID
    # when its type is ISO)
    qualifiers = ds.get("IssuerOfPatientIDQualifiersSequence")
    if qualifiers:
        uid = _text(qualifiers[0], "UniversalEntityID")
        if uid and _text(qualifiers[0], "UniversalEntityIDType") in ("ISO", ""):
            return uid
    return _text(ds, "IssuerOfPatientID")


def _anatomic_region(ds: Dataset) -> str:
    region = ds.get("AnatomicRegionSequence")
    if not region:
        return ""
    item = region[0]
    value, scheme = _text(item, "CodeValue"), _text(item, "CodingSchemeDesignator")
    return f"{value}^{scheme}^{_text(item, 'CodeMeaning')}" if value and scheme else ""


@dataclass(frozen=True)
class InstanceMeta:
    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    transfer_syntax_uid: str
    instance_number: int | None
    has_pixels: bool
    patient_id: str
    issuer: str
    patient_name: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    accession: str
    study_id: str
    study_description: str
    referring: str
    modality: str
    series_number: str
    series_description: str
    body_part: str
    anatomic_region: str

    @classmethod
    def read(cls, path: Path) -> InstanceMeta:
        """Read and check the header of the DICOM file at ``path``; BadInstance when it is not usable."""
        try:
            ds = dcmread(path, stop_before_pixels=True)
            return cls.of(ds)
        except BadInstance:
            raise
        except (InvalidDicomError, EOFError, OSError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise BadInstance(f"cannot read the DICOM file: {exc}") from exc

    @classmethod
    def of(cls, ds: Dataset) -> InstanceMeta:
        meta = ds.get("file_meta") or Dataset()
        uids = {
            "SOPClassUID": _text(ds, "SOPClassUID"),
            "SOPInstanceUID": _text(ds, "SOPInstanceUID"),
            "StudyInstanceUID": _text(ds, "StudyInstanceUID"),
            "SeriesInstanceUID": _text(ds, "SeriesInstanceUID"),
            "TransferSyntaxUID": _text(meta, "TransferSyntaxUID"),
        }
        for keyword, value in uids.items():
            if not valid_uid(value):
                raise BadInstance(f"{keyword} {value!r} is missing or not a UID")
        # PS3.10 7.1: the meta header names the same instance as the data set
        for keyword in ("SOPClassUID", "SOPInstanceUID"):
            stored = _text(meta, "MediaStorage" + keyword)
            if stored and stored != uids[keyword]:
                raise BadInstance(f"{keyword} of the data set differs from the File Meta Information")
        number = _text(ds, "InstanceNumber")
        # "PixelData" may be absent from a header read that stopped before it: look at Rows instead
        has_pixels = "Rows" in ds or "PixelData" in ds or "FloatPixelData" in ds
        return cls(
            sop_class_uid=uids["SOPClassUID"],
            sop_instance_uid=uids["SOPInstanceUID"],
            study_uid=uids["StudyInstanceUID"],
            series_uid=uids["SeriesInstanceUID"],
            transfer_syntax_uid=uids["TransferSyntaxUID"],
            instance_number=int(number) if number.lstrip("-").isdigit() else None,
            has_pixels=has_pixels,
            patient_id=_text(ds, "PatientID"),
            issuer=_issuer(ds),
            patient_name=_text(ds, "PatientName"),
            birth_date=_text(ds, "PatientBirthDate"),
            sex=_text(ds, "PatientSex"),
            study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"),
            accession=_text(ds, "AccessionNumber"),
            study_id=_text(ds, "StudyID"),
            study_description=_text(ds, "StudyDescription"),
            referring=_text(ds, "ReferringPhysicianName"),
            modality=_text(ds, "Modality"),
            series_number=_text(ds, "SeriesNumber"),
            series_description=_text(ds, "SeriesDescription"),
            body_part=_text(ds, "BodyPartExamined").upper(),
            anatomic_region=_anatomic_region(ds),
        )

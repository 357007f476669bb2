"""What the index needs of one DICOM instance, read from its file header (pixel data is never loaded).

PS3.10 7.1: a DICOM file is preamble, "DICM", File Meta Information (its Transfer Syntax UID says how the
data set is encoded) and the data set. PS3.3 C.12.1 / C.7.2.1 / C.7.3.1: SOP Class/Instance UID, Study and
Series Instance UID are type 1; an instance without them cannot be placed in the information model.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

from imaging_source import header

# PS3.5 9.1: a UID is at most 64 characters of digits and dots, components without leading zeros
_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
UID_KEYWORDS = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
FILE_META = ("MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID")


class BadInstance(ValueError):
    """The file is not a DICOM instance this source can index (the reason is for the DICOM ErrorComment)."""


def valid_uid(value: str) -> bool:
    return 0 < len(value) <= 64 and _UID.match(value) is not None


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, MultiValue):  # PS3.5 6.4: several values, as encoded (backslash-separated)
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def _values(ds: Dataset) -> dict[str, str]:
    """A pydicom-read header as the flat text mapping of imaging_source.header."""
    values = {keyword: _text(ds, keyword) for keyword in header.TOP_LEVEL.values()}
    values.update({keyword: _text(ds.get("file_meta") or Dataset(), keyword) for keyword in FILE_META})
    for name, wanted in header.SEQUENCES.values():
        items = ds.get(name)
        if items:
            values.update({f"{name}.{keyword}": _text(items[0], keyword) for keyword in wanted.values()})
    return values


def _issuer(values: Mapping[str, str]) -> str:
    # PS3.3 C.2.2.1.1 / C.7.1.1: Issuer of Patient ID, or the UniversalEntityID of its qualifiers (an OID
    # when its type is ISO)
    uid = values.get("IssuerOfPatientIDQualifiersSequence.UniversalEntityID", "")
    if uid and values.get("IssuerOfPatientIDQualifiersSequence.UniversalEntityIDType", "") in ("ISO", ""):
        return uid
    return values.get("IssuerOfPatientID", "")


def _anatomic_region(values: Mapping[str, str]) -> str:
    value = values.get("AnatomicRegionSequence.CodeValue", "")
    scheme = values.get("AnatomicRegionSequence.CodingSchemeDesignator", "")
    meaning = values.get("AnatomicRegionSequence.CodeMeaning", "")
    return f"{value}^{scheme}^{meaning}" if value and scheme else ""


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
    def read(
        cls, path: Path, *, check_file_meta: bool = True, head: bytes = b"", size: int | None = None
    ) -> InstanceMeta:
        """Read and check the header of the DICOM file at ``path``; BadInstance when it is not usable.
        ``check_file_meta=False`` for a received file, whose File Meta was written from the C-STORE-RQ;
        ``head`` and ``size``: its first bytes and length, when known (header.read)."""
        try:
            quick = header.read(path, head, size)
            if quick is not None:
                return cls.of_values(*quick, check_file_meta=check_file_meta)
            # what the quick reader does not walk (deflated, no preamble, broken): pydicom reads or refuses it
            ds = dcmread(path, stop_before_pixels=True)
            return cls.of(ds, check_file_meta=check_file_meta)
        except BadInstance:
            raise
        except (
            InvalidDicomError, EOFError, OSError, ValueError, TypeError, KeyError, IndexError, struct.error
        ) as exc:
            raise BadInstance(f"cannot read the DICOM file: {exc}") from exc

    @classmethod
    def of(cls, ds: Dataset, *, check_file_meta: bool = True) -> InstanceMeta:
        has_pixels = "Rows" in ds  # PS3.3 C.7.6.3: the Image Pixel module of every image IOD
        return cls.of_values(_values(ds), has_pixels, check_file_meta=check_file_meta)

    @classmethod
    def of_values(
        cls, values: Mapping[str, str], has_pixels: bool, *, check_file_meta: bool = True
    ) -> InstanceMeta:
        """From the header's text values by keyword (file meta and data set, "Sequence.Keyword" for the
        first item of a sequence)."""
        uids = {keyword: values.get(keyword, "") for keyword in (*UID_KEYWORDS, "TransferSyntaxUID")}
        for keyword, value in uids.items():
            if not valid_uid(value):
                raise BadInstance(f"{keyword} {value!r} is missing or not a UID")
        # PS3.10 7.1: the meta header names the same instance as the data set
        for keyword in ("SOPClassUID", "SOPInstanceUID") if check_file_meta else ():
            stored = values.get("MediaStorage" + keyword, "")
            if stored and stored != uids[keyword]:
                raise BadInstance(f"{keyword} of the data set differs from the File Meta Information")
        number = values.get("InstanceNumber", "")
        text = {keyword: values.get(keyword, "") for keyword in header.TOP_LEVEL.values()}
        return cls(
            sop_class_uid=uids["SOPClassUID"],
            sop_instance_uid=uids["SOPInstanceUID"],
            study_uid=uids["StudyInstanceUID"],
            series_uid=uids["SeriesInstanceUID"],
            transfer_syntax_uid=uids["TransferSyntaxUID"],
            instance_number=int(number) if number.lstrip("-").isdigit() else None,
            has_pixels=has_pixels,
            patient_id=text["PatientID"],
            issuer=_issuer(values),
            patient_name=text["PatientName"],
            birth_date=text["PatientBirthDate"],
            sex=text["PatientSex"],
            study_date=text["StudyDate"],
            study_time=text["StudyTime"],
            accession=text["AccessionNumber"],
            study_id=text["StudyID"],
            study_description=text["StudyDescription"],
            referring=text["ReferringPhysicianName"],
            modality=text["Modality"],
            series_number=text["SeriesNumber"],
            series_description=text["SeriesDescription"],
            body_part=text["BodyPartExamined"].upper(),
            anatomic_region=_anatomic_region(values),
        )

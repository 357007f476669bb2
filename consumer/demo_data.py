"""Demo data made in code: a synthetic CT study (CT Image Storage, 16-bit, Explicit VR Little Endian) and a
one-page PDF report. Used by ``xds demo`` and by the tests; nothing here is a real patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

UID_ROOT = "1.2.826.0.1.3680043.10.543."  # a test root; each generated UID is unique below it
LOCAL_ISSUER = "1.2.276.0.76.4.17.9999.1"


@dataclass
class Study:
    study_uid: str
    series_uids: list[str]
    files: list[Path] = field(default_factory=list)
    sop_uids: list[str] = field(default_factory=list)
    patient_id: str = "4711"
    accession: str = "ACC-1"


def ct_slice(
    study_uid: str,
    series_uid: str,
    number: int,
    *,
    rows: int = 64,
    columns: int = 64,
    patient_id: str = "4711",
    accession: str = "ACC-1",
    issuer: str = LOCAL_ISSUER,
    body_part: str = "CHEST",
    patient_name: str = "Müller^Jana",
    birth_date: str = "19700101",
    sex: str = "F",
) -> Dataset:
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid(UID_ROOT)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.IssuerOfPatientID = issuer
    ds.PatientBirthDate = birth_date
    ds.PatientSex = sex
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = "20240115"
    ds.StudyTime = "091500"
    ds.AccessionNumber = accession
    ds.StudyID = "1"
    ds.ReferringPhysicianName = "Mustermann^Erika"
    ds.StudyDescription = "CT Thorax"
    ds.Modality = "CT"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 1
    ds.BodyPartExamined = body_part
    ds.InstanceNumber = number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    y, x = np.mgrid[0:rows, 0:columns]
    pixels = ((x * 7 + y * 3 + number * 11) % 4096).astype(np.uint16)
    ds.PixelData = pixels.tobytes()
    return ds


def write_study(
    folder: Path, slices: int = 4, series: int = 1, *, rows: int = 64, columns: int = 64, **fields: str
) -> Study:
    """``series`` x ``slices`` CT images of one new study as PS3.10 files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    study = Study(generate_uid(UID_ROOT), [generate_uid(UID_ROOT) for _ in range(series)])
    study.patient_id = fields.get("patient_id", study.patient_id)
    study.accession = fields.get("accession", study.accession)
    for s, series_uid in enumerate(study.series_uids):
        for n in range(1, slices + 1):
            ds = ct_slice(study.study_uid, series_uid, n, rows=rows, columns=columns, **fields)
            path = folder / f"s{s}_{n:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            study.files.append(path)
            study.sop_uids.append(str(ds.SOPInstanceUID))
    return study


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF 1.4 (ISO 32000-1 7.5: header, objects, cross-reference table with exact byte
    offsets, trailer) showing ``lines`` in Helvetica. Text is kept to printable ASCII."""

    def esc(text: str) -> str:
        text = text.encode("ascii", "replace").decode("ascii")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = "".join(f"({esc(line)}) Tj T* " for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 770 Td {shown}ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)

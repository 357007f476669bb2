"""Unit tests of the quick PS3.10 header reader (imaging_source.header) and of InstanceMeta built on it.

The contract: whenever ``header.read`` walks a file (does not return None), ``InstanceMeta.of_values`` of
what it found equals ``InstanceMeta.of`` of the pydicom-read header; ``InstanceMeta.read`` gives the same
InstanceMeta, or the same BadInstance, as the pydicom path, whichever reader it used."""

from __future__ import annotations

import struct
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from imaging_source import header
from imaging_source.instance_meta import BadInstance, InstanceMeta

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
UNCOMPRESSED = [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE]
SYNTAX_IDS = ["explicit-le", "implicit-le", "explicit-be"]

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SOP_INSTANCE = "1.2.826.0.1.3680043.8.498.10.1"
STUDY = "1.2.826.0.1.3680043.8.498.10"
SERIES = "1.2.826.0.1.3680043.8.498.10.2"
ISSUER_OID = "2.16.840.1.113883.3.72.5.9.1"
# a baseline JPEG reduced to its markers: SOI, APP0, EOI (pixel data is never decoded here)
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"



# --- helpers --------------------------------------------------------------------------------------------


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _instance(**changes: object) -> Dataset:
    """A CT image header with every element InstanceMeta reads; ``changes`` set (None: delete) elements."""
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE, SOP_INSTANCE
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY, SERIES
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.StudyID = "20240131", "101500", "ACC-1", "S1"
    ds.Modality, ds.StudyDescription, ds.SeriesDescription = "CT", "Chest CT", "Axial 1mm"
    ds.ReferringPhysicianName = "Referrer^Rita"
    ds.PatientName, ds.PatientID, ds.IssuerOfPatientID = "Doe^Jane", "PID-1", "HOSP"
    ds.PatientBirthDate, ds.PatientSex, ds.BodyPartExamined = "19700101", "F", "CHEST"
    ds.SeriesNumber, ds.InstanceNumber = "3", "7"
    ds.AnatomicRegionSequence = Sequence([_code("T-D3000", "SRT", "Chest"), _code("T-D1100", "SRT", "Head")])
    qualifiers = Dataset()
    qualifiers.UniversalEntityID, qualifiers.UniversalEntityIDType = ISSUER_OID, "ISO"
    ds.IssuerOfPatientIDQualifiersSequence = Sequence([qualifiers])
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 2, 2, 8, 8, 7
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    ds.PixelData = bytes(4)
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    return ds


def _save(path: Path, ds: Dataset, syntax: str = EXPLICIT_LE) -> Path:
    """PS3.10 7.1: preamble, "DICM", File Meta Information naming ``syntax``, then the data set."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", CT_IMAGE)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", SOP_INSTANCE)
    ds.file_meta.TransferSyntaxUID = syntax
    ds.save_as(path, enforce_file_format=True)
    return path


def _pydicom(path: Path) -> InstanceMeta:
    return InstanceMeta.of(dcmread(path, stop_before_pixels=True))


def _quick(path: Path) -> InstanceMeta:
    found = header.read(path)
    assert found is not None, "the quick reader did not walk this file"
    return InstanceMeta.of_values(*found)


def _outcome(read: Callable[[Path], InstanceMeta], path: Path) -> InstanceMeta | str:
    try:
        return read(path)
    except BadInstance as exc:
        return f"BadInstance: {exc}"


def _agree(path: Path) -> InstanceMeta:
    """The contract, for a file the quick reader walks: both readers and InstanceMeta.read agree."""
    expected = _pydicom(path)
    assert _quick(path) == expected
    assert InstanceMeta.read(path) == expected
    return expected


def _data_set_start(path: Path) -> int:
    with path.open("rb") as file:
        read_preamble(file, False)
        _read_file_meta_info(file)
        return file.tell()


def _tag_bytes(tag: int, syntax: str) -> bytes:
    endian = ">" if syntax == EXPLICIT_BE else "<"
    return struct.pack(endian + "HH", tag >> 16, tag & 0xFFFF)


# --- transfer syntaxes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_uncompressed_syntaxes_read_like_pydicom(tmp_path: Path, syntax: str) -> None:
    """PS3.5 A.1, A.2, A.3: Implicit VR LE, Explicit VR LE, Explicit VR BE."""
    meta = _agree(_save(tmp_path / "ct.dcm", _instance(), syntax))
    assert meta == InstanceMeta(
        sop_class_uid=CT_IMAGE, sop_instance_uid=SOP_INSTANCE, study_uid=STUDY, series_uid=SERIES,
        transfer_syntax_uid=syntax, instance_number=7, has_pixels=True, patient_id="PID-1",
        issuer=ISSUER_OID, patient_name="Doe^Jane", birth_date="19700101", sex="F", study_date="20240131",
        study_time="101500", accession="ACC-1", study_id="S1", study_description="Chest CT",
        referring="Referrer^Rita", modality="CT", series_number="3", series_description="Axial 1mm",
        body_part="CHEST", anatomic_region="T-D3000^SRT^Chest",
    )


def test_jpeg_baseline_with_encapsulated_pixel_data(tmp_path: Path) -> None:
    """PS3.5 A.4: a compressed syntax is Explicit VR LE but for the encapsulated pixel data (undefined
    length, a Basic Offset Table item, then fragments)."""
    ds = _instance(BitsStored=8, PixelData=encapsulate([FAKE_JPEG]))
    path = _save(tmp_path / "jpeg.dcm", ds, JPEG_BASELINE)
    raw = path.read_bytes()
    assert raw.find(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff") > 0  # (7FE0,0010) of undefined length
    meta = _agree(path)
    assert (meta.transfer_syntax_uid, meta.has_pixels) == (JPEG_BASELINE, True)


def test_encapsulated_pixel_data_without_rows_before_it(tmp_path: Path) -> None:
    """The quick reader stops at the pixel data, never walking its fragments."""
    ds = _instance(Rows=None, Columns=None, PixelData=encapsulate([FAKE_JPEG, FAKE_JPEG]))
    path = _save(tmp_path / "jpeg.dcm", ds, JPEG_BASELINE)
    found = header.read(path)
    assert found is not None and found[0]["SOPInstanceUID"] == SOP_INSTANCE


def test_body_part_is_upper_cased(tmp_path: Path) -> None:
    """PS3.16 Annex L: Body Part Examined values are upper case; a lower case one (a CS the writer got
    wrong) is indexed upper cased by both readers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of the lower case CS value
        assert _agree(_save(tmp_path / "lower.dcm", _instance(BodyPartExamined="chest"))).body_part == "CHEST"


def test_deflated_data_set_is_left_to_pydicom(tmp_path: Path) -> None:
    """PS3.5 A.5: a deflated data set is not walked; InstanceMeta.read reads it with pydicom."""
    path = _save(tmp_path / "deflated.dcm", _instance(), DEFLATED_LE)
    assert header.read(path) is None
    meta = InstanceMeta.read(path)
    assert meta == _pydicom(path)
    assert (meta.transfer_syntax_uid, meta.patient_name, meta.anatomic_region) == (
        DEFLATED_LE, "Doe^Jane", "T-D3000^SRT^Chest")


# --- sequences --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_sequences_and_items_of_undefined_length(tmp_path: Path, syntax: str) -> None:
    """PS3.5 7.5.1, 7.5.2: items end with an Item Delimitation Item, sequences with a Sequence Delimitation
    Item when their length is undefined (FFFFFFFFH)."""
    ds = _instance()
    for keyword in ("AnatomicRegionSequence", "IssuerOfPatientIDQualifiersSequence"):
        ds[keyword].is_undefined_length = True
        for item in ds[keyword].value:
            item.is_undefined_length_sequence_item = True
    path = _save(tmp_path / "undefined.dcm", ds, syntax)
    raw = path.read_bytes()
    assert raw.count(_tag_bytes(0xFFFEE0DD, syntax)) == 2 and raw.count(_tag_bytes(0xFFFEE00D, syntax)) == 3
    meta = _agree(path)
    assert (meta.anatomic_region, meta.issuer) == ("T-D3000^SRT^Chest", ISSUER_OID)


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_mixed_defined_and_undefined_lengths(tmp_path: Path, syntax: str) -> None:
    ds = _instance()
    ds["AnatomicRegionSequence"].is_undefined_length = True  # items of defined length inside
    ds.IssuerOfPatientIDQualifiersSequence[0].is_undefined_length_sequence_item = True
    assert _agree(_save(tmp_path / "mixed.dcm", ds, syntax)).issuer == ISSUER_OID


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_nested_sequences_before_the_wanted_ones_are_skipped(tmp_path: Path, syntax: str) -> None:
    """Only the top level AnatomicRegionSequence counts, not one inside an earlier sequence's item."""
    inner = Dataset()
    inner.AnatomicRegionSequence = Sequence([_code("WRONG", "99X", "Nested")])
    inner["AnatomicRegionSequence"].is_undefined_length = True
    inner.ReferencedSOPInstanceUID = "1.2.3.4"
    deeper = Dataset()
    deeper.ReferencedSeriesSequence = Sequence([inner])
    deeper.StudyInstanceUID = "1.2.3"
    study_item = Dataset()
    study_item.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study_item.ReferencedPerformedProcedureStepSequence = Sequence([deeper])
    study_item.ReferencedPerformedProcedureStepSequence[0].is_undefined_length_sequence_item = True
    ds = _instance(ReferencedStudySequence=Sequence([study_item]))  # (0008,1110), before (0008,2218)
    ds["ReferencedStudySequence"].is_undefined_length = True
    other = Dataset()
    other.CodeValue = "OTHER"
    ds.ProcedureCodeSequence = Sequence([other])  # (0008,1032): defined length, skipped whole
    meta = _agree(_save(tmp_path / "nested.dcm", ds, syntax))
    assert meta.anatomic_region == "T-D3000^SRT^Chest"


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_first_item_values_only(tmp_path: Path, syntax: str) -> None:
    """The first item whatever the next hold: a first item without CodeValue gives no anatomic region."""
    ds = _instance(AnatomicRegionSequence=Sequence([Dataset(), _code("T-D3000", "SRT", "Chest")]))
    ds.AnatomicRegionSequence[0].CodeMeaning = "meaning only"
    assert _agree(_save(tmp_path / "first.dcm", ds, syntax)).anatomic_region == ""


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_empty_sequences(tmp_path: Path, syntax: str) -> None:
    ds = _instance(AnatomicRegionSequence=Sequence([]), IssuerOfPatientIDQualifiersSequence=Sequence([]))
    meta = _agree(_save(tmp_path / "empty.dcm", ds, syntax))
    assert (meta.anatomic_region, meta.issuer) == ("", "HOSP")


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_issuer_qualifier_of_another_type_falls_back_to_issuer_of_patient_id(tmp_path: Path,
                                                                            syntax: str) -> None:
    """PS3.3 C.7.1.1: the UniversalEntityID is an OID only when its type is ISO."""
    qualifiers = Dataset()
    qualifiers.UniversalEntityID, qualifiers.UniversalEntityIDType = "hosp.example.org", "DNS"
    ds = _instance(IssuerOfPatientIDQualifiersSequence=Sequence([qualifiers]))
    assert _agree(_save(tmp_path / "dns.dcm", ds, syntax)).issuer == "HOSP"


# --- private and unknown elements ---------------------------------------------------------------------------


def _with_private(ds: Dataset) -> Dataset:
    ds.add_new(0x00090010, "LO", "ACME 1.0")  # PS3.5 7.8.1: the private creator of block 10
    return ds


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_private_element_of_vr_un(tmp_path: Path, syntax: str) -> None:
    """PS3.5 6.2.2: UN has a 4-byte length in explicit VR; its value is skipped by its length."""
    ds = _with_private(_instance())
    ds.add_new(0x00091001, "UN", b"\x01\x02\x03\x04\x05\x06")
    path = _save(tmp_path / "un.dcm", ds, syntax)
    if syntax != IMPLICIT_LE:
        assert _tag_bytes(0x00091001, syntax) + b"UN\x00\x00" in path.read_bytes()
    assert _agree(path).patient_name == "Doe^Jane"  # (0010,0010) comes after the private group


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, IMPLICIT_LE], ids=SYNTAX_IDS[:2])
def test_private_un_of_undefined_length(tmp_path: Path, syntax: str) -> None:
    """PS3.5 6.2.2: a UN of undefined length holds a sequence in Implicit VR Little Endian."""
    implicit_item = struct.pack("<HHI", 0x0008, 0x0100, 4) + b"ABCD"
    value = (struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + implicit_item
             + struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
    ds = _with_private(_instance())
    ds[0x00091002] = RawDataElement(Tag(0x00091002), "UN", 0xFFFFFFFF, value, 0, syntax == IMPLICIT_LE, True)
    path = _save(tmp_path / "un-undefined.dcm", ds, syntax)
    assert value in path.read_bytes()
    assert _agree(path).patient_id == "PID-1"


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_private_sequence_of_undefined_length(tmp_path: Path, syntax: str) -> None:
    item = Dataset()
    item.add_new(0x00090010, "LO", "ACME 1.0")
    item.add_new(0x00091003, "LO", "inside")
    ds = _with_private(_instance())
    ds.add_new(0x00091004, "SQ", Sequence([item]))
    ds[0x00091004].is_undefined_length = True
    assert _agree(_save(tmp_path / "private-sq.dcm", ds, syntax)).patient_name == "Doe^Jane"


# --- character sets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
@pytest.mark.parametrize(
    ("charset", "name", "description", "encoded"),
    [
        ("ISO_IR 100", "Müller^Jürgen", "Schädel", "Müller".encode("latin-1")),
        ("ISO_IR 192", "王^小明=Wang^Xiaoming", "Thórax", "王^小明".encode()),
        (["ISO 2022 IR 6", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう", "胸部",
         b"\x1b$B;3ED"),  # PS3.5 H.3.1: JIS X 0208 behind ESC $ B
    ],
    ids=["latin-1", "utf-8", "iso-2022-jp"],
)
def test_specific_character_set(tmp_path: Path, syntax: str, charset: str | list[str], name: str,
                                description: str, encoded: bytes) -> None:
    """PS3.5 6.1.2.3: PN, LO, SH, UT ... values follow (0008,0005) Specific Character Set."""
    ds = _instance(SpecificCharacterSet=charset, PatientName=name, StudyDescription=description,
                   AnatomicRegionSequence=Sequence([_code("T-D3000", "SRT", description)]))
    path = _save(tmp_path / "charset.dcm", ds, syntax)
    assert encoded in path.read_bytes()
    meta = _agree(path)
    assert (meta.patient_name, meta.study_description) == (name, description)
    assert meta.anatomic_region == f"T-D3000^SRT^{description}"


# --- pixels, size -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
@pytest.mark.parametrize("rows", [True, False], ids=["rows", "no-rows"])
def test_has_pixels_follows_rows(tmp_path: Path, syntax: str, rows: bool) -> None:
    """PS3.3 C.7.6.3: an image has Rows; an instance without (a KOS, an SR) has no pixels."""
    removed = {} if rows else {"Rows": None, "Columns": None, "PixelData": None}
    assert _agree(_save(tmp_path / "px.dcm", _instance(**removed), syntax)).has_pixels is rows


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_rows_without_pixel_data_has_pixels(tmp_path: Path, syntax: str) -> None:
    assert _agree(_save(tmp_path / "rows.dcm", _instance(PixelData=None), syntax)).has_pixels is True


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_element_ending_exactly_at_the_end_of_the_first_read(tmp_path: Path, syntax: str) -> None:
    """The first 64 KiB end between two elements of a file without Rows: the rest must still be read."""
    ds = _with_private(_instance(Rows=None, Columns=None, PixelData=None))
    ds.add_new(0x00091010, "OB", bytes(60_000))
    path = _save(tmp_path / "boundary.dcm", ds, syntax)
    value_at = path.read_bytes().index(_tag_bytes(0x00091010, syntax)) + (8 if syntax == IMPLICIT_LE else 12)
    ds[0x00091010].value = bytes(65536 - value_at)
    raw = _save(path, ds, syntax).read_bytes()
    assert raw[65536:65540] == _tag_bytes(0x00100010, syntax)  # Patient's Name starts the next read
    meta = _agree(path)
    assert (meta.patient_name, meta.patient_id, meta.study_uid, meta.has_pixels) == (
        "Doe^Jane", "PID-1", STUDY, False)


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_header_longer_than_the_first_read(tmp_path: Path, syntax: str) -> None:
    """A 300 kB private value before the patient module and Rows: the reader must read on, twice."""
    ds = _with_private(_instance())
    ds.add_new(0x00091010, "OB", bytes(range(256)) * 1200)
    path = _save(tmp_path / "long.dcm", ds, syntax)
    raw = path.read_bytes()
    assert raw.find(_tag_bytes(0x00280010, syntax)) > 4 * 65536  # Rows after the second read
    meta = _agree(path)
    assert (meta.patient_name, meta.has_pixels) == ("Doe^Jane", True)


def test_file_meta_longer_than_the_first_read(tmp_path: Path) -> None:
    """PS3.10 7.1: (0002,0102) Private Information may make the File Meta Information itself long."""
    ds = _instance()
    path = tmp_path / "long-meta.dcm"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = CT_IMAGE, SOP_INSTANCE
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.file_meta.PrivateInformationCreatorUID = "1.2.3.4"
    ds.file_meta.PrivateInformation = bytes(100_000)
    ds.save_as(path, enforce_file_format=True)
    assert _data_set_start(path) > 100_000
    assert _agree(path).sop_instance_uid == SOP_INSTANCE


# --- files the quick reader leaves to pydicom, broken files -----------------------------------------------


def test_file_without_preamble(tmp_path: Path) -> None:
    """PS3.10 7.1: the 128-byte preamble and "DICM" come first; without them pydicom refuses too."""
    full = _save(tmp_path / "full.dcm", _instance())
    path = tmp_path / "no-preamble.dcm"
    path.write_bytes(full.read_bytes()[128:])
    assert header.read(path) is None
    with pytest.raises(InvalidDicomError):
        dcmread(path, stop_before_pixels=True)
    with pytest.raises(BadInstance, match="cannot read the DICOM file"):
        InstanceMeta.read(path)


def _read_outcome(path: Path) -> InstanceMeta | str:
    outcome = _outcome(InstanceMeta.read, path)
    return "unreadable" if str(outcome).startswith("BadInstance: cannot read the DICOM file") else outcome


def _pydicom_outcome(path: Path) -> InstanceMeta | str:
    try:
        return _pydicom(path)
    except BadInstance as exc:
        return f"BadInstance: {exc}"
    except Exception:  # whatever pydicom raises, InstanceMeta.read must make it a BadInstance
        return "unreadable"


@pytest.mark.parametrize("syntax", [IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE],
                         ids=["implicit-le", "explicit-le", "explicit-be"])
def test_every_truncation_is_refused_or_reads_as_pydicom_reads_it(tmp_path: Path, syntax: str) -> None:
    """Cut anywhere in the data set up to Rows: InstanceMeta.read refuses the file (BadInstance), or -- cut
    between two elements, a shorter data set -- gives what the pydicom path gives. It is stricter than
    pydicom, which reads a value cut short as it is. (Past Rows the quick reader reads nothing, by design:
    a cut there goes unseen by it.)"""
    full = _save(tmp_path / "full.dcm", _instance(), syntax)
    raw = full.read_bytes()
    start = _data_set_start(full)
    rows = raw.index(_tag_bytes(0x00280010, syntax), start)
    path = tmp_path / "cut.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of the cut UIDs it reads
        for cut in range(start, rows + 1):
            path.write_bytes(raw[:cut])
            ours = _read_outcome(path)
            if isinstance(ours, InstanceMeta):
                assert ours == _pydicom_outcome(path), f"cut at {cut}"
            else:
                assert ours == "unreadable" or ours.startswith("BadInstance"), f"cut at {cut}: {ours}"


def test_truncated_in_a_long_length_field_is_a_bad_instance(tmp_path: Path) -> None:
    """PS3.5 7.1.2: SQ, OB, UN ... have a 4-byte length after two reserved bytes; cut inside it."""
    raw = _save(tmp_path / "full.dcm", _instance()).read_bytes()
    at = raw.index(_tag_bytes(0x00082218, EXPLICIT_LE) + b"SQ\x00\x00")  # AnatomicRegionSequence
    path = tmp_path / "cut.dcm"
    path.write_bytes(raw[: at + 10])  # two of the four length bytes
    with pytest.raises(ValueError, match="ends inside"):
        header.read(path)
    with pytest.raises(BadInstance):
        InstanceMeta.read(path)


def test_truncated_in_an_element_header_is_a_bad_instance(tmp_path: Path) -> None:
    raw = _save(tmp_path / "full.dcm", _instance()).read_bytes()
    at = raw.index(_tag_bytes(0x00080018, EXPLICIT_LE) + b"UI")
    path = tmp_path / "cut.dcm"
    path.write_bytes(raw[: at + 6])  # tag and VR of SOP Instance UID, not its length
    with pytest.raises(BadInstance, match="ends inside a data element"):
        InstanceMeta.read(path)


def test_truncated_in_a_uid_value_is_a_bad_instance(tmp_path: Path) -> None:
    """The file ends two bytes short of the end of the Series Instance UID: what is left,
    "1.2.826.0.1.3680043.8.498.10", would be a valid UID (pydicom reads it as it is)."""
    raw = _save(tmp_path / "full.dcm", _instance()).read_bytes()
    end = raw.index(SERIES.encode()) + len(SERIES)
    path = tmp_path / "cut.dcm"
    path.write_bytes(raw[: end - len(".2")])
    with pytest.raises(BadInstance, match="ends inside a data element"):
        InstanceMeta.read(path)


@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_missing_sop_instance_uid(tmp_path: Path, syntax: str) -> None:
    """PS3.3 C.12.1.1: SOP Instance UID is type 1."""
    path = _save(tmp_path / "no-uid.dcm", _instance(SOPInstanceUID=None), syntax)
    assert header.read(path) is not None
    with pytest.raises(BadInstance, match="SOPInstanceUID"):
        InstanceMeta.read(path)
    assert _outcome(_pydicom, path) == _outcome(_quick, path) == _outcome(InstanceMeta.read, path)


@pytest.mark.parametrize("keyword", ["SOPInstanceUID", "SOPClassUID"])
@pytest.mark.parametrize("syntax", UNCOMPRESSED, ids=SYNTAX_IDS)
def test_file_meta_naming_another_instance(tmp_path: Path, syntax: str, keyword: str) -> None:
    """PS3.10 7.1: Media Storage SOP Class/Instance UID equal the data set's SOP Class/Instance UID."""
    path = _save(tmp_path / "mismatch.dcm", _instance(), syntax)
    # pydicom writes the data set's UIDs into the File Meta: change the first (File Meta) one, same length
    right, wrong = (SOP_INSTANCE, SOP_INSTANCE[:-1] + "9") if keyword == "SOPInstanceUID" else (
        CT_IMAGE, CT_IMAGE[:-1] + "4")
    raw = path.read_bytes()
    assert raw.index(right.encode()) < _data_set_start(path)
    path.write_bytes(raw.replace(right.encode(), wrong.encode(), 1))
    found = header.read(path)
    assert found is not None and found[0]["MediaStorage" + keyword] == wrong
    with pytest.raises(BadInstance, match=f"{keyword} of the data set differs"):
        InstanceMeta.read(path)
    assert _outcome(_pydicom, path) == _outcome(_quick, path) == _outcome(InstanceMeta.read, path)


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID"])
def test_invalid_uids(tmp_path: Path, keyword: str) -> None:
    """PS3.5 9.1: digits and dots, no leading zero in a component, at most 64 characters."""
    for value in ("1.02.3", "1.2." + "3" * 62, "1..2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns of the invalid UID value
            path = _save(tmp_path / "bad-uid.dcm", _instance(**{keyword: value}))
            assert _outcome(InstanceMeta.read, path) == _outcome(_pydicom, path) == _outcome(_quick, path)
            with pytest.raises(BadInstance, match=keyword):
                InstanceMeta.read(path)


# --- data_set_offset --------------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", [*UNCOMPRESSED, DEFLATED_LE, JPEG_BASELINE])
def test_data_set_offset_is_where_pydicom_ends_the_file_meta(tmp_path: Path, syntax: str) -> None:
    ds = _instance(PixelData=encapsulate([FAKE_JPEG])) if syntax == JPEG_BASELINE else _instance()
    path = _save(tmp_path / "offset.dcm", ds, syntax)
    raw = path.read_bytes()
    assert header.data_set_offset(raw[:1024]) == _data_set_start(path)


def test_data_set_offset_is_the_file_minus_the_data_set(tmp_path: Path) -> None:
    """The data set follows the File Meta Information directly (PS3.10 7.1)."""
    ds = _instance()
    raw = _save(tmp_path / "offset.dcm", ds).read_bytes()
    encoded = DicomBytesIO()
    encoded.is_little_endian, encoded.is_implicit_VR = True, False
    write_dataset(encoded, ds)
    assert raw.endswith(encoded.getvalue())
    assert header.data_set_offset(raw[:1024]) == len(raw) - len(encoded.getvalue())


def test_file_meta_without_its_group_length_is_read(tmp_path: Path) -> None:
    """PS3.10 7.1 requires (0002,0000); pydicom reads files without it, and so does the reader: the File Meta
    Information is the run of group 0002 elements."""
    full = _save(tmp_path / "full.dcm", _instance())
    raw = full.read_bytes()
    assert raw[132:136] == b"\x02\x00\x00\x00"  # (0002,0000) UL, 12 bytes
    path = tmp_path / "no-group-length.dcm"
    path.write_bytes(raw[:132] + raw[144:])
    assert header.data_set_offset(path.read_bytes()[:1024]) == _data_set_start(full) - 12
    assert _agree(path) == _pydicom(full)


def test_data_set_offset_without_dicm_prefix(tmp_path: Path) -> None:
    raw = _save(tmp_path / "offset.dcm", _instance()).read_bytes()
    with pytest.raises(ValueError):
        header.data_set_offset(raw[128:1024])  # no preamble
    broken = raw[:128] + b"DICN" + raw[132:1024]
    with pytest.raises(ValueError):
        header.data_set_offset(broken)


def test_data_set_offset_of_too_few_bytes(tmp_path: Path) -> None:
    raw = _save(tmp_path / "offset.dcm", _instance()).read_bytes()
    with pytest.raises(ValueError):
        header.data_set_offset(raw[:150])  # the File Meta Information is cut


# --- known differences between the two readers --------------------------------------------------------------


def test_value_with_a_backslash_reads_alike(tmp_path: Path) -> None:
    path = _save(tmp_path / "multi.dcm", _instance(PatientID="A\\B"))
    assert _quick(path) == _pydicom(path)


def test_pixel_data_without_rows_reads_alike(tmp_path: Path) -> None:
    path = _save(tmp_path / "pixels.dcm", _instance(Rows=None, Columns=None))
    assert _quick(path) == _pydicom(path)


def test_nothing_past_rows_is_read(tmp_path: Path) -> None:
    """An Encapsulated PDF has no Rows: the reader stops at the first element past where Rows would be and
    never reads the document (PS3.3 A.45: Encapsulated Document (0042,0011), OB). Here the file declares a
    document of 2 GiB and holds 10 bytes of it: the header is read all the same, and memory stays small."""
    ds = _instance(Rows=None, Columns=None, PixelData=None, BitsAllocated=None, BitsStored=None,
                   HighBit=None, PixelRepresentation=None, SamplesPerPixel=None,
                   PhotometricInterpretation=None)
    path = _save(tmp_path / "pdf.dcm", ds)
    with path.open("ab") as file:
        file.write(struct.pack("<HH2s2xI", 0x0042, 0x0011, b"OB", 0x7FFFFFFE) + b"%PDF-1.7\n%")
    values, has_pixels = header.read(path) or ({}, True)
    assert values["SOPInstanceUID"] == SOP_INSTANCE and values["PatientID"] == "PID-1"
    assert has_pixels is False


@pytest.mark.parametrize("kept", [0, 200, 1000, None], ids=["none", "meta-only", "part", "whole"])
def test_reading_from_the_bytes_a_receiver_kept(tmp_path: Path, kept: int | None) -> None:
    """A receiver passes the first bytes it wrote (and the length): the result is the file's, read on from
    where those bytes end when the header runs past them."""
    ds = _with_private(_instance())
    ds.add_new(0x00091001, "OB", bytes(300_000))  # the header runs past the first 64 KiB read
    path = _save(tmp_path / "kept.dcm", ds)
    raw = path.read_bytes()
    head = raw if kept is None else raw[:kept]
    assert header.read(path, head, len(raw)) == header.read(path)
    assert InstanceMeta.read(path, head=head, size=len(raw)) == _pydicom(path)

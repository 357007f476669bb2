"""The value-set loader: the shipped IHE-DE file, our TSV format, the NIST toolkit's codes.xml."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sample_data as sd

from xds.model import Code
from xds.transactions import Transaction
from xds.validation import CodeValidation, ValidationConfig, validate
from xds.valuesets import IHE_DE_FILE, ValueSets
from xds.vocabulary import FORMAT_CODE_DICOM_KOS

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
NIST_CODES = (
    SHARED / "conformance" / "nist-testkit" / "toolkitx-support" / "environment" / "default" / "codes.xml"
)

XDS_ATTRIBUTES = {
    "classCode", "typeCode", "formatCode", "healthcareFacilityTypeCode", "practiceSettingCode",
    "confidentialityCode", "eventCodeList", "contentTypeCode", "folderCodeList", "authorRole",
}  # fmt: skip


def test_shipped_file_covers_the_ihe_de_attributes():
    sets = ValueSets.ihe_de()
    assert sets.attributes() == XDS_ATTRIBUTES
    assert ValueSets.ihe_de() is sets  # cached


@pytest.mark.parametrize(
    ("attribute", "code", "scheme"),
    [
        ("classCode", "BIL", "1.3.6.1.4.1.19376.3.276.1.5.8"),
        ("classCode", "57016-8", "2.16.840.1.113883.6.1"),  # LOINC
        ("typeCode", "BILD", "1.3.6.1.4.1.19376.3.276.1.5.9"),
        ("healthcareFacilityTypeCode", "TMZ", "1.3.6.1.4.1.19376.3.276.1.5.2"),
        ("healthcareFacilityTypeCode", "VER", "1.3.6.1.4.1.19376.3.276.1.5.3"),
        ("practiceSettingCode", "RADI", "1.3.6.1.4.1.19376.3.276.1.5.4"),
        ("practiceSettingCode", "PFL", "1.3.6.1.4.1.19376.3.276.1.5.5"),
        ("confidentialityCode", "PV", "1.3.6.1.4.1.19376.3.276.1.5.10"),
        ("confidentialityCode", "R", "2.16.840.1.113883.5.25"),
        ("contentTypeCode", "9", "1.3.6.1.4.1.19376.3.276.1.5.12"),
        ("eventCodeList", "H4", "1.3.6.1.4.1.19376.3.276.1.5.15"),
        ("eventCodeList", "MR", "1.2.840.10008.2.16.4"),  # DICOM modality: whole code system
        ("folderCodeList", "EMERG", "1.3.6.1.4.1.19376.3.276.1.5.7"),
        ("authorRole", "102", "1.3.6.1.4.1.19376.3.276.1.5.14"),
        ("formatCode", "urn:ihe-d:spec:PDF_A2:2011", "1.3.6.1.4.1.19376.3.276.1.5.6"),
        ("formatCode", FORMAT_CODE_DICOM_KOS, "1.3.6.1.4.1.19376.1.2.3"),
        ("formatCode", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3"),
        ("formatCode", "1.2.840.10008.5.1.4.1.1.88.59", "urn:oid:1.2.840.10008.2.6.1"),  # urn:oid: scheme
    ],
)
def test_ihe_de_contains(attribute, code, scheme):
    assert ValueSets.ihe_de().contains(attribute, Code(code, scheme))


@pytest.mark.parametrize(
    ("attribute", "code", "scheme"),
    [
        ("classCode", "BIL", "1.3.6.1.4.1.19376.3.276.1.5.3"),  # right code, wrong system
        ("classCode", "XYZ", "1.3.6.1.4.1.19376.3.276.1.5.8"),
        ("typeCode", "BEF", "1.3.6.1.4.1.19376.3.276.1.5.9"),
        ("confidentialityCode", "U", "2.16.840.1.113883.5.25"),
    ],
)
def test_ihe_de_does_not_contain(attribute, code, scheme):
    assert not ValueSets.ihe_de().contains(attribute, Code(code, scheme))


def test_display_names_kept():
    assert ValueSets.ihe_de().display_name("classCode", Code("BEF", sd.CS_CLASS)) == "Befundbericht"


def test_attribute_without_value_set_admits_everything():
    assert ValueSets.ihe_de().contains("authorSpecialty", Code("anything", "1.2.3"))


def test_file_header_names_the_source():
    first = IHE_DE_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#") and "IHE Deutschland" in first and "4.0.0" in first


def test_load_tsv(tmp_path):
    path = tmp_path / "sets.tsv"
    path.write_text("# mine\nattribute\tcode\tcoding_scheme_oid\tdisplay_name\nclassCode\tA\t1.2.3\tAlpha\n"
                    "codeList\t*\t1.2.4\n", encoding="utf-8")  # fmt: skip
    sets = ValueSets.load_tsv(path)
    assert sets.attributes() == {"classCode", "folderCodeList"}
    assert sets.contains("classCode", Code("A", "1.2.3"))
    assert sets.contains("folderCodeList", Code("anything", "1.2.4"))
    assert len(sets) == 2


def test_load_tsv_rejects_short_rows(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("classCode\tA\n", encoding="utf-8")
    with pytest.raises(ValueError):
        ValueSets.load_tsv(path)


@pytest.mark.skipif(not NIST_CODES.is_file(), reason="shared conformance corpus not present")
def test_nist_codes_xml():
    sets = ValueSets.load_nist_codes_xml(NIST_CODES)
    assert XDS_ATTRIBUTES - {"authorRole"} <= sets.attributes()
    assert sets.contains("classCode", Code("REPORTS", "1.3.6.1.4.1.19376.1.2.6.1"))
    assert sets.contains("formatCode", Code("1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.2.6.1"))
    assert not sets.contains("classCode", Code("BEF", sd.CS_CLASS))
    # the IHE-DE baseline, checked against the connectathon codes, warns; REJECT makes it fail
    findings = validate(sd.register_submission(), Transaction.ITI_42, ValidationConfig(value_sets=sets))
    assert findings and not any(f.is_error for f in findings)
    nist_class = Code("REPORTS", "1.3.6.1.4.1.19376.1.2.6.1")
    sub = sd.register_submission()
    entry = replace(sub.document_entries[0], class_code=nist_class)
    config = ValidationConfig(CodeValidation.REJECT, sets)
    before = len(validate(sub, Transaction.ITI_42, config))
    after = len(
        validate(
            replace(sub, document_entries=(entry, *sub.document_entries[1:])), Transaction.ITI_42, config
        )
    )
    assert after == before - 1

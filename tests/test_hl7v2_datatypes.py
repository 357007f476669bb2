"""HL7 v2 escaping (HL7 v2.5 2.7) and the XDS data types HD, CX, XCN, XON, XTN (ITI TF-3 4.2.3.1.7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from xds.hl7v2 import CX, HD, XCN, XON, XTN, UnescapedSeparatorError, escape, unescape
from xds.vocabulary import DE_PATIENT_ID, FOLDER_PATIENT_ID, SS_PATIENT_ID, Slot

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CONFORMANCE = SHARED / "conformance"

# ---------------------------------------------------------------------------------------------------
# escape / unescape (HL7 v2.5 2.7)


@pytest.mark.parametrize(
    ("char", "sequence"),
    [("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"), ("\\", "\\E\\"), ("\r", "\\X0D\\")],
)
def test_escape_each_delimiter(char: str, sequence: str) -> None:
    assert escape(f"a{char}b") == f"a{sequence}b"
    assert unescape(f"a{sequence}b") == f"a{char}b"


def test_escape_leaves_plain_text_and_umlauts() -> None:
    assert escape("Müller-Lüdenscheidt, Öztürk") == "Müller-Lüdenscheidt, Öztürk"


@pytest.mark.parametrize(
    ("encoded", "text"),
    [
        ("M\\XC3BC\\ller", "Müller"),  # UTF-8 bytes in one hex sequence
        ("M\\XC3\\\\XBC\\ller", "Müller"),  # UTF-8 bytes split over adjacent hex sequences
        ("M\\XFC\\ller", "Müller"),  # ISO 8859-1 byte (not valid UTF-8)
        ("\\Xc3bc\\", "ü"),  # lower-case hex digits
        ("a\\X0D0A\\b", "a\r\nb"),
        ("\\H\\wichtig\\N\\", "wichtig"),  # highlighting carries no text
        ("Zeile\\.br\\zwei", "Zeile\\.br\\zwei"),  # formatting command: kept as it is
        ("\\.sp2\\", "\\.sp2\\"),
        ("\\Zlocal\\", "\\Zlocal\\"),  # locally defined escape: kept
        ("\\C2842\\", "\\C2842\\"),  # character set switch: kept
        ("C:\\temp", "C:\\temp"),  # lone backslash: literal
        ("a\\b\\F\\", "a\\b|"),  # unknown sequence: backslash literal, rescan finds \F\
        ("\\\\", "\\\\"),  # empty sequence: literal
        ("\\X0\\", "\\X0\\"),  # odd number of hex digits: not hex data
        ("\\XZZ\\", "\\XZZ\\"),
        ("trailing\\", "trailing\\"),
    ],
)
def test_unescape_special_sequences(encoded: str, text: str) -> None:
    assert unescape(encoded) == text


# any character but surrogates, with the delimiters, the escape character and escape letters made likely
_TEXT_ALPHABET = st.characters(blacklist_categories=("Cs",)) | st.sampled_from("|^~\\&\rFSTREX")
_TEXT = st.text(_TEXT_ALPHABET)


@given(_TEXT)
def test_escape_round_trip(text: str) -> None:
    assert unescape(escape(text)) == text


@given(_TEXT)
def test_escaped_text_holds_no_delimiter(text: str) -> None:
    escaped = escape(text)
    assert not set("|^~&\r") & set(escaped)


@given(st.text())
def test_unescape_never_raises(text: str) -> None:
    assert isinstance(unescape(text), str)


# ---------------------------------------------------------------------------------------------------
# Real XDS values: render(parse(v)) == v


@pytest.mark.parametrize(
    ("cls", "text"),
    [
        (CX, "543797436^^^&1.2.840.113619.6.197&ISO"),
        (CX, "IDCAD001-a^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO"),
        (CX, "2013001^^^&1.2.3.4.5.6&ISO^urn:ihe:iti:xds:2013:accession"),
        (CX, "2013001^^^&1.2.3.4.5.6&ISO^urn:ihe:iti:xds:2013:accession^&1.3.6.1.4.1.21367.13.70.1&ISO"),
        (XCN, "11375^Welby^Marcus^J^Jr. MD^Dr^^^&1.2.840.113619.6.197.1&ISO"),
        (XCN, "^Dopplemeyer^Sherry^^^Dr^MD"),
        (XCN, "^Müller^Jürgen^^^Dr. med.^^^&1.2.276.0.76.3.1.1&ISO"),
        (XCN, "12^Öztürk^Ayşe"),
        (XON, "Some Hospital^^^^^&1.2.3.4.5.6.7.8.9.1789&ISO^^^^45"),
        (XON, "Universitätsklinikum Köln"),
        (XON, "Parma Community^^^^^^^^^1.2.3"),
        (XTN, "^^Internet^radiology@example.org"),
        (XTN, "^PRN^PH^^49^30^1234567"),
        (HD, "^1.2.840.113619.6.197^ISO"),
        (HD, "NIST^1.3.6.1.4.1.21367^ISO"),
    ],
)
def test_real_values_render_unchanged(cls: type, text: str) -> None:
    value = cls.parse(text)
    assert value.render() == text
    assert cls.parse(value.render()) == value


def test_cx_patient_id_fields() -> None:
    cx = CX.parse("543797436^^^&1.2.840.113619.6.197&ISO")
    assert cx.id_number == "543797436"
    assert cx.assigning_authority == HD("", "1.2.840.113619.6.197", "ISO")
    assert cx.authority_oid == "1.2.840.113619.6.197"
    assert cx.assigning_facility is None
    assert cx == CX(
        id_number="543797436",
        assigning_authority=HD(universal_id="1.2.840.113619.6.197", universal_id_type="ISO"),
    )


def test_cx_without_authority_has_empty_oid() -> None:
    assert CX.parse("patient_id").authority_oid == ""


def test_cxi_reference_id_with_home_community() -> None:
    # ITI TF-3 4.2.3.2.28: CXi.5 is the reference type, CXi.6 the homeCommunityId as an HD.
    cx = CX.parse("2013001^^^&1.2.3.4.5.6&ISO^urn:ihe:iti:xds:2013:accession^&1.3.6.1.4.1.21367.13.70.1&ISO")
    assert cx.identifier_type_code == "urn:ihe:iti:xds:2013:accession"
    assert cx.assigning_facility == HD("", "1.3.6.1.4.1.21367.13.70.1", "ISO")
    assert cx.authority_oid == "1.2.3.4.5.6"


def test_cx_all_ten_components() -> None:
    text = "1^7^M10^NS&1.2&ISO^MR^FAC&1.3&ISO^20200101^20301231^DE&Deutschland&ISO3166^A&Agency"
    cx = CX.parse(text)
    assert (cx.check_digit, cx.check_digit_scheme, cx.identifier_type_code) == ("7", "M10", "MR")
    assert cx.assigning_facility == HD("FAC", "1.3", "ISO")
    assert (cx.effective_date, cx.expiration_date) == ("20200101", "20301231")
    assert cx.assigning_jurisdiction == ("DE", "Deutschland", "ISO3166")
    assert cx.assigning_agency == ("A", "Agency")
    assert cx.extra == ()
    assert cx.render() == text


def test_xcn_fields() -> None:
    xcn = XCN.parse("11375^Welby^Marcus^J^Jr. MD^Dr^^^&1.2.840.113619.6.197.1&ISO")
    assert (xcn.id_number, xcn.family_name, xcn.given_name) == ("11375", "Welby", "Marcus")
    assert (xcn.further_given_names, xcn.suffix, xcn.prefix) == ("J", "Jr. MD", "Dr")
    assert xcn.authority_oid == "1.2.840.113619.6.197.1"


def test_xcn_german_names() -> None:
    xcn = XCN(family_name="Müller", given_name="Jürgen", prefix="Dr. med.")
    assert xcn.render() == "^Müller^Jürgen^^^Dr. med."
    assert XCN.parse("^Öztürk^Ayşe^Gül").further_given_names == "Gül"


def test_xcn_escaped_ampersand_in_family_name() -> None:
    xcn = XCN.parse("^Smith\\T\\Jones^John")
    assert xcn.family_name == "Smith&Jones"
    assert xcn.family_name_parts == ()
    assert xcn.render() == "^Smith\\T\\Jones^John"
    assert XCN(family_name="Smith&Jones", given_name="John") == xcn


def test_xcn_family_name_subcomponents_survive() -> None:
    # HL7 v2.5 Chapter 2A, FN: surname & own surname prefix & own surname & partner prefix & partner surname
    xcn = XCN.parse("^von Goethe-Meier&von&Goethe&&Meier^Johann")
    assert xcn.family_name == "von Goethe-Meier"
    assert xcn.family_name_parts == ("von", "Goethe", "", "Meier")
    assert xcn.render() == "^von Goethe-Meier&von&Goethe&&Meier^Johann"


def test_xcn_escapes_in_every_name_component() -> None:
    xcn = XCN(family_name="A^B", given_name="C|D", further_given_names="E~F", suffix="G\\H", prefix="I&J")
    assert xcn.render() == "^A\\S\\B^C\\F\\D^E\\R\\F^G\\E\\H^I\\T\\J"
    assert XCN.parse(xcn.render()) == xcn


def test_xon_fields() -> None:
    xon = XON.parse("Some Hospital^^^^^&1.2.3.4.5.6.7.8.9.1789&ISO^^^^45")
    assert xon.organization_name == "Some Hospital"
    assert xon.assigning_authority == HD("", "1.2.3.4.5.6.7.8.9.1789", "ISO")
    assert xon.organization_identifier == "45"


def test_xon_name_with_ampersand() -> None:
    xon = XON(organization_name="Müller & Söhne Praxis", organization_identifier="1.2.276.0.76.4.17.1")
    assert xon.render() == "Müller \\T\\ Söhne Praxis^^^^^^^^^1.2.276.0.76.4.17.1"
    assert XON.parse(xon.render()) == xon


def test_xtn_fields() -> None:
    mail = XTN.parse("^^Internet^radiology@example.org")
    assert mail.telecommunication_equipment_type == "Internet"
    assert mail.email_address == "radiology@example.org"
    phone = XTN.parse("^PRN^PH^^49^30^1234567")
    assert (phone.telecommunication_use_code, phone.telecommunication_equipment_type) == ("PRN", "PH")
    assert (phone.country_code, phone.area_city_code, phone.local_number) == ("49", "30", "1234567")


def test_hd_component_and_subcomponent_forms() -> None:
    hd = HD("NIST", "1.3.6.1.4.1.21367", "ISO")
    assert hd.render() == "NIST^1.3.6.1.4.1.21367^ISO"
    assert hd.render_subcomponents() == "NIST&1.3.6.1.4.1.21367&ISO"
    assert HD.parse_subcomponents("NIST&1.3.6.1.4.1.21367&ISO") == hd
    assert HD.parse(hd.render()) == hd


def test_hd_subcomponent_form_takes_caret_as_text() -> None:
    assert HD.parse_subcomponents("a^b&1.2").namespace_id == "a^b"


# ---------------------------------------------------------------------------------------------------
# Trailing separators and extra components


@pytest.mark.parametrize(
    ("cls", "text", "rendered"),
    [
        (CX, "1^^^^^^", "1"),
        (CX, "1^^^&1.2.3&ISO&&^", "1^^^&1.2.3&ISO"),
        (CX, "1^^^&&^", "1"),  # an all-empty HD is no HD
        (XCN, "^Dopplemeyer^Sherry^^^", "^Dopplemeyer^Sherry"),
        (XCN, "^Smith&&&^John", "^Smith^John"),
        (XON, "Cleveland Clinic^^^^^&1.2.3&ISO^^^^", "Cleveland Clinic^^^^^&1.2.3&ISO"),
        (XTN, "^^Internet^a@b.de^^^^^^^^^^^", "^^Internet^a@b.de"),
        (HD, "^1.2^ISO^^", "^1.2^ISO"),
        (CX, "", ""),
    ],
)
def test_trailing_separators_trimmed(cls: type, text: str, rendered: str) -> None:
    assert cls.parse(text).render() == rendered


def test_constructed_values_are_canonical() -> None:
    assert CX(id_number="1", assigning_authority=HD()).assigning_authority is None
    assert CX(id_number="1", extra=("a", "", "")).extra == ("a",)
    assert XCN(family_name="X", family_name_parts=["von", ""]).family_name_parts == ("von",)
    assert CX(assigning_jurisdiction=("DE", "")).render() == "^^^^^^^^DE"


@pytest.mark.parametrize(
    ("cls", "text", "extra"),
    [
        (CX, "1^^^&1.2&ISO^^^^^^^X^Y&Z", ("X", "Y&Z")),
        (
            XCN,
            "7^Doe^^^^^^^^^^^^^^CTX&ctx^^G^20200101^^PhD^J&x^A&y",
            ("CTX&ctx", "", "G", "20200101", "", "PhD", "J&x", "A&y"),
        ),
        (XON, "Org^^^^^^^^^42^more", ("more",)),
        (XTN, "^^^^^^^^^^^^\\T\\x", ("\\T\\x",)),
        (HD, "a^b^c^d&e", ("d&e",)),
    ],
)
def test_extra_components_kept_raw(cls: type, text: str, extra: tuple[str, ...]) -> None:
    value = cls.parse(text)
    assert value.extra == extra
    assert value.render() == text


# ---------------------------------------------------------------------------------------------------
# ValueError cases: each breaks one thing of a valid value


_VALID = {
    CX: "543797436^^^&1.2.840.113619.6.197&ISO",
    XCN: "11375^Welby^Marcus^J^Jr. MD^Dr^^^&1.2.840.113619.6.197.1&ISO",
    XON: "Some Hospital^^^^^&1.2.3.4.5.6.7.8.9.1789&ISO^^^^45",
    XTN: "^^Internet^radiology@example.org",
    HD: "NIST^1.3.6.1.4.1.21367^ISO",
}


@pytest.mark.parametrize("cls", list(_VALID), ids=lambda c: c.__name__)
@pytest.mark.parametrize("separator", ["|", "~"])
def test_unescaped_field_or_repetition_separator_rejected(cls: type, separator: str) -> None:
    text = _VALID[cls]
    cut = len(text) // 2
    with pytest.raises(UnescapedSeparatorError) as info:
        cls.parse(text[:cut] + separator + text[cut:])
    assert isinstance(info.value, ValueError)
    assert info.value.separator == separator


@pytest.mark.parametrize("separator", ["|", "~"])
def test_unescaped_separator_rejected_in_hd_subcomponent_form(separator: str) -> None:
    with pytest.raises(UnescapedSeparatorError) as info:
        HD.parse_subcomponents(f"&1.2{separator}3&ISO")
    assert info.value.separator == separator


def test_escaped_separators_accepted() -> None:
    cx = CX.parse("a\\F\\b\\R\\c^^^&1.2&ISO")
    assert cx.id_number == "a|b~c"
    assert cx.render() == "a\\F\\b\\R\\c^^^&1.2&ISO"


@pytest.mark.parametrize("separator", ["|", "~", "^"])
def test_extra_with_higher_level_separator_rejected(separator: str) -> None:
    with pytest.raises(UnescapedSeparatorError) as info:
        CX(id_number="1", extra=(f"a{separator}b",))
    assert info.value.separator == separator


# ---------------------------------------------------------------------------------------------------
# Hypothesis: render/parse round trip with separators and backslashes in every component

_VALUE = st.text(_TEXT_ALPHABET, max_size=8)
_SUBS = st.lists(_VALUE, max_size=4).map(tuple)
_EMBEDDED_HD = st.none() | st.builds(HD, _VALUE, _VALUE, _VALUE)
# raw extra components: escaped text, possibly with subcomponents
_EXTRA = st.lists(
    st.lists(_VALUE, min_size=1, max_size=3).map(lambda p: "&".join(map(escape, p))), max_size=3
).map(tuple)


def _builds(cls: type, **overrides: st.SearchStrategy) -> st.SearchStrategy:
    kinds = {name: kind for name, kind in cls._LAYOUT}
    strategies: dict[str, st.SearchStrategy] = {}
    for name, kind in kinds.items():
        strategies[name] = {"ST": _VALUE, "FN": _VALUE, "HD": _EMBEDDED_HD, "CWE": _SUBS}[kind]
    strategies["extra"] = _EXTRA
    strategies.update(overrides)
    return st.builds(cls, **strategies)


_ANY_VALUE = st.one_of(
    _builds(HD),
    _builds(CX),
    _builds(XCN, family_name_parts=_SUBS),
    _builds(XON),
    _builds(XTN),
)


@given(_ANY_VALUE)
def test_render_parse_round_trip(value: HD | CX | XCN | XON | XTN) -> None:
    rendered = value.render()
    assert "|" not in rendered and "~" not in rendered
    assert type(value).parse(rendered) == value


@given(st.builds(HD, _VALUE, _VALUE, _VALUE))
def test_hd_subcomponent_round_trip(hd: HD) -> None:
    assert HD.parse_subcomponents(hd.render_subcomponents()) == hd


@given(
    st.sampled_from([HD, CX, XCN, XON, XTN]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="|~")
        | st.sampled_from("^&\\XFSTE0D")
    ),
)
def test_parse_any_text_is_stable(cls: type, text: str) -> None:
    value = cls.parse(text)
    assert cls.parse(value.render()) == value


# ---------------------------------------------------------------------------------------------------
# Every HL7 v2 value in the conformance corpus survives parse -> render -> parse

_SLOT_TYPES = {
    Slot.AUTHOR_PERSON: XCN,
    Slot.LEGAL_AUTHENTICATOR: XCN,
    Slot.AUTHOR_INSTITUTION: XON,
    Slot.AUTHOR_TELECOMMUNICATION: XTN,
    Slot.SOURCE_PATIENT_ID: CX,
    Slot.REFERENCE_ID_LIST: CX,
}
_PATIENT_ID_SCHEMES = {DE_PATIENT_ID, SS_PATIENT_ID, FOLDER_PATIENT_ID}


def _corpus_values() -> list[tuple[type, str]]:
    if not CONFORMANCE.is_dir():
        return []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    files = sorted((CONFORMANCE / "nist-testkit" / "tests").rglob("*.xml"))
    files += sorted((CONFORMANCE / "extra-samples").rglob("*.xml"))
    found: set[tuple[type, str]] = set()
    for path in files:
        try:
            tree = etree.parse(str(path), parser)
        except etree.XMLSyntaxError:
            continue  # a few testkit files are templates, not XML
        for slot in tree.iter("{*}Slot"):
            cls = _SLOT_TYPES.get(slot.get("name"))
            if cls is not None:
                found.update((cls, value.text or "") for value in slot.iter("{*}Value"))
        for ext in tree.iter("{*}ExternalIdentifier"):
            if ext.get("identificationScheme") in _PATIENT_ID_SCHEMES:
                found.add((CX, ext.get("value") or ""))
    return sorted(found, key=lambda item: (item[0].__name__, item[1]))


_CORPUS = _corpus_values()


@pytest.mark.parametrize(
    ("cls", "text"),
    [pytest.param(cls, text, id=f"{cls.__name__}:{text[:60]}") for cls, text in _CORPUS]
    or [pytest.param(None, "", marks=pytest.mark.skip(reason="conformance corpus (../shared) not present"))],
)
def test_corpus_value_round_trip(cls: type, text: str) -> None:
    value = cls.parse(text)
    assert cls.parse(value.render()) == value
    # Nothing but trailing empty components is dropped from a real value.
    assert value.render() == text.rstrip("^")


def test_corpus_covers_every_type() -> None:
    if not _CORPUS:
        pytest.skip("conformance corpus (../shared) not present")
    assert {cls for cls, _ in _CORPUS} >= {CX, XCN, XON}

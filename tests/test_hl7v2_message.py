"""ITI-8 ADT messages (HL7 v2.3.1 / v2.5) read into PatientFeedMessage, error conditions, and ACKs."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from hypothesis import given
from hypothesis import strategies as st

from xds.hl7v2 import (
    CX,
    HD,
    XPN,
    ErrorCondition,
    ErrorLocation,
    FeedAction,
    Hl7Error,
    MessageHeader,
    build_ack,
    parse_patient_feed,
    sniff_header,
)

CONFORMANCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance"

DOMAIN = "1.3.6.1.4.1.21367.2005.13.20.1000"
STRUCTURES = {"A01": "ADT_A01", "A04": "ADT_A01", "A05": "ADT_A05", "A08": "ADT_A01", "A40": "ADT_A39"}


def adt(event: str = "A01", version: str = "2.5") -> str:
    """A valid ITI-8 message; v2.3.1 without the message structure in MSH-9, as older senders write it."""
    msh9 = f"ADT^{event}" if version == "2.3.1" else f"ADT^{event}^{STRUCTURES[event]}"
    segments = [
        f"MSH|^~\\&|KIS|KLINIKUM^1.2.276.0.76.3.1.99^ISO|XDS_REGISTRY|DOMAIN|20240315101500+0100||{msh9}"
        f"|CTRL-{event}|P|{version}",
        f"EVN|{event}|20240315101500",
        f"PID|1||4711^^^KIS&1.2.276.0.76.3.1.99.1&ISO^PI~IHE-7^^^&{DOMAIN}&ISO||"
        "M\\XC3BC\\ller-L\\XC3BC\\denscheidt&von^Anna\\T\\Lena^Maria^^Dr.^^L~Mueller^Anna||19700215|F"
        "|||Hauptstr. 1^^Berlin^^10115^DEU^H~Postfach 7^^Bonn",
    ]
    if event == "A40":
        segments.append(f"MRG|OLD-1^^^&{DOMAIN}&ISO~OLD-2^^^KIS&1.2.276.0.76.3.1.99.1&ISO")
    else:
        segments.append("PV1|1|I")
    return "\r".join(segments) + "\r"


def set_field(message: str, segment: str, field: int, value: str, occurrence: int = 1) -> str:
    """``message`` with field ``field`` of the ``occurrence``-th ``segment`` replaced (MSH-1 counted)."""
    lines = message.split("\r")
    seen = 0
    for i, line in enumerate(lines):
        if line.startswith(segment + "|"):
            seen += 1
            if seen == occurrence:
                parts = line.split("|")
                index = field - 1 if segment == "MSH" else field
                parts += [""] * (index + 1 - len(parts))
                parts[index] = value
                lines[i] = "|".join(parts)
                return "\r".join(lines)
    raise AssertionError(f"no {segment} #{occurrence}")


def drop_segment(message: str, segment: str) -> str:
    return "\r".join(line for line in message.split("\r") if not line.startswith(segment + "|"))


def fields(segment: bytes) -> list[str]:
    return segment.decode().split("|")


KIS = HD("KIS", "1.2.276.0.76.3.1.99.1", "ISO")
EXPECTED_IDS = (
    CX(id_number="4711", assigning_authority=KIS, identifier_type_code="PI"),
    CX(id_number="IHE-7", assigning_authority=HD("", DOMAIN, "ISO")),
)


# ---------------------------------------------------------------------------------------------------
# parsing valid messages


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.5"])
@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("A01", FeedAction.CREATE),
        ("A04", FeedAction.CREATE),
        ("A05", FeedAction.CREATE),
        ("A08", FeedAction.UPDATE),
    ],
)
def test_parse_create_and_update(event: str, action: FeedAction, version: str) -> None:
    feed = parse_patient_feed(adt(event, version).encode())
    header = feed.header
    assert (feed.message_control_id, feed.trigger_event, feed.version, feed.action) == (
        f"CTRL-{event}",
        event,
        version,
        action,
    )
    assert header.message_code == "ADT"
    assert header.message_structure == ("" if version == "2.3.1" else STRUCTURES[event])
    assert header.sending_application == HD("KIS")
    assert header.sending_facility == HD("KLINIKUM", "1.2.276.0.76.3.1.99", "ISO")
    assert header.receiving_application == HD("XDS_REGISTRY")
    assert header.receiving_facility == HD("DOMAIN")
    assert (header.processing_id, header.timestamp) == ("P", "20240315101500+0100")
    assert feed.patient_identifiers == EXPECTED_IDS
    assert feed.birth_date == "19700215"
    assert feed.sex == "F"
    assert feed.addresses == ("Hauptstr. 1^^Berlin^^10115^DEU^H", "Postfach 7^^Bonn")
    assert feed.prior_patient_identifiers == ()


def test_name_escapes_and_repetitions() -> None:
    names = parse_patient_feed(adt()).patient_names
    assert names == (
        XPN(
            family_name="Müller-Lüdenscheidt",
            family_name_parts=("von",),
            given_name="Anna&Lena",
            further_given_names="Maria",
            prefix="Dr.",
            name_type_code="L",
        ),
        XPN(family_name="Mueller", given_name="Anna"),
    )


@pytest.mark.parametrize("version", ["2.3.1", "2.5"])
def test_parse_merge(version: str) -> None:
    feed = parse_patient_feed(adt("A40", version))
    assert feed.action is FeedAction.MERGE
    assert feed.patient_identifiers == EXPECTED_IDS
    assert feed.prior_patient_identifiers == (
        CX(id_number="OLD-1", assigning_authority=HD("", DOMAIN, "ISO")),
        CX(id_number="OLD-2", assigning_authority=KIS),
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r\r"])
def test_other_segment_terminators(newline: str) -> None:
    assert parse_patient_feed(adt().replace("\r", newline)) == parse_patient_feed(adt())


def test_non_default_delimiters() -> None:
    # MSH-1 '#', MSH-2: component '$', repetition '*', escape '!', subcomponent '@'
    message = (
        "MSH#$*!@#KIS#KLINIKUM$1.2.276.0.76.3.1.99$ISO#XDS_REGISTRY#DOMAIN#20240315##ADT$A01$ADT_A01#C9#P#2.5\r"
        f"PID#1##4711$$$KIS@1.2.276.0.76.3.1.99.1@ISO$PI*IHE-7$$$@{DOMAIN}@ISO##"
        "O|Brien^Smith~&!E!!F!!S!!T!!R!$A\\B!XC3BC!\r"
    )
    feed = parse_patient_feed(message)
    assert feed.header.encoding.characters == "$*!@"
    assert feed.header.sending_facility == HD("KLINIKUM", "1.2.276.0.76.3.1.99", "ISO")
    assert feed.header.message_structure == "ADT_A01"
    assert feed.patient_identifiers == EXPECTED_IDS
    # the default delimiters are text here; the escapes stand for this message's own delimiters
    assert feed.patient_names == (XPN(family_name="O|Brien^Smith~&!#$@*", given_name="A\\Bü"),)


def test_unknown_escape_with_non_default_delimiters_is_text() -> None:
    message = "MSH#$*!@###XDS##20240315##ADT$A08#C9#P#2.5\rPID###1$$$@1.2@ISO##a!Q!b$!!\r"
    assert parse_patient_feed(message).patient_names == (XPN(family_name="a!Q!b", given_name="!!"),)


@pytest.mark.parametrize(
    ("msh18", "encoding"),
    [
        ("8859/1", "latin-1"),
        ("UNICODE UTF-8", "utf-8"),
        ("", "utf-8"),
        ("", "latin-1"),
        ("8859/15", "iso8859-15"),
    ],
)
def test_character_sets(msh18: str, encoding: str) -> None:
    message = set_field(adt(), "MSH", 18, msh18)
    message = set_field(message, "PID", 5, "Größe^Jürgen")
    feed = parse_patient_feed(message.encode(encoding))
    assert feed.patient_names == (XPN(family_name="Größe", given_name="Jürgen"),)
    assert feed.header.charset == msh18


def test_our_reading_of_pid3_agrees_with_hl7apy() -> None:
    for version in ("2.3.1", "2.5"):
        theirs = parse_message(
            adt("A01", version), validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False
        )
        ours = parse_patient_feed(adt("A01", version))
        assert [rep.value for rep in theirs.pid.pid_3] == [cx.render() for cx in ours.patient_identifiers]


# ---------------------------------------------------------------------------------------------------
# messages that cannot be accepted: condition, location and ACK code

SEQUENCE = ErrorCondition.SEGMENT_SEQUENCE_ERROR
MISSING = ErrorCondition.REQUIRED_FIELD_MISSING
DATA_TYPE = ErrorCondition.DATA_TYPE_ERROR
TABLE = ErrorCondition.TABLE_VALUE_NOT_FOUND
MSH = ErrorLocation("MSH")
A40 = adt("A40")


def msh(field: int, component: int | None = None) -> ErrorLocation:
    return ErrorLocation("MSH", 1, field, None, component)


def broken(
    name: str, message: str | bytes, condition: ErrorCondition, where: ErrorLocation, ack: str
) -> object:
    return pytest.param(message, condition, where, ack, id=name)


# each case breaks exactly one thing of a valid message (adt()), and says which error and ACK code it gets
BROKEN = [
    broken("empty", "", SEQUENCE, MSH, "AR"),
    broken("no MSH", drop_segment(adt(), "MSH"), SEQUENCE, MSH, "AR"),
    broken("MSH-1 letter", "MSHX^~\\&X" + adt()[9:], DATA_TYPE, msh(1), "AR"),
    broken("MSH-2 short", set_field(adt(), "MSH", 2, "^~"), DATA_TYPE, msh(2), "AR"),
    broken("MSH-9 empty", set_field(adt(), "MSH", 9, ""), MISSING, msh(9), "AR"),
    broken("MSH-10 empty", set_field(adt(), "MSH", 10, ""), MISSING, msh(10), "AR"),
    broken("MSH-11 empty", set_field(adt(), "MSH", 11, ""), MISSING, msh(11), "AR"),
    broken("MSH-12 empty", set_field(adt(), "MSH", 12, ""), MISSING, msh(12), "AR"),
    broken("MSH-11 not in 0103", set_field(adt(), "MSH", 11, "X"), TABLE, msh(11), "AR"),
    broken(
        "MSH-12 3.0", set_field(adt(), "MSH", 12, "3.0"), ErrorCondition.UNSUPPORTED_VERSION_ID, msh(12), "AR"
    ),
    broken(
        "MSH-9 ORU",
        set_field(adt(), "MSH", 9, "ORU^R01^ORU_R01"),
        ErrorCondition.UNSUPPORTED_MESSAGE_TYPE,
        msh(9, 1),
        "AR",
    ),
    broken(
        "MSH-9 A03",
        set_field(adt(), "MSH", 9, "ADT^A03^ADT_A03"),
        ErrorCondition.UNSUPPORTED_EVENT_CODE,
        msh(9, 2),
        "AR",
    ),
    broken("MSH-18 EBCDIC", set_field(adt(), "MSH", 18, "EBCDIC").encode(), TABLE, msh(18), "AR"),
    broken(
        "MSH-18 ASCII, bytes not",
        set_field(adt(), "MSH", 18, "ASCII").replace("Mueller", "Müller").encode(),
        DATA_TYPE,
        msh(18),
        "AR",
    ),
    broken("segment id", adt().replace("EVN|", "evn|"), SEQUENCE, ErrorLocation("evn"), "AE"),
    broken("no PID", drop_segment(adt(), "PID"), SEQUENCE, ErrorLocation("PID"), "AE"),
    broken("two PID", adt() + adt().split("\r")[2] + "\r", SEQUENCE, ErrorLocation("PID", 2), "AE"),
    broken("PID-3 empty", set_field(adt(), "PID", 3, ""), MISSING, ErrorLocation("PID", 1, 3), "AE"),
    broken("PID-3 only ~", set_field(adt(), "PID", 3, "~"), MISSING, ErrorLocation("PID", 1, 3), "AE"),
    broken(
        "PID-3 no CX.1",
        set_field(adt(), "PID", 3, f"^^^&{DOMAIN}&ISO"),
        DATA_TYPE,
        ErrorLocation("PID", 1, 3, 1, 1),
        "AE",
    ),
    broken(
        "PID-3 2nd no CX.1",
        set_field(adt(), "PID", 3, f"1^^^&{DOMAIN}&ISO~^^^KIS"),
        DATA_TYPE,
        ErrorLocation("PID", 1, 3, 2, 1),
        "AE",
    ),
    broken(
        "PID-7 no date", set_field(adt(), "PID", 7, "15.02.1970"), DATA_TYPE, ErrorLocation("PID", 1, 7), "AE"
    ),
    broken("A40 no MRG", drop_segment(A40, "MRG"), SEQUENCE, ErrorLocation("MRG"), "AE"),
    broken("A40 MRG-1 empty", set_field(A40, "MRG", 1, ""), MISSING, ErrorLocation("MRG", 1, 1), "AE"),
    broken(
        "A40 MRG before PID",
        "\r".join(A40.split("\r")[i] for i in (0, 1, 3, 2, 4)),
        SEQUENCE,
        ErrorLocation("MRG"),
        "AE",
    ),
]


@pytest.mark.parametrize(("message", "condition", "location", "ack_code"), BROKEN)
def test_broken_messages(
    message: str | bytes, condition: ErrorCondition, location: ErrorLocation, ack_code: str
) -> None:
    with pytest.raises(Hl7Error) as raised:
        parse_patient_feed(message)
    assert raised.value.condition is condition
    assert raised.value.location == location
    assert raised.value.ack_code == ack_code


def test_the_baselines_of_the_broken_messages_are_valid() -> None:
    for event in STRUCTURES:
        parse_patient_feed(adt(event))


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_hl7_errors(data: bytes) -> None:
    with contextlib.suppress(Hl7Error):
        parse_patient_feed(data)


@given(
    st.sampled_from(["MSH|^~\\&|", "MSH#$*!@#", "MSH"]),
    st.text(alphabet="MSHADTPIDRG|^~\\&#$*!@\r\n 0123A.", max_size=200),
)
def test_arbitrary_near_messages_raise_only_hl7_errors(start: str, text: str) -> None:
    with contextlib.suppress(Hl7Error):
        parse_patient_feed(start + text)


# ---------------------------------------------------------------------------------------------------
# ACKs

NOW = datetime(2024, 3, 15, 10, 15, 1, tzinfo=UTC)


def ack_segments(ack: bytes) -> list[bytes]:
    assert ack.endswith(b"\r")
    return ack[:-1].split(b"\r")


def test_ack_aa_v25() -> None:
    ack = build_ack(parse_patient_feed(adt("A04")), "AA", control_id="ACK-1", timestamp=NOW)
    msh, msa = ack_segments(ack)
    assert fields(msh) == [
        "MSH",
        "^~\\&",
        "XDS_REGISTRY",
        "DOMAIN",
        "KIS",
        "KLINIKUM^1.2.276.0.76.3.1.99^ISO",
        "20240315101501+0000",
        "",
        "ACK^A04^ACK",
        "ACK-1",
        "P",
        "2.5",
    ]
    assert fields(msa) == ["MSA", "AA", "CTRL-A04"]


def test_ack_control_id_is_new_and_short() -> None:
    feed = parse_patient_feed(adt())
    ids = {fields(ack_segments(build_ack(feed, "AA"))[0])[9] for _ in range(3)}
    assert len(ids) == 3
    assert all(0 < len(control_id) <= 20 and control_id != feed.message_control_id for control_id in ids)


def test_ack_ae_v25_with_err() -> None:
    message = set_field(adt(), "PID", 3, "")
    with pytest.raises(Hl7Error) as raised:
        parse_patient_feed(message)
    ack = build_ack(message.encode(), raised.value.ack_code, error=raised.value, timestamp=NOW)
    msh, msa, err = ack_segments(ack)
    assert fields(msh)[8:12] == ["ACK^A01^ACK", fields(msh)[9], "P", "2.5"]
    assert fields(msa) == ["MSA", "AE", "CTRL-A01", raised.value.text]
    assert fields(err) == [
        "ERR",
        "",
        "PID^1^3",
        "101^Required field missing^HL70357",
        "E",
        "",
        "",
        raised.value.text,
    ]


def test_ack_ar_v231_with_eld() -> None:
    message = set_field(adt("A01", "2.3.1"), "MSH", 9, "ADT^A03")
    with pytest.raises(Hl7Error) as raised:
        parse_patient_feed(message)
    msh, msa, err = ack_segments(build_ack(message.encode(), raised.value.ack_code, error=raised.value))
    assert fields(msh)[8] == "ACK^A03^ACK"
    assert fields(msh)[11] == "2.3.1"
    assert fields(msa) == [
        "MSA",
        "AR",
        "CTRL-A01",
        raised.value.text,
        "",
        "",
        "201^Unsupported event code^HL70357",
    ]
    assert fields(err) == ["ERR", "MSH^1^9^201&Unsupported event code&HL70357"]


def test_ack_for_a_message_without_readable_msh() -> None:
    error = Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, "no MSH", ErrorLocation("MSH"))
    msh, msa, err = ack_segments(build_ack(b"\x00\xffnot hl7 at all", "AR", error=error, control_id="X1"))
    assert fields(msh)[2:] == ["", "", "", "", fields(msh)[6], "", "ACK^^ACK", "X1", "P", "2.5"]
    assert fields(msa) == ["MSA", "AR", "", "no MSH"]
    assert fields(err)[1:5] == ["", "MSH^1", "100^Segment sequence error^HL70357", "E"]


def test_ack_without_location_v231() -> None:
    error = Hl7Error(ErrorCondition.APPLICATION_INTERNAL_ERROR, "database down")
    _, msa, err = ack_segments(build_ack(adt("A01", "2.3.1").encode(), "AE", error=error))
    assert fields(msa)[1:3] == ["AE", "CTRL-A01"]
    assert fields(err) == ["ERR", "^^^207&Application internal error&HL70357"]


def test_ack_mirrors_what_is_readable_of_a_broken_message() -> None:
    message = set_field(adt(), "MSH", 18, "ASCII").replace("Mueller", "Müller").encode()
    msh, msa, _ = ack_segments(build_ack(message, "AR", error=Hl7Error(ErrorCondition.DATA_TYPE_ERROR, "x")))
    assert fields(msh)[2:6] == ["XDS_REGISTRY", "DOMAIN", "KIS", "KLINIKUM^1.2.276.0.76.3.1.99^ISO"]
    assert fields(msa)[2] == "CTRL-A01"


def test_ack_text_is_escaped_and_msa3_cut_to_80() -> None:
    error = Hl7Error(
        ErrorCondition.UNKNOWN_KEY_IDENTIFIER, "id 1^^^&1.2&ISO|x " + "y" * 100, ErrorLocation("MRG", 1, 1)
    )
    msh, msa, err = ack_segments(build_ack(adt("A40").encode(), "AE", error=error))
    assert fields(msa)[3].startswith("id 1\\S\\\\S\\\\S\\\\T\\1.2\\T\\ISO\\F\\x yyy")
    assert len(fields(msa)) == 4
    assert fields(err)[2:4] == ["MRG^1^1", "204^Unknown key identifier^HL70357"]
    assert fields(err)[7].endswith("y" * 100)


def test_ack_sending_application_override_and_header_input() -> None:
    header = MessageHeader(sending_application=HD("KIS"), control_id="C7", trigger_event="A08", version="2.5")
    msh, msa = ack_segments(build_ack(header, "AA", sending_application=HD("REG", "1.2.3", "ISO")))
    assert fields(msh)[2:5] == ["REG^1.2.3^ISO", "", "KIS"]
    assert fields(msa) == ["MSA", "AA", "C7"]


def test_ack_keeps_the_character_set() -> None:
    message = set_field(set_field(adt(), "MSH", 18, "8859/1"), "MSH", 5, "Registry Köln")
    ack = build_ack(message.encode("latin-1"), "AA")
    msh = ack.decode("latin-1").split("\r")[0].split("|")
    assert (msh[2], msh[17]) == ("Registry Köln", "8859/1")


@pytest.mark.parametrize(
    ("code", "error"), [("CA", None), ("AA", Hl7Error(ErrorCondition.DATA_TYPE_ERROR, "x"))]
)
def test_ack_refuses_inconsistent_arguments(code: str, error: Hl7Error | None) -> None:
    with pytest.raises(ValueError):
        build_ack(adt(), code, error=error)


@pytest.mark.parametrize("version", ["2.3.1", "2.5"])
@pytest.mark.parametrize("code", ["AA", "AE", "AR"])
def test_hl7apy_reads_our_acks_strictly(version: str, code: str) -> None:
    error = (
        None
        if code == "AA"
        else Hl7Error(ErrorCondition.REQUIRED_FIELD_MISSING, "a|b", ErrorLocation("PID", 1, 3))
    )
    ack = build_ack(adt("A01", version).encode(), code, error=error)
    theirs = parse_message(ack.decode(), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert theirs.validate()
    assert (theirs.msa.msa_1.value, theirs.msa.msa_2.value) == (code, "CTRL-A01")
    assert theirs.msh.msh_12.to_er7() == version


@given(st.binary(max_size=200))
def test_ack_for_any_input(data: bytes) -> None:
    error = Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, "unreadable")
    segments = ack_segments(build_ack(data, "AR", error=error))
    assert [segment[:4] for segment in segments] == [b"MSH|", b"MSA|", b"ERR|"]
    assert sniff_header(b"\r".join(segments)) is not None


# ---------------------------------------------------------------------------------------------------
# real ITI-8 messages, when a conformance corpus with some is present (never copied into the project)


def _conformance_messages() -> list[tuple[Path, str]]:
    if not CONFORMANCE.is_dir():
        return []
    found: list[tuple[Path, str]] = []
    for path in sorted(CONFORMANCE.rglob("*")):
        if not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        text = path.read_bytes().decode("latin-1")
        if "ADT^A01" not in text and "ADT^A40" not in text:
            continue
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        starts = [i for i, line in enumerate(lines) if line.startswith("MSH") and "ADT^A" in line]
        for start in starts:
            segments = []
            for line in lines[start + 1 :]:
                if not line.strip() or line.startswith("MSH"):
                    break
                segments.append(line)
            found.append((path, "\r".join([lines[start], *segments])))
    return found


def test_conformance_adt_messages_parse() -> None:
    messages = _conformance_messages()
    if not messages:
        pytest.skip("no ADT^A01/ADT^A40 message in ../shared/conformance")
    for path, message in messages:
        feed = parse_patient_feed(message)
        assert feed.patient_identifiers, path

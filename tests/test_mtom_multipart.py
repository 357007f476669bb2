"""The sans-IO multipart parser (RFC 2046 5.1.1) and Content-Type parsing (RFC 2045 5.1)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xds.mtom import MtomError, MtomErrorCode, MultipartParser, PartData, PartEnd, PartStart
from xds.mtom.content_type import parse_content_type

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
NIST_PNR_XOP = SHARED / "conformance" / "nist-testkit" / "tests" / "PnrXop"
EHS_SAMPLES = SHARED / "conformance" / "extra-samples" / "ehealthsuisse-EPR-by-example" / "samples"

BOUNDARY = b"MIMEBoundary_abc"
ROOT_HEADERS = [
    ("Content-Type", 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'),
    ("Content-Transfer-Encoding", "binary"),
    ("Content-ID", "<root@example.org>"),
]
DOC_HEADERS = [("Content-Type", "application/pdf"), ("Content-ID", "<doc1@example.org>")]


def build(
    parts: list[tuple[list[tuple[str, str]], bytes]],
    *,
    boundary: bytes = BOUNDARY,
    nl: bytes = b"\r\n",
    preamble: bytes = b"",
    epilogue: bytes = b"\r\n",
    padding: bytes = b"",
) -> bytes:
    """A multipart body the way RFC 2046 5.1.1 writes it (optionally with bare LF, padding, preamble)."""
    out = preamble + nl if preamble else b""
    for i, (headers, body) in enumerate(parts):
        if i:
            out += nl
        out += b"--" + boundary + padding + nl
        out += b"".join(f"{name}: {value}".encode() + nl for name, value in headers) + nl + body
    return out + nl + b"--" + boundary + b"--" + epilogue


BASELINE = build([(ROOT_HEADERS, b"<Envelope/>"), (DOC_HEADERS, b"%PDF-1.4 binary \x00\xff\r\n bytes")])


def normalize(events: list) -> list:
    """Merge adjacent PartData: how the data is cut depends on the chunking, not what it is."""
    out: list = []
    for event in events:
        if isinstance(event, PartData) and out and isinstance(out[-1], PartData):
            out[-1] = PartData(out[-1].data + event.data)
        elif not (isinstance(event, PartData) and not event.data):
            out.append(event)
    return out


def parse(data: bytes, cuts: list[int] | None = None, boundary: bytes = BOUNDARY, **kwargs) -> list:
    parser = MultipartParser(boundary, **kwargs)
    events: list = []
    bounds = [0, *sorted(cuts or []), len(data)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        events += parser.feed(data[lo:hi])
    events += parser.close()
    return normalize(events)


def parts_of(events: list) -> list[tuple[dict[str, str], bytes]]:
    parts: list[tuple[dict[str, str], bytes]] = []
    for event in events:
        if isinstance(event, PartStart):
            parts.append((event.headers, b""))
        elif isinstance(event, PartData):
            parts[-1] = (parts[-1][0], parts[-1][1] + event.data)
    return parts


def error_code(data: bytes, boundary: bytes = BOUNDARY, **kwargs) -> MtomErrorCode:
    with pytest.raises(MtomError) as info:
        parse(data, boundary=boundary, **kwargs)
    return info.value.code


# -- Content-Type (RFC 2045 5.1)


def test_content_type_params_lower_cased_and_unquoted():
    mime, params = parse_content_type(
        'Multipart/Related; BOUNDARY="uuid:a;b=c"; type="application/xop+xml"; start="<root@x>";'
        ' start-info="application/soap+xml"; action=urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b'
    )
    assert mime == "multipart/related"
    assert params == {
        "boundary": "uuid:a;b=c",
        "type": "application/xop+xml",
        "start": "<root@x>",
        "start-info": "application/soap+xml",
        "action": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    }


def test_content_type_without_spaces_and_escaped_quote():
    mime, params = parse_content_type(
        'application/xop+xml;charset=utf-8;type="application/soap+xml";x="a\\"b"'
    )
    assert mime == "application/xop+xml"
    assert params == {"charset": "utf-8", "type": "application/soap+xml", "x": 'a"b'}


def test_content_type_stray_word_and_duplicate_parameter():
    assert parse_content_type("text/xml; junk; charset=a; charset=b")[1] == {"charset": "a"}


@pytest.mark.parametrize("value", ["", "multipart", "/related", "multipart/", "multi part/related"])
def test_content_type_without_type_subtype(value):
    with pytest.raises(MtomError) as info:
        parse_content_type(value)
    assert info.value.code is MtomErrorCode.MALFORMED_CONTENT_TYPE


def test_content_type_unterminated_quote():
    with pytest.raises(MtomError) as info:
        parse_content_type('multipart/related; boundary="abc')
    assert info.value.code is MtomErrorCode.MALFORMED_CONTENT_TYPE


@given(st.text(max_size=80))
def test_content_type_fuzz_raises_only_mtom_error(value):
    with contextlib.suppress(MtomError):
        parse_content_type(value)


# -- well-formed bodies


def test_baseline_events():
    events = parse(BASELINE)
    assert [type(e) for e in events] == [PartStart, PartData, PartEnd, PartStart, PartData, PartEnd]
    assert events[0].headers == {
        "content-type": 'application/xop+xml; charset=UTF-8; type="application/soap+xml"',
        "content-transfer-encoding": "binary",
        "content-id": "<root@example.org>",
    }
    assert events[1].data == b"<Envelope/>"
    assert events[4].data == b"%PDF-1.4 binary \x00\xff\r\n bytes"


def test_preamble_and_epilogue_ignored():
    data = build(
        [(DOC_HEADERS, b"x")],
        preamble=b"This is a multi-part message in MIME format.",
        epilogue=b"\r\nbye\r\n",
    )
    assert parts_of(parse(data)) == [
        ({"content-type": "application/pdf", "content-id": "<doc1@example.org>"}, b"x")
    ]


def test_epilogue_right_after_close_delimiter():
    # a real capture (ehealthsuisse ITI-41) has "--boundary--Target endpoint: ..."
    assert (
        parts_of(parse(build([(DOC_HEADERS, b"x")], epilogue=b"Target endpoint: https://x/")))[0][1] == b"x"
    )


def test_no_line_end_after_close_delimiter():
    assert parts_of(parse(build([(DOC_HEADERS, b"x")], epilogue=b"")))[0][1] == b"x"


def test_bare_lf_line_ends():
    lf = build([(ROOT_HEADERS, b"<a/>\n"), (DOC_HEADERS, b"two\r\nlines")], nl=b"\n")
    crlf = build([(ROOT_HEADERS, b"<a/>\n"), (DOC_HEADERS, b"two\r\nlines")])
    assert parse(lf) == parse(crlf)


def test_transport_padding_after_boundaries():
    padded = build([(ROOT_HEADERS, b"<a/>"), (DOC_HEADERS, b"x")], padding=b" \t ")
    assert parse(padded) == parse(build([(ROOT_HEADERS, b"<a/>"), (DOC_HEADERS, b"x")]))


def test_padding_after_close_delimiter():
    assert parts_of(parse(build([(DOC_HEADERS, b"x")], epilogue=b"  \r\n")))[0][1] == b"x"


def test_boundary_lookalikes_in_body_are_data():
    body = (
        b"--MIMEBoundary_abc at line start without CRLF before\r\n"
        b"\r\n--MIMEBoundary_abcd longer boundary\r\n"
        b"\r\n--MIMEBoundary_ab shorter\r\n"
        b"\r\n--MIMEBoundary_abc-x one dash\r\n"
        b"x\r\n-MIMEBoundary_abc\r\n"
        b"\r\n--MIMEBoundary_abc\rCR without LF"
    )
    assert parts_of(parse(build([(DOC_HEADERS, body)])))[0][1] == body


def test_boundary_with_characters_of_the_body():
    boundary = b"uuid:376733a6-6a2d+id=17"
    body = b"uuid:376733a6-6a2d+id=17 --uuid:376733a6 \r\n--uuid:376733a6-6a2d+id=1"
    assert parts_of(parse(build([(DOC_HEADERS, body)], boundary=boundary), boundary=boundary))[0][1] == body


def test_content_ending_in_cr_keeps_it():
    assert parts_of(parse(build([(DOC_HEADERS, b"data\r")])))[0][1] == b"data\r"


def test_empty_bodies_and_part_without_headers():
    # RFC 2046 5.1.1: body-part := MIME-part-headers [CRLF *OCTET]; the headers may be empty too
    data = b"--b\r\nContent-ID: <a>\r\n\r\n--b\r\n\r\n\r\n--b\r\n\r\n--b--"
    assert parts_of(parse(data, boundary=b"b")) == [({"content-id": "<a>"}, b""), ({}, b""), ({}, b"")]


def test_header_folding_names_and_duplicates():
    data = (
        b"--b\r\nContent-Type: text/plain;\r\n\tcharset=utf-8\r\n"
        b"X-A : 1\r\nx-a: 2\r\n  more\r\n\r\nz\r\n--b--"
    )
    assert parts_of(parse(data, boundary=b"b")) == [
        ({"content-type": "text/plain; charset=utf-8", "x-a": "1"}, b"z")
    ]


def test_events_after_close_delimiter_are_none():
    parser = MultipartParser(BOUNDARY)
    parser.feed(BASELINE)
    assert parser.done
    assert parser.feed(b"\r\n--MIMEBoundary_abc\r\n\r\nmore") == []
    assert parser.close() == []


# -- random chunking: the events do not depend on how the bytes are cut

TRICKY = [
    BASELINE,
    build(
        [(ROOT_HEADERS, b"<a/>"), (DOC_HEADERS, b"\r\n--MIMEBoundary_ab\r\r\n--MIMEBoundary_abcX")],
        nl=b"\r\n",
    ),
    build([(ROOT_HEADERS, b"<a/>\n"), (DOC_HEADERS, b"x\n--MIMEBoundary_ab")], nl=b"\n", padding=b"\t "),
    build([(DOC_HEADERS, b"")], preamble=b"pre\r\n--MIMEBoundary_ab", epilogue=b"junk"),
    b"--b\r\nContent-ID: <a>\r\n\r\n--b\r\n\r\n\r\n--b\r\n\r\n--b--",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(range(len(TRICKY))), st.data())
def test_random_chunking_gives_the_same_events(index, data):
    message = TRICKY[index]
    boundary = b"b" if message.startswith(b"--b\r") else BOUNDARY
    cuts = data.draw(st.lists(st.integers(0, len(message)), max_size=30))
    assert parse(message, cuts, boundary=boundary) == parse(message, boundary=boundary)


@pytest.mark.parametrize("index", range(len(TRICKY)))
def test_byte_by_byte_gives_the_same_events(index):
    message = TRICKY[index]
    boundary = b"b" if message.startswith(b"--b\r") else BOUNDARY
    assert parse(message, list(range(len(message))), boundary=boundary) == parse(message, boundary=boundary)


# -- errors: each breaks one thing


def test_boundary_not_found():
    assert error_code(BASELINE.replace(BOUNDARY, b"OtherBoundary_xyz")) is MtomErrorCode.BOUNDARY_NOT_FOUND


def test_boundary_not_found_before_the_whole_body_is_read():
    parser = MultipartParser(BOUNDARY, max_preamble_bytes=1000)
    with pytest.raises(MtomError) as info:
        for _ in range(10):
            parser.feed(b"x" * 500)
    assert info.value.code is MtomErrorCode.BOUNDARY_NOT_FOUND


def test_truncated_in_body():
    assert error_code(BASELINE[:-30]) is MtomErrorCode.TRUNCATED


def test_truncated_in_headers():
    assert error_code(BASELINE[: BASELINE.index(b"Content-ID")]) is MtomErrorCode.TRUNCATED


def test_truncated_before_close_dashes():
    assert error_code(BASELINE[: BASELINE.rindex(b"--\r\n")]) is MtomErrorCode.TRUNCATED


def test_header_block_too_large():
    headers = [*DOC_HEADERS, ("X-Padding", "p" * 20_000)]
    assert error_code(build([(headers, b"x")])) is MtomErrorCode.HEADER_TOO_LARGE


def test_header_block_too_large_without_line_end():
    parser = MultipartParser(BOUNDARY, max_header_bytes=100)
    parser.feed(b"--MIMEBoundary_abc\r\nX-Long: ")
    with pytest.raises(MtomError) as info:
        parser.feed(b"y" * 200)
    assert info.value.code is MtomErrorCode.HEADER_TOO_LARGE


def test_many_headers_too_large():
    headers = [*DOC_HEADERS] + [(f"X-H{i}", "v" * 50) for i in range(400)]
    assert error_code(build([(headers, b"x")])) is MtomErrorCode.HEADER_TOO_LARGE


def test_transport_padding_too_long():
    assert error_code(build([(DOC_HEADERS, b"x")], padding=b" " * 5000)) is MtomErrorCode.HEADER_TOO_LARGE


def test_header_line_without_colon():
    assert error_code(build([([*DOC_HEADERS, ("Broken", "x")], b"x")]).replace(b"Broken:", b"Broken")) is (
        MtomErrorCode.MALFORMED_HEADER
    )


def test_header_name_with_space():
    assert error_code(build([([("Content ID", "<a>")], b"x")])) is MtomErrorCode.MALFORMED_HEADER


def test_continuation_line_first():
    data = build([(DOC_HEADERS, b"x")]).replace(
        b"--MIMEBoundary_abc\r\n", b"--MIMEBoundary_abc\r\n folded\r\n", 1
    )
    assert error_code(data) is MtomErrorCode.MALFORMED_HEADER


def test_too_many_parts():
    parts = [([("Content-ID", f"<p{i}>")], b"x") for i in range(6)]
    assert error_code(build(parts), max_parts=5) is MtomErrorCode.TOO_MANY_PARTS
    assert len(parse(build(parts[:5]), max_parts=5)) == 15


def test_close_delimiter_without_any_part():
    assert error_code(b"preamble\r\n--MIMEBoundary_abc--\r\n") is MtomErrorCode.NO_PARTS


def test_empty_boundary():
    with pytest.raises(MtomError) as info:
        MultipartParser(b"")
    assert info.value.code is MtomErrorCode.MISSING_BOUNDARY


def test_parser_stays_failed():
    parser = MultipartParser(BOUNDARY, max_parts=1)
    with pytest.raises(MtomError):
        parser.feed(BASELINE)
    for call in (lambda: parser.feed(b"more"), parser.close):
        with pytest.raises(MtomError) as info:
            call()
        assert info.value.code is MtomErrorCode.TOO_MANY_PARTS


# -- fuzz: whatever comes in, only MtomError comes out


def _feed_all(data: bytes, cuts: list[int]) -> None:
    with contextlib.suppress(MtomError):
        parse(data, cuts, max_header_bytes=256, max_parts=20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=8))
def test_fuzz_random_bytes(data, cuts):
    _feed_all(data, [c for c in cuts if c <= len(data)])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 400), max_size=8))
def test_fuzz_random_bytes_after_a_delimiter(data, cuts):
    data = b"--MIMEBoundary_abc" + data
    _feed_all(data, [c for c in cuts if c <= len(data)])


MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]), st.integers(0, 10_000), st.binary(max_size=6)
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(TRICKY),
    st.lists(MUTATION, min_size=1, max_size=4),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_fuzz_mutated_messages(message, mutations, cuts):
    data = bytearray(message)
    for kind, pos, chunk in mutations:
        pos %= len(data) + 1
        if kind == "flip" and pos < len(data):
            data[pos] ^= 1 << (pos % 8)
        elif kind == "insert":
            data[pos:pos] = chunk or b"\n"
        else:
            del data[pos : pos + len(chunk) + 1]
    _feed_all(bytes(data), [c for c in cuts if c <= len(data)])


# -- real captures (skipped without ../shared)


def boundary_from_first_delimiter(body: bytes) -> bytes:
    """The boundary as the body's first delimiter line spells it (some capture headers do not match)."""
    match = re.search(rb"^--(\S+?)[ \t]*\r?$", body, re.MULTILINE)
    assert match, "no delimiter line"
    return match.group(1)


def http_body(raw: bytes) -> bytes:
    """Strip the logged HTTP request/response head ("DefaultHttpRequest(...)" and headers) of a capture."""
    return raw.partition(b"\n\n")[2] if raw.startswith(b"DefaultHttp") else raw


NIST_BODIES = sorted(NIST_PNR_XOP.glob("**/body.txt")) if NIST_PNR_XOP.is_dir() else []
EHS_MULTIPART = (
    [p for p in sorted(EHS_SAMPLES.glob("*_raw.xml")) if b"\n--" in p.read_bytes()]
    if (EHS_SAMPLES.is_dir())
    else []
)


@pytest.mark.skipif(not NIST_BODIES, reason="conformance corpus (../shared) not present")
@pytest.mark.parametrize("path", NIST_BODIES, ids=lambda p: p.parent.name)
def test_nist_pnr_xop_bodies(path):
    body = path.read_bytes()
    boundary = boundary_from_first_delimiter(body)
    parts = parts_of(parse(body, boundary=boundary))
    assert parts and all("content-id" in headers for headers, _ in parts)
    assert parts[0][0]["content-type"].startswith("application/xop+xml")
    assert parts[0][1].lstrip().startswith(b"<")
    cuts = list(range(0, len(body), 97))
    assert parse(body, cuts, boundary=boundary) == parse(body, boundary=boundary)


@pytest.mark.skipif(not EHS_MULTIPART, reason="conformance corpus (../shared) not present")
@pytest.mark.parametrize("path", EHS_MULTIPART, ids=lambda p: p.name)
def test_ehealthsuisse_raw_captures(path):
    body = http_body(path.read_bytes())
    parts = parts_of(parse(body, boundary=boundary_from_first_delimiter(body)))
    assert parts[0][0]["content-id"] == "<root.message@cxf.apache.org>"
    assert b"Envelope" in parts[0][1]

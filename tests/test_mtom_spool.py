"""From multipart bytes to an MtomMessage: root selection, spooling, hashing, errors that leave no file."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xds.model.attachment import Attachment
from xds.mtom import (
    MtomError,
    MtomErrorCode,
    MultipartParser,
    PartSpooler,
    read_mtom,
    read_mtom_sync,
    resolve_xop_href,
)

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
NIST_PNR_XOP = SHARED / "conformance" / "nist-testkit" / "tests" / "PnrXop"
EHS_ITI41 = SHARED / "conformance" / "extra-samples" / "ehealthsuisse-EPR-by-example" / "samples"

BOUNDARY = "MIMEBoundary_abc"
CONTENT_TYPE = (
    f'multipart/related; boundary="{BOUNDARY}"; type="application/xop+xml"; start="<root@x>"; '
    'start-info="application/soap+xml"; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"'
)
ROOT_TYPE = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
ROOT_XML = b'<Envelope><Document><xop:Include href="cid:doc1@x"/></Document></Envelope>'
DOC1 = b"%PDF-1.4\r\n" + bytes(range(256)) * 8
DOC2 = b"second document\n"
SMALL = 1024  # memory threshold used in tests: DOC1 (2 KiB) is spooled, DOC2 stays in memory


def root_part(**override: str) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Type": ROOT_TYPE, "Content-Transfer-Encoding": "binary", "Content-ID": "<root@x>"}
    return {**headers, **override}, ROOT_XML


def doc_part(cid: str = "<doc1@x>", body: bytes = DOC1, **override: str) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": "application/pdf", "Content-ID": cid, **override}, body


def build(parts: list[tuple[dict[str, str], bytes]], boundary: str = BOUNDARY) -> bytes:
    out = []
    for headers, body in parts:
        out.append(f"--{boundary}\r\n".encode())
        out += [f"{k}: {v}\r\n".encode() for k, v in headers.items() if v is not None]
        out += [b"\r\n", body, b"\r\n"]
    return b"".join(out) + f"--{boundary}--\r\n".encode()


BASELINE_PARTS = [root_part(), doc_part(), doc_part("<doc2@x>", DOC2, **{"Content-Type": "text/plain"})]
BASELINE = build(BASELINE_PARTS)


def chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def read(data: bytes, spool: Path, content_type: str = CONTENT_TYPE, **kwargs):
    kwargs.setdefault("memory_threshold", SMALL)
    return read_mtom_sync(chunks(data), content_type, spool, **kwargs)


def failure(data: bytes, spool: Path, content_type: str = CONTENT_TYPE, **kwargs) -> MtomErrorCode:
    """Read, expect an MtomError, and check that no spooled file is left behind."""
    kwargs.setdefault("memory_threshold", 0)  # every attachment goes to a file before the error
    with pytest.raises(MtomError) as info:
        read_mtom_sync(chunks(data, 64), content_type, spool, **kwargs)
    assert not spool.exists() or list(spool.iterdir()) == []
    return info.value.code


def test_baseline_message(tmp_path):
    message = read(BASELINE, tmp_path)
    assert message.root == ROOT_XML
    assert message.root_content_type == ROOT_TYPE
    assert message.root_content_id == "root@x"
    assert list(message.attachments) == ["doc1@x", "doc2@x"]
    doc1, doc2 = message.attachments["doc1@x"], message.attachments["doc2@x"]
    assert (doc1.size, doc1.sha1, doc1.content_type) == (
        len(DOC1),
        hashlib.sha1(DOC1).hexdigest(),
        "application/pdf",
    )
    assert doc1.path is not None and doc1.path.parent == tmp_path and doc1.read() == DOC1
    assert doc1.content_id == "doc1@x"
    assert (doc2.data, doc2.size, doc2.sha1) == (DOC2, len(DOC2), hashlib.sha1(DOC2).hexdigest())
    assert doc2.content_type == "text/plain"
    message.discard()
    assert list(tmp_path.iterdir()) == []


def test_root_named_by_start_need_not_be_first(tmp_path):
    message = read(build([doc_part(), root_part()]), tmp_path)
    assert message.root == ROOT_XML and list(message.attachments) == ["doc1@x"]


def test_without_start_the_first_part_is_root(tmp_path):
    content_type = f'multipart/related; boundary={BOUNDARY}; type="application/xop+xml"'
    message = read(build([root_part(**{"Content-ID": None}), doc_part()]), tmp_path, content_type)
    assert message.root == ROOT_XML and message.root_content_id is None


def test_start_without_angle_brackets(tmp_path):
    message = read(BASELINE, tmp_path, CONTENT_TYPE.replace('start="<root@x>"', "start=root@x"))
    assert message.root == ROOT_XML


@pytest.mark.parametrize(
    "root_type", ["application/soap+xml; charset=utf-8", "text/xml", "Application/XOP+XML"]
)
def test_plain_soap_root_types_accepted(tmp_path, root_type):
    assert read(build([root_part(**{"Content-Type": root_type}), doc_part()]), tmp_path).root == ROOT_XML


def test_attachment_without_or_with_invalid_content_type_is_text_plain(tmp_path):
    # RFC 2045 5.2
    data = build(
        [
            root_part(),
            doc_part(**{"Content-Type": None}),
            doc_part("<doc2@x>", DOC2, **{"Content-Type": "pdf"}),
        ]
    )
    assert [a.content_type for a in read(data, tmp_path).attachments.values()] == ["text/plain", "text/plain"]


def test_attachment_at_threshold_stays_in_memory(tmp_path):
    message = read(BASELINE, tmp_path, memory_threshold=len(DOC1))
    assert message.attachments["doc1@x"].data == DOC1
    assert list(tmp_path.iterdir()) == []


def test_memory_budget_spools_many_small_attachments(tmp_path):
    parts = [root_part()] + [doc_part(f"<d{i}@x>", DOC2) for i in range(10)]
    spooler = PartSpooler(tmp_path, start="<root@x>", memory_threshold=100, memory_budget=5 * len(DOC2))
    parser = MultipartParser(BOUNDARY.encode())
    spooler.handle(parser.feed(build(parts)))
    spooler.handle(parser.close())
    attachments = spooler.finish().attachments
    assert [a.data is not None for a in attachments.values()] == [True] * 5 + [False] * 5
    assert all(a.read() == DOC2 for a in attachments.values())


def test_base64_part_is_decoded(tmp_path):
    encoded = base64.encodebytes(DOC1)  # RFC 2045 6.8: lines of 76 characters
    message = read(
        build([root_part(), doc_part(body=encoded, **{"Content-Transfer-Encoding": "BASE64"})]), tmp_path
    )
    doc = message.attachments["doc1@x"]
    assert (doc.read(), doc.size, doc.sha1) == (DOC1, len(DOC1), hashlib.sha1(DOC1).hexdigest())


def test_base64_root_is_decoded(tmp_path):
    encoded = base64.b64encode(ROOT_XML)
    message = read(build([(root_part(**{"Content-Transfer-Encoding": "base64"})[0], encoded)]), tmp_path)
    assert message.root == ROOT_XML


@pytest.mark.parametrize("encoding", ["7bit", "8bit", "binary", None])
def test_identity_transfer_encodings(tmp_path, encoding):
    message = read(build([root_part(), doc_part(**{"Content-Transfer-Encoding": encoding})]), tmp_path)
    assert message.attachments["doc1@x"].read() == DOC1


# -- the same message whatever the chunking


def _snapshot(message) -> tuple:
    return (
        message.root,
        message.root_content_type,
        [
            (cid, a.size, a.sha1, a.content_type, a.read(), a.data is None)
            for cid, a in message.attachments.items()
        ],
    )


BASE64_MESSAGE = build(
    [root_part(), doc_part(body=base64.encodebytes(DOC1), **{"Content-Transfer-Encoding": "base64"})]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([BASELINE, BASE64_MESSAGE]), st.lists(st.integers(1, 3000), min_size=1, max_size=20))
def test_random_chunking_gives_the_same_message(tmp_path_factory, data, sizes):
    spool = tmp_path_factory.mktemp("spool")
    pieces, pos = [], 0
    for size in sizes * (len(data) // sum(sizes) + 1):
        pieces.append(data[pos : pos + size])
        pos += size
    message = read_mtom_sync(pieces, CONTENT_TYPE, spool, memory_threshold=SMALL)
    reference = read_mtom_sync([data], CONTENT_TYPE, spool, memory_threshold=SMALL)
    assert _snapshot(message) == _snapshot(reference)
    message.discard()
    reference.discard()


# -- errors: each breaks one thing, asserts the code, and leaves the spool directory empty


def test_not_multipart(tmp_path):
    assert failure(BASELINE, tmp_path, "application/soap+xml; charset=utf-8") is MtomErrorCode.NOT_MULTIPART


def test_missing_boundary_parameter(tmp_path):
    content_type = CONTENT_TYPE.replace(f'boundary="{BOUNDARY}"; ', "")
    assert failure(BASELINE, tmp_path, content_type) is MtomErrorCode.MISSING_BOUNDARY


def test_boundary_not_in_body(tmp_path):
    assert (
        failure(BASELINE, tmp_path, CONTENT_TYPE.replace(BOUNDARY, "Other"))
        is MtomErrorCode.BOUNDARY_NOT_FOUND
    )


def test_truncated(tmp_path):
    assert failure(BASELINE[: len(BASELINE) - 40], tmp_path) is MtomErrorCode.TRUNCATED


def test_truncated_after_attachment_was_spooled(tmp_path):
    assert failure(BASELINE[: BASELINE.index(DOC2)], tmp_path) is MtomErrorCode.TRUNCATED


def test_header_block_too_big(tmp_path):
    data = build([root_part(), doc_part(), doc_part("<doc2@x>", DOC2, **{"X-Big": "x" * 17_000})])
    assert failure(data, tmp_path) is MtomErrorCode.HEADER_TOO_LARGE


def test_malformed_header_line(tmp_path):
    data = build([root_part(), doc_part(), doc_part("<doc2@x>", DOC2, **{"X-Bad": "1"})])
    assert failure(data.replace(b"X-Bad: 1", b"X-Bad 1"), tmp_path) is MtomErrorCode.MALFORMED_HEADER


def test_part_without_content_id(tmp_path):
    data = build([root_part(), doc_part(), doc_part(None, DOC2)])  # type: ignore[arg-type]
    assert failure(data, tmp_path) is MtomErrorCode.MISSING_CONTENT_ID


def test_duplicate_content_id(tmp_path):
    assert (
        failure(build([root_part(), doc_part(), doc_part()]), tmp_path) is MtomErrorCode.DUPLICATE_CONTENT_ID
    )


def test_attachment_with_the_root_content_id(tmp_path):
    assert failure(build([root_part(), doc_part("<root@x>")]), tmp_path) is MtomErrorCode.DUPLICATE_CONTENT_ID


def test_too_many_parts(tmp_path):
    parts = [root_part()] + [doc_part(f"<d{i}@x>", b"") for i in range(10_000)]
    assert failure(build(parts), tmp_path) is MtomErrorCode.TOO_MANY_PARTS


def test_root_missing(tmp_path):
    assert (
        failure(BASELINE, tmp_path, CONTENT_TYPE.replace("<root@x>", "<other@x>"))
        is MtomErrorCode.ROOT_MISSING
    )


def test_root_too_large(tmp_path):
    assert failure(BASELINE, tmp_path, max_root_bytes=len(ROOT_XML) - 1) is MtomErrorCode.ROOT_TOO_LARGE


def test_root_of_wrong_type(tmp_path):
    data = build([root_part(**{"Content-Type": "application/pdf"}), doc_part()])
    assert failure(data, tmp_path) is MtomErrorCode.ROOT_CONTENT_TYPE


def test_quoted_printable_refused(tmp_path):
    data = build([root_part(), doc_part(**{"Content-Transfer-Encoding": "quoted-printable"})])
    assert failure(data, tmp_path) is MtomErrorCode.UNSUPPORTED_TRANSFER_ENCODING


def test_bad_base64(tmp_path):
    data = build([root_part(), doc_part(body=b"QUJD*QUJD", **{"Content-Transfer-Encoding": "base64"})])
    assert failure(data, tmp_path) is MtomErrorCode.BAD_BASE64


def test_base64_cut_inside_a_quad(tmp_path):
    data = build([root_part(), doc_part(body=b"QUJDRA", **{"Content-Transfer-Encoding": "base64"})])
    assert failure(data, tmp_path) is MtomErrorCode.BAD_BASE64


def test_base64_data_after_padding(tmp_path):
    data = build([root_part(), doc_part(body=b"QQ==\r\nQUJD", **{"Content-Transfer-Encoding": "base64"})])
    assert failure(data, tmp_path) is MtomErrorCode.BAD_BASE64


def test_spooler_discards_on_error(tmp_path):
    spooler = PartSpooler(tmp_path, start="<root@x>", memory_threshold=0)
    parser = MultipartParser(BOUNDARY.encode())
    spooler.handle(parser.feed(BASELINE[: BASELINE.index(DOC2)]))
    assert len(list(tmp_path.iterdir())) == 1
    with pytest.raises(MtomError):
        spooler.handle(parser.feed(b"\r\n--MIMEBoundary_abc\r\nContent-ID: <doc1@x>\r\n\r\n"))
    assert list(tmp_path.iterdir()) == []


# -- fuzz: mutated messages fail with MtomError only, and leave nothing behind

MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]), st.integers(0, 10_000), st.binary(max_size=6)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([BASELINE, BASE64_MESSAGE]), st.lists(MUTATION, min_size=1, max_size=4))
def test_fuzz_mutated_messages(tmp_path_factory, message, mutations):
    spool = tmp_path_factory.mktemp("spool")
    data = bytearray(message)
    for kind, pos, chunk in mutations:
        pos %= len(data) + 1
        if kind == "flip" and pos < len(data):
            data[pos] ^= 1 << (pos % 8)
        elif kind == "insert":
            data[pos:pos] = chunk or b"\r\n"
        else:
            del data[pos : pos + len(chunk) + 1]
    with contextlib.suppress(MtomError):
        read_mtom_sync(chunks(bytes(data), 50), CONTENT_TYPE, spool, memory_threshold=0).discard()
    assert list(spool.iterdir()) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60), st.binary(max_size=200))
def test_fuzz_content_type_and_body(tmp_path_factory, content_type, body):
    spool = tmp_path_factory.mktemp("spool")
    with contextlib.suppress(MtomError):
        read_mtom_sync([body], content_type, spool).discard()
    assert not spool.exists() or list(spool.iterdir()) == []


# -- big attachment: streamed to disk, memory stays flat


def test_big_attachment_is_spooled_with_flat_memory(tmp_path):
    size = 20 * 1024 * 1024
    block = bytes(range(256)) * 256  # 64 KiB
    head = build([root_part()])[: -len(f"--{BOUNDARY}--\r\n")]
    head += f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\nContent-ID: <big@x>\r\n\r\n".encode()
    expected = hashlib.sha1()

    def stream() -> Iterator[bytes]:
        yield head
        for _ in range(size // len(block)):
            expected.update(block)
            yield block
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    tracemalloc.start()
    try:
        message = read_mtom_sync(stream(), CONTENT_TYPE, tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    big = message.attachments["big@x"]
    assert (big.size, big.sha1, big.data) == (size, expected.hexdigest(), None)
    assert big.path is not None and big.path.stat().st_size == size
    assert peak < 4 * 1024 * 1024  # 1 MiB memory threshold + a few chunks, not 20 MB
    message.discard()


# -- async reading


async def _agen(data: bytes, size: int) -> AsyncIterator[bytes]:
    for piece in chunks(data, size):
        yield piece


def test_read_mtom_async(tmp_path):
    async def main():
        return await read_mtom(_agen(BASELINE, 100), CONTENT_TYPE, tmp_path, memory_threshold=SMALL)

    message = anyio.run(main)
    assert _snapshot(message) == _snapshot(read(BASELINE, tmp_path))


def test_read_mtom_async_error_leaves_nothing(tmp_path):
    async def main():
        await read_mtom(_agen(BASELINE[:-40], 100), CONTENT_TYPE, tmp_path, memory_threshold=0)

    with pytest.raises(MtomError) as info:
        anyio.run(main)
    assert info.value.code is MtomErrorCode.TRUNCATED
    assert list(tmp_path.iterdir()) == []


# -- xop:Include/@href (XOP 1.0 3.2, RFC 2392)


def test_resolve_xop_href():
    doc = Attachment.from_bytes(b"x")
    attachments = {"fdf9-1@urn:ihe:iti:xds-b:2007": doc}
    assert resolve_xop_href("cid:fdf9-1@urn%3Aihe%3Aiti%3Axds-b%3A2007", attachments) is doc
    assert resolve_xop_href("CID:fdf9-1@urn:ihe:iti:xds-b:2007", attachments) is doc


@pytest.mark.parametrize("href", ["cid:other@x", "http://example.org/doc", "doc1@x", ""])
def test_resolve_xop_href_unresolved(href):
    with pytest.raises(MtomError) as info:
        resolve_xop_href(href, {"doc1@x": Attachment.from_bytes(b"x")})
    assert info.value.code is MtomErrorCode.UNRESOLVED_XOP_HREF


# -- real captures (skipped without ../shared)


def capture_content_type(body: bytes) -> str:
    """Content type for a capture, its boundary taken from the body's first delimiter line."""
    match = re.search(rb"^--(\S+?)[ \t]*\r?$", body, re.MULTILINE)
    assert match
    return f'multipart/related; boundary="{match.group(1).decode()}"; type="application/xop+xml"'


NIST_XOP = [NIST_PNR_XOP / name / "body.txt" for name in ("Xop", "encodedURL")]


@pytest.mark.skipif(
    not all(p.is_file() for p in NIST_XOP), reason="conformance corpus (../shared) not present"
)
@pytest.mark.parametrize("path", NIST_XOP, ids=lambda p: p.parent.name)
def test_nist_pnr_xop_resolves_its_include(tmp_path, path):
    body = path.read_bytes()
    message = read_mtom_sync(chunks(body, 1000), capture_content_type(body), tmp_path)
    href = re.search(rb'href="([^"]+)"', message.root).group(1).decode()
    document = resolve_xop_href(href, message.attachments)
    assert document.read().startswith(b"This is my document.")
    assert document.content_type == "text/plain"


@pytest.mark.skipif(not (EHS_ITI41 / "ITI-41_request_raw.xml").is_file(), reason="../shared not present")
def test_ehealthsuisse_iti41_capture(tmp_path):
    raw = (EHS_ITI41 / "ITI-41_request_raw.xml").read_bytes()
    body = raw.partition(b"\n\n")[2]  # after the logged HTTP head; its boundary does not match the body
    message = read_mtom_sync(chunks(body, 4096), capture_content_type(body), tmp_path)
    assert message.root_content_id == "root.message@cxf.apache.org"
    ((cid, doc),) = message.attachments.items()
    assert cid == "8ba22b9e-fcff-49d8-945e-438a11f25b0f-1@urn:ihe:iti:xds-b:2007"
    assert doc.content_type == "application/fhir+json" and doc.read().lstrip().startswith(b"{")


@pytest.mark.skipif(not (EHS_ITI41 / "ITI-41_response_raw.xml").is_file(), reason="../shared not present")
def test_ehealthsuisse_iti41_response_with_its_http_content_type(tmp_path):
    head, _, body = (EHS_ITI41 / "ITI-41_response_raw.xml").read_bytes().partition(b"\n\n")
    content_type = re.search(rb"^Content-Type: (.*)$", head, re.MULTILINE | re.IGNORECASE).group(1).decode()
    message = read_mtom_sync(chunks(body, 100), content_type, tmp_path)
    assert message.root_content_id == "root.message@cxf.apache.org"
    assert b"RegistryResponse" in message.root and message.attachments == {}

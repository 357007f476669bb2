"""The MTOM writer: what it streams is what the parser reads back."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xds.model.attachment import Attachment
from xds.mtom import (
    aiter_mtom,
    iter_mtom,
    mtom_content_type,
    new_boundary,
    parse_content_type,
    read_mtom_sync,
    resolve_xop_href,
)

ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
START = "root.message@xds.example.org"
ROOT_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    b'<s:Body><Document><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:doc-1%40x"/>'
    b"</Document></s:Body></s:Envelope>"
)


def memory_attachment(data: bytes, cid: str, content_type: str = "application/pdf") -> Attachment:
    return replace(Attachment.from_bytes(data, content_type), content_id=cid)


def file_attachment(path: Path, data: bytes, cid: str) -> Attachment:
    path.write_bytes(data)
    return replace(Attachment.from_file(path, "application/dicom"), content_id=cid)


def round_trip(attachments, spool: Path, chunk_size: int = 64 * 1024, feed_size: int = 1000):
    boundary = new_boundary()
    body = b"".join(iter_mtom(ROOT_XML, attachments, boundary, START, chunk_size))
    pieces = [body[i : i + feed_size] for i in range(0, len(body), feed_size)]
    return body, read_mtom_sync(
        pieces, mtom_content_type(boundary, START, ACTION), spool, memory_threshold=4096
    )


def test_new_boundary_is_fresh_and_valid():
    boundaries = {new_boundary() for _ in range(100)}
    assert len(boundaries) == 100
    assert all(1 <= len(b) <= 70 for b in boundaries)


def test_content_type_parameters():
    mime, params = parse_content_type(mtom_content_type("uuid:abc+id=1", START, ACTION))
    assert mime == "multipart/related"
    assert params == {
        "boundary": "uuid:abc+id=1",
        "type": "application/xop+xml",
        "start": f"<{START}>",
        "start-info": "application/soap+xml",
        "action": ACTION,
    }


def test_content_type_without_action():
    assert "action" not in parse_content_type(mtom_content_type("b", START, None))[1]


def test_round_trip_memory_and_file_attachments(tmp_path):
    small = memory_attachment(b"report text\r\n--not a boundary\r\n", "doc-1@x", "text/plain")
    big_data = os.urandom(300_000)
    big = file_attachment(tmp_path / "study.dcm", big_data, "doc-2@x")
    spool = tmp_path / "spool"
    _, message = round_trip([small, big], spool, chunk_size=7000, feed_size=999)
    assert message.root == ROOT_XML
    assert message.root_content_id == START
    assert message.root_content_type == 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
    got_small, got_big = message.attachments["doc-1@x"], message.attachments["doc-2@x"]
    assert (got_small.read(), got_small.sha1, got_small.size) == (small.read(), small.sha1, small.size)
    assert got_small.content_type == "text/plain"
    assert (
        (got_big.sha1, got_big.size) == (big.sha1, big.size) == (hashlib.sha1(big_data).hexdigest(), 300_000)
    )
    assert got_big.path is not None and got_big.path.parent == spool
    assert resolve_xop_href("cid:doc-1%40x", message.attachments) is got_small


def test_round_trip_without_attachments_and_with_an_empty_one(tmp_path):
    _, message = round_trip([], tmp_path)
    assert message.root == ROOT_XML and message.attachments == {}
    _, message = round_trip([memory_attachment(b"", "empty@x")], tmp_path)
    assert message.attachments["empty@x"].size == 0


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=5000), max_size=4), st.integers(1, 4096), st.integers(1, 3000))
def test_round_trip_any_content(tmp_path_factory, contents, chunk_size, feed_size):
    spool = tmp_path_factory.mktemp("spool")
    attachments = [memory_attachment(data, f"doc-{i}@x") for i, data in enumerate(contents)]
    _, message = round_trip(attachments, spool, chunk_size, feed_size)
    assert [(a.content_id, a.read()) for a in message.attachments.values()] == [
        (f"doc-{i}@x", data) for i, data in enumerate(contents)
    ]
    message.discard()


def test_file_attachment_is_streamed_in_chunks(tmp_path):
    attachment = file_attachment(tmp_path / "a.bin", os.urandom(200_000), "a@x")
    pieces = list(iter_mtom(ROOT_XML, [attachment], "b", START, chunk_size=50_000))
    assert max(len(p) for p in pieces) <= max(50_000, len(ROOT_XML))


def test_async_writer_gives_the_same_bytes(tmp_path):
    attachments = [
        memory_attachment(os.urandom(10_000), "m@x"),
        file_attachment(tmp_path / "f.bin", os.urandom(150_000), "f@x"),
    ]

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in aiter_mtom(ROOT_XML, attachments, "bnd", START, 4096)])

    assert anyio.run(collect) == b"".join(iter_mtom(ROOT_XML, attachments, "bnd", START, 4096))


def test_attachment_without_content_id_is_refused():
    with pytest.raises(ValueError):
        iter_mtom(ROOT_XML, [Attachment.from_bytes(b"x")], "b", START)


@pytest.mark.parametrize("cid", ["a>\r\nX-Injected: 1", "a<b", 'a"b'])
def test_content_id_that_would_break_the_header_is_refused(cid):
    with pytest.raises(ValueError):
        iter_mtom(ROOT_XML, [memory_attachment(b"x", cid)], "b", START)


@pytest.mark.parametrize("boundary", ["", "x" * 71, "ends with space ", "bad\r\nline"])
def test_invalid_boundary_is_refused(boundary):
    with pytest.raises(ValueError):
        mtom_content_type(boundary, START, ACTION)

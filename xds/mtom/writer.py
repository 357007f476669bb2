"""Writing MTOM/XOP packages as a stream of chunks: the root in memory, attachments read from their files.

The output is what ``read_mtom`` parses: a multipart/related body (RFC 2387) whose root part is the
application/xop+xml SOAP envelope (XOP 1.0 4.1, SOAP 1.2 MTOM 3.2) and one binary part per attachment.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence

from xds.files import READ_BLOCK, read_blocks
from xds.model.attachment import Attachment

# SOAP 1.2 MTOM 3.2 / XOP 1.0 4.1: the root part carries the SOAP envelope as application/xop+xml
ROOT_PART_TYPE = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
# RFC 2046 5.1.1: bchars, 1 to 70 of them, not ending in a space
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# header values we write must stay on one line (no header injection through a Content-ID)
_HEADER_VALUE = re.compile(r"[\x20-\x7e]+")


def new_boundary() -> str:
    """A fresh random boundary; 192 random bits make a clash with content practically impossible."""
    return f"MIMEBoundary_{secrets.token_hex(24)}"


def mtom_content_type(boundary: str, start_id: str, action: str | None) -> str:
    """The HTTP Content-Type of an MTOM package (SOAP 1.2 MTOM 3.2, RFC 2387 3.1-3.3)."""
    _check_boundary(boundary)
    _check_id(start_id)
    value = (
        f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; '
        f'start="<{start_id}>"; start-info="application/soap+xml"'
    )
    if action:
        _check_id(action)
        # SOAP 1.2 Part 2 7.1.4 / ITI TF-2x V.3.6: the SOAP action travels as a media type parameter
        value += f'; action="{action}"'
    return value


def iter_mtom(
    root_xml: bytes,
    attachments: Sequence[Attachment],
    boundary: str,
    start_id: str,
    chunk_size: int = 64 * 1024,
) -> Iterator[bytes]:
    """Yield the multipart body; file attachments are read in ``chunk_size`` pieces.

    Arguments are checked at the call (``ValueError``), before the first byte goes out.
    """
    root_head = _root_head(boundary, start_id)
    heads = _part_heads(attachments, boundary)
    return _iter_mtom(root_head, root_xml, attachments, heads, boundary, chunk_size)


def _iter_mtom(
    root_head: bytes,
    root_xml: bytes,
    attachments: Sequence[Attachment],
    heads: list[bytes],
    boundary: str,
    chunk_size: int,
) -> Iterator[bytes]:
    yield root_head
    yield root_xml
    for attachment, head in zip(attachments, heads, strict=True):
        yield head
        yield from attachment.iter_chunks(chunk_size)
    yield _close(boundary)


async def aiter_mtom(
    root_xml: bytes,
    attachments: Sequence[Attachment],
    boundary: str,
    start_id: str,
    chunk_size: int = 64 * 1024,
) -> AsyncIterator[bytes]:
    """``iter_mtom`` for the event loop: files are opened and read in a worker thread.

    Pieces are at most ``chunk_size`` long; files are read by xds.files.read_blocks, ``READ_BLOCK`` (or
    ``chunk_size`` when larger) per worker-thread trip.
    """
    root_head = _root_head(boundary, start_id)
    heads = _part_heads(attachments, boundary)
    block = max(chunk_size, READ_BLOCK)
    yield root_head
    yield root_xml
    for attachment, head in zip(attachments, heads, strict=True):
        yield head
        if attachment.data is not None:
            view = memoryview(attachment.data)
            for offset in range(0, len(view), chunk_size):
                yield bytes(view[offset : offset + chunk_size])
            continue
        async for data in read_blocks(attachment.open, block):
            if len(data) <= chunk_size:
                yield data
                continue
            view = memoryview(data)
            for offset in range(0, len(view), chunk_size):
                yield bytes(view[offset : offset + chunk_size])
    yield _close(boundary)


def _root_head(boundary: str, start_id: str) -> bytes:
    _check_boundary(boundary)
    _check_id(start_id)
    # RFC 2046 5.1.1: dash-boundary CRLF, the part headers, an empty line, the content
    return (
        f"--{boundary}\r\nContent-Type: {ROOT_PART_TYPE}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{start_id}>\r\n\r\n"
    ).encode("ascii")


def _part_heads(attachments: Sequence[Attachment], boundary: str) -> list[bytes]:
    """The delimiter and headers before each attachment, checked before the first byte goes out."""
    heads = []
    for attachment in attachments:
        if not attachment.content_id:
            raise ValueError("every MTOM attachment needs a content_id")
        _check_id(attachment.content_id)
        _check_header_value(attachment.content_type)
        # XOP 1.0 4.1: the extracted content travels as a binary part named by its Content-ID
        heads.append(
            (
                f"\r\n--{boundary}\r\nContent-Type: {attachment.content_type}\r\n"
                f"Content-Transfer-Encoding: binary\r\nContent-ID: <{attachment.content_id}>\r\n\r\n"
            ).encode("ascii")
        )
    return heads


def _close(boundary: str) -> bytes:
    # RFC 2046 5.1.1: close-delimiter := CRLF "--" boundary "--"
    return f"\r\n--{boundary}--\r\n".encode("ascii")


def _check_boundary(boundary: str) -> None:
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"invalid MIME boundary {boundary!r}")


def _check_header_value(value: str) -> None:
    if not _HEADER_VALUE.fullmatch(value):
        raise ValueError(f"value not fit for a MIME header: {value!r}")


def _check_id(value: str) -> None:
    """A Content-ID or action goes between <> or quotes: it must not hold them itself."""
    _check_header_value(value)
    if any(c in value for c in '"<>\\'):
        raise ValueError(f"value not fit for a MIME header: {value!r}")

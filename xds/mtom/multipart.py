"""Sans-IO parser of a MIME multipart body (RFC 2046 5.1.1), the framing of every MTOM/XOP package.

Bytes go in, in chunks of any size, and events come out; no sockets, no files (DESIGN principle 6). The
scan is O(n): ``bytes.find`` for the delimiter, a look-behind of ``len(boundary) + 3`` bytes kept between
chunks, nothing consumed is ever scanned again, and no Python loop runs per byte of body.

Tolerated beyond the letter of RFC 2046, because real stacks send it: bare LF instead of CRLF (in headers
and before delimiters), a delimiter at the very start of the stream, transport padding after boundaries,
anything at all after the close delimiter. A line that starts with the delimiter but goes on with other
characters is body data, not a delimiter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from xds.mtom.errors import MtomError, MtomErrorCode

_CR = 0x0D
_PADDING = re.compile(rb"[ \t]*")
# RFC 5322 2.2: a field name is printable US-ASCII except the colon
_FIELD_NAME = re.compile(rb"[!-9;-~]+")
# transport padding (RFC 2046 5.1.1) is never this long in practice; bounding it bounds the buffer
_MAX_PADDING = 1024


@dataclass(frozen=True, slots=True)
class PartStart:
    headers: dict[str, str]  # names lower-cased; values with folding undone


@dataclass(frozen=True, slots=True)
class PartData:
    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


class _State(Enum):
    PREAMBLE = auto()
    HEADERS = auto()
    BODY = auto()
    EPILOGUE = auto()
    FAILED = auto()


class _Line(Enum):
    WAIT = auto()  # not enough bytes to tell yet
    NOT_DELIMITER = auto()
    DELIMITER = auto()
    CLOSE = auto()


class MultipartParser:
    """Turns the bytes of a multipart body into ``PartStart``, ``PartData``\\*, ``PartEnd`` per part."""

    def __init__(
        self,
        boundary: bytes,
        *,
        max_header_bytes: int = 16 * 1024,
        max_parts: int = 10_000,
        max_preamble_bytes: int = 64 * 1024,
    ) -> None:
        # RFC 2046 5.1.1: boundary := 0*69<bchars> bcharsnospace (one line, never empty)
        if not boundary or b"\n" in boundary or b"\r" in boundary:
            raise MtomError("empty or multi-line MIME boundary", MtomErrorCode.MISSING_BOUNDARY)
        # RFC 2046 5.1.1: delimiter := CRLF dash-boundary; the CR is optional here (bare-LF captures)
        self._delimiter = b"\n--" + bytes(boundary)
        self._max_header_bytes = max_header_bytes
        self._max_parts = max_parts
        self._max_preamble_bytes = max_preamble_bytes
        # RFC 2046 5.1.1: the first dash-boundary may open the body: a synthetic LF lets one search find it
        self._buf = bytearray(b"\n")
        self._skip = 1  # leading bytes of _buf that are not content (the synthetic LF)
        self._state = _State.PREAMBLE
        self._error: MtomError | None = None
        self._preamble_bytes = 0
        self._parts = 0
        self._headers: dict[str, str] = {}
        self._last_header: str | None = None
        self._header_bytes = 0
        self._line_from = 0

    @property
    def done(self) -> bool:
        """True once the close delimiter has been seen; whatever follows is epilogue."""
        return self._state is _State.EPILOGUE

    def feed(self, data: bytes) -> list[Event]:
        if self._state is _State.FAILED:
            assert self._error is not None
            raise self._error
        if self._state is _State.EPILOGUE:
            return []  # RFC 2046 5.1.1: the epilogue is to be ignored
        self._buf += data
        events: list[Event] = []
        try:
            while self._step(events):
                pass
        except MtomError as exc:
            self._fail(exc)
        return events

    def close(self) -> list[Event]:
        """End of input: an ``MtomError`` unless the close delimiter came."""
        if self._state is _State.FAILED:
            assert self._error is not None
            raise self._error
        if self._state is _State.EPILOGUE:
            return []
        if self._state is _State.PREAMBLE:
            self._fail(MtomError("MIME boundary not found in the body", MtomErrorCode.BOUNDARY_NOT_FOUND))
        # RFC 2046 5.1.1: a multipart body ends with the close delimiter "--boundary--"
        self._fail(MtomError("multipart body truncated: no close delimiter", MtomErrorCode.TRUNCATED))
        raise AssertionError("unreachable")

    def _fail(self, exc: MtomError) -> None:
        self._state = _State.FAILED
        self._error = exc
        self._buf = bytearray()
        raise exc

    def _step(self, events: list[Event]) -> bool:
        if self._state is _State.HEADERS:
            return self._header_block(events)
        if self._state is _State.EPILOGUE:
            self._buf = bytearray()
            return False
        return self._scan(events)

    # -- preamble and body: look for the next delimiter line

    def _scan(self, events: list[Event]) -> bool:
        buf = self._buf
        delimiter = self._delimiter
        start = 0
        while True:
            at = buf.find(delimiter, start)
            if at < 0:
                # a delimiter cut by the chunk end starts in the last len(delimiter) - 1 bytes, its CR before
                self._release(events, len(buf) - len(delimiter))
                return False
            verdict, end = self._delimiter_line(buf, at + len(delimiter))
            if verdict is _Line.NOT_DELIMITER:
                start = at + 1
                continue
            # RFC 2046 5.1.1: the CRLF before "--boundary" belongs to the delimiter, not to the content
            content_end = at - 1 if at > self._skip and buf[at - 1] == _CR else at
            if verdict is _Line.WAIT:
                self._release(events, content_end)
                return False
            self._content(events, buf, content_end)
            if self._state is _State.BODY:
                events.append(PartEnd())
            del buf[:end]
            self._skip = 0
            if verdict is _Line.CLOSE:
                if self._parts == 0:
                    # RFC 2046 5.1.1: multipart-body holds at least one body-part
                    raise MtomError("multipart body without any part", MtomErrorCode.NO_PARTS)
                self._state = _State.EPILOGUE
            else:
                self._state = _State.HEADERS
                self._headers = {}
                self._last_header = None
                self._header_bytes = 0
                self._line_from = 0
            return True

    def _delimiter_line(self, buf: bytearray, pos: int) -> tuple[_Line, int]:
        """Classify what follows "--boundary" at ``pos``; return the verdict and where the line ends."""
        if len(buf) - pos < 2:
            return _Line.WAIT, 0
        # RFC 2046 5.1.1: close-delimiter := delimiter "--"; the epilogue after it is ignored
        if buf[pos] == 0x2D and buf[pos + 1] == 0x2D:
            return _Line.CLOSE, pos + 2
        # RFC 2046 5.1.1: dash-boundary transport-padding CRLF
        stop = _PADDING.match(buf, pos).end()  # type: ignore[union-attr]  # "[ \t]*" always matches
        if stop - pos > _MAX_PADDING:
            raise MtomError("transport padding after the boundary too long", MtomErrorCode.HEADER_TOO_LARGE)
        if stop == len(buf):
            return _Line.WAIT, 0
        if buf[stop] == 0x0A:
            return _Line.DELIMITER, stop + 1
        if buf[stop] == _CR:
            if stop + 1 == len(buf):
                return _Line.WAIT, 0
            if buf[stop + 1] == 0x0A:
                return _Line.DELIMITER, stop + 2
        return _Line.NOT_DELIMITER, 0

    def _release(self, events: list[Event], cut: int) -> None:
        """Hand out the content before ``cut`` and drop it from the buffer."""
        if cut <= self._skip:
            return
        self._content(events, self._buf, cut)
        del self._buf[:cut]
        self._skip = 0

    def _content(self, events: list[Event], buf: bytearray, end: int) -> None:
        if end <= self._skip:
            return
        if self._state is _State.BODY:
            with memoryview(buf) as view:
                events.append(PartData(bytes(view[self._skip : end])))
            return
        # RFC 2046 5.1.1: the preamble is to be ignored; a long one means the boundary is not there
        self._preamble_bytes += end - self._skip
        if self._preamble_bytes > self._max_preamble_bytes:
            raise MtomError("MIME boundary not found in the body", MtomErrorCode.BOUNDARY_NOT_FOUND)

    # -- part headers

    def _header_block(self, events: list[Event]) -> bool:
        buf = self._buf
        pos = 0
        while True:
            nl = buf.find(b"\n", self._line_from)
            if nl < 0:
                del buf[:pos]
                self._line_from = len(buf)
                if self._header_bytes + len(buf) > self._max_header_bytes:
                    raise MtomError("MIME part header block too large", MtomErrorCode.HEADER_TOO_LARGE)
                return False
            self._header_bytes += nl + 1 - pos
            if self._header_bytes > self._max_header_bytes:
                raise MtomError("MIME part header block too large", MtomErrorCode.HEADER_TOO_LARGE)
            line = bytes(buf[pos : nl - 1 if nl > pos and buf[nl - 1] == _CR else nl])
            if not line:
                # RFC 2046 5.1.1: an empty line ends the headers; its LF stays as the possible start of the
                # delimiter of an empty body ("body-part := MIME-part-headers [CRLF *OCTET]")
                del buf[:nl]
                self._skip = 1
                self._start_part(events)
                return True
            self._header_line(line)
            pos = nl + 1
            self._line_from = pos

    def _start_part(self, events: list[Event]) -> None:
        if self._parts >= self._max_parts:
            raise MtomError(f"more than {self._max_parts} MIME parts", MtomErrorCode.TOO_MANY_PARTS)
        self._parts += 1
        self._state = _State.BODY
        events.append(PartStart(self._headers))

    def _header_line(self, line: bytes) -> None:
        # RFC 5322 2.2.3: a line starting with white space continues the previous field (folding)
        if line[0] in b" \t":
            if self._last_header is None:
                raise MtomError("MIME header continuation without a field", MtomErrorCode.MALFORMED_HEADER)
            if self._last_header:
                self._headers[self._last_header] += " " + _text(line.strip(b" \t"))
            return
        # RFC 5322 2.2: field-name ":" field-body
        name, colon, value = line.partition(b":")
        name = name.rstrip(b" \t")
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise MtomError("malformed MIME header line", MtomErrorCode.MALFORMED_HEADER)
        key = name.decode("ascii").lower()
        if key in self._headers:
            self._last_header = ""  # the first of duplicate fields wins; its continuation lines are dropped
            return
        self._headers[key] = _text(value.strip(b" \t"))
        self._last_header = key


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")

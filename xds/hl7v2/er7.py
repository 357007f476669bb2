"""ER7 (HL7 v2 "pipe and hat") message splitting with the delimiters a message declares in MSH-1/MSH-2.

HL7 v2.5 2.5 (message construction rules): segments end with a carriage return; a
segment is a 3-character id followed by fields separated by MSH-1; MSH-2 declares the component,
repetition, escape and subcomponent characters. Values are handed out rewritten to the default
delimiters ``^~\\&`` (``Encoding.to_default``), the form our data types (``xds.hl7v2.datatypes``) read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xds.hl7v2.errors import ErrorCondition, ErrorLocation, Hl7Error
from xds.hl7v2.escape import escape

# HL7 v2.5 2.5: CR ends a segment; senders and files often use LF or CRLF instead, which we accept too.
_SEGMENT_END = re.compile(r"\r\n|\r|\n")
# HL7 v2.5 2.5: a segment id is three characters, upper-case letters and digits.
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_OTHER_ESCAPE = re.compile(
    r"X(?:[0-9A-Fa-f]{2})+|[HN]|C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{6}|Z[^|^~\\&]*|\.[a-z]{2}[+-]?[0-9]*"
)

# HL7 v2.5 Table 0211 (alternate character sets, MSH-18) -> Python codec. No MSH-18: UTF-8, else 8859/1.
_CHARSETS = {"ASCII": "ascii", "UNICODE UTF-8": "utf-8", "8859/1": "latin-1", "8859/15": "iso8859-15"}
_CHARSETS.update({f"8859/{n}": f"iso8859-{n}" for n in range(2, 10)})


@dataclass(frozen=True, slots=True)
class Encoding:
    """The five delimiters of a message (MSH-1 and MSH-2)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @property
    def characters(self) -> str:
        """MSH-2 as the message declares it."""
        return self.component + self.repetition + self.escape + self.subcomponent

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_ENCODING

    def to_default(self, raw: str) -> str:
        """Rewrite one field repetition from this encoding to the default one (escapes included)."""
        if self.is_default:
            return raw
        out: list[str] = []
        i = 0
        while i < len(raw):
            char = raw[i]
            end = raw.find(self.escape, i + 1) if char == self.escape else -1
            sequence = self._escape_to_default(raw[i + 1 : end]) if end > i else None
            if sequence is not None:
                out.append(sequence)
                i = end + 1
                continue
            if char == self.component:
                out.append("^")
            elif char == self.subcomponent:
                out.append("&")
            else:  # text; a default delimiter used as text here must travel escaped in the default form
                out.append(escape(char))
            i += 1
        return "".join(out)

    def _escape_to_default(self, body: str) -> str | None:
        """The default-encoding form of escape sequence ``body``; None if it is none (then literal text)."""
        # HL7 v2.5 2.7: \F\ \S\ \T\ \R\ \E\ stand for this message's own delimiter characters.
        own = {"F": self.field, "S": self.component, "T": self.subcomponent, "R": self.repetition}
        if body in own or body == "E":
            return escape(own.get(body, self.escape))
        # HL7 v2.5 2.7: hex data, highlighting, character sets, local escapes, formatting commands.
        return f"\\{body}\\" if _OTHER_ESCAPE.fullmatch(body) else None


DEFAULT_ENCODING = Encoding()


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment; ``raw(n)`` is field n as sent, for MSH field 1 is the field separator."""

    name: str
    sequence: int
    fields: tuple[str, ...]
    encoding: Encoding

    def raw(self, n: int) -> str:
        return self.fields[n - 1] if 0 < n <= len(self.fields) else ""

    def repetitions(self, n: int) -> list[str]:
        """Field n split into repetitions, each in the default encoding (empty ones kept in place)."""
        raw = self.raw(n)
        return [self.encoding.to_default(rep) for rep in raw.split(self.encoding.repetition)] if raw else []

    def value(self, n: int) -> str:
        """The first repetition of field n in the default encoding ("" if absent)."""
        reps = self.repetitions(n)
        return reps[0] if reps else ""

    def location(self, field: int | None = None, repetition: int | None = None) -> ErrorLocation:
        return ErrorLocation(self.name, self.sequence, field, repetition)


@dataclass(frozen=True, slots=True)
class Er7Message:
    encoding: Encoding
    segments: tuple[Segment, ...]

    @property
    def msh(self) -> Segment:
        return self.segments[0]

    def find(self, name: str) -> list[Segment]:
        return [segment for segment in self.segments if segment.name == name]


def _msh_error(condition: ErrorCondition, field: int, text: str) -> Hl7Error:
    return Hl7Error(condition, text, ErrorLocation("MSH", 1, field))


def _read_encoding(first: str) -> Encoding:
    # HL7 v2.5 2.15.9.1 / 2.15.9.2: MSH-1 is the character after "MSH"; MSH-2 the next four characters.
    if not first.startswith("MSH"):
        raise Hl7Error(
            ErrorCondition.SEGMENT_SEQUENCE_ERROR, "message does not start with MSH", ErrorLocation("MSH")
        )
    if len(first) < 4 or first[3].isalnum() or first[3].isspace():
        raise _msh_error(ErrorCondition.DATA_TYPE_ERROR, 1, "no usable field separator")
    separator = first[3]
    declared = first[4:].split(separator, 1)[0]
    # HL7 v2.7 adds a fifth (truncation) character; it is accepted and ignored.
    chars = declared[:4]
    if (
        len(declared) not in (4, 5)
        or len(set(chars + separator)) != 5
        or any(char.isalnum() or char.isspace() for char in chars)
    ):
        raise _msh_error(ErrorCondition.DATA_TYPE_ERROR, 2, f"invalid encoding characters {declared!r}")
    return Encoding(separator, chars[0], chars[1], chars[2], chars[3])


def codec_for(charset: str) -> str | None:
    """The Python codec of an MSH-18 value (HL7 Table 0211); None if we do not know it."""
    return _CHARSETS.get(charset.strip().upper())


def _decode(data: bytes, charset: str) -> str:
    if not charset:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    codec = codec_for(charset)
    if codec is None:
        raise _msh_error(ErrorCondition.TABLE_VALUE_NOT_FOUND, 18, f"unsupported character set {charset!r}")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _msh_error(ErrorCondition.DATA_TYPE_ERROR, 18, f"not valid {charset}: {exc.reason}") from None


def _lines(text: str) -> list[str]:
    return [line for line in _SEGMENT_END.split(text) if line.strip()]


def split_message(data: bytes | str) -> Er7Message:
    """Split an ER7 message into segments; raises ``Hl7Error`` when MSH or a segment id is unreadable."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    lines = _lines(text)
    if not lines:
        raise Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, "empty message", ErrorLocation("MSH"))
    encoding = _read_encoding(lines[0])
    if isinstance(data, bytes):
        # HL7 v2.5 2.15.9.18: MSH-18 names the character set; the delimiters are ASCII in all of them.
        msh18 = lines[0].split(encoding.field)[17:18]
        charset = msh18[0].split(encoding.repetition)[0].split(encoding.component)[0] if msh18 else ""
        lines = _lines(_decode(data, charset.strip()))
    segments: list[Segment] = []
    counts: dict[str, int] = {}
    for line in lines:
        name, *fields = line.split(encoding.field)
        if not _SEGMENT_ID.fullmatch(name):
            raise Hl7Error(
                ErrorCondition.SEGMENT_SEQUENCE_ERROR,
                f"not a segment: {line[:20]!r}",
                ErrorLocation(name[:3] or "?", counts.get(name[:3], 0) + 1),
            )
        counts[name] = counts.get(name, 0) + 1
        if name == "MSH":
            fields = [encoding.field, *fields]
        segments.append(Segment(name, counts[name], tuple(fields), encoding))
    return Er7Message(encoding, tuple(segments))

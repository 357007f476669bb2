"""Parsing of MIME Content-Type values (RFC 2045 5.1), as found on HTTP requests and MIME parts."""

from __future__ import annotations

from xds.mtom.errors import MtomError, MtomErrorCode

__all__ = ["MtomError", "parse_content_type"]

_SPACE = " \t\r\n"


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Return the lower-cased ``type/subtype`` and the parameters (names lower-cased, quotes removed).

    RFC 2045 5.1: ``type "/" subtype *(";" parameter)``, ``parameter := attribute "=" value``,
    ``value := token / quoted-string``. A parameter without ``=`` is skipped; the first of duplicate
    parameters wins. An unterminated quoted string or a missing ``type/subtype`` is an ``MtomError``.
    """
    head, _, rest = value.partition(";")
    mime = head.strip(_SPACE).lower()
    major, slash, minor = mime.partition("/")
    if not slash or not major or not minor or any(c in _SPACE for c in mime):
        raise MtomError(f"malformed content type {value!r}", MtomErrorCode.MALFORMED_CONTENT_TYPE)
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        if rest[i] in _SPACE or rest[i] == ";":
            i += 1
            continue
        stop = _first_of(rest, "=;", i)
        name = rest[i:stop].strip(_SPACE).lower()
        if stop == n or rest[stop] == ";":
            i = stop  # RFC 2045 5.1 demands "=", be lenient and ignore the stray word
            continue
        i = stop + 1
        while i < n and rest[i] in _SPACE:
            i += 1
        if i < n and rest[i] == '"':
            text, i = _quoted_string(rest, i, value)
        else:
            stop = _first_of(rest, ";", i)
            text, i = rest[i:stop].strip(_SPACE), stop
        if name:
            params.setdefault(name, text)
    return mime, params


def _first_of(text: str, chars: str, start: int) -> int:
    hits = [pos for pos in (text.find(c, start) for c in chars) if pos >= 0]
    return min(hits) if hits else len(text)


def _quoted_string(text: str, i: int, value: str) -> tuple[str, int]:
    # RFC 822 3.3 (referenced by RFC 2045 5.1): quoted-string with backslash quoted-pairs
    out: list[str] = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\" and i + 1 < len(text):
            i += 1
            c = text[i]
        out.append(c)
        i += 1
    raise MtomError(f"unterminated quoted string in {value!r}", MtomErrorCode.MALFORMED_CONTENT_TYPE)

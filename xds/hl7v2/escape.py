"""HL7 v2 escape sequences for the default encoding characters ``|^~\\&``.

HL7 v2.5 Chapter 2, 2.7 "Use of escape sequences in text fields". XDS metadata (ITI TF-3 4.2.3.1.7)
carries HL7 v2 data types with these same delimiters, so the same rules apply inside ebRIM slot values.
"""

from __future__ import annotations

import re

ESCAPE_CHAR = "\\"

# HL7 v2.5 2.7 (delimiter escapes): \F\ field separator, \S\ component separator, \T\ subcomponent separator,
# \R\ repetition separator, \E\ escape character.
_ESCAPES = {"|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\", "\\": "\\E\\"}
_UNESCAPES = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}

# HL7 v2.5 2.5 / 2.7: the carriage return ends a segment, so it can never appear literally in a
# field; it travels as hex data \X0D\ (2.7 "\Xdddd...\ hexadecimal data").
_HEX_ESCAPES = {"\r": "\\X0D\\"}

_ESCAPE_TABLE = str.maketrans({**_ESCAPES, **_HEX_ESCAPES})

_HEX = re.compile(r"X((?:[0-9A-Fa-f]{2})+)")
# HL7 v2.5 2.7: character set switches (\Cxxyy\, \Mxxyyzz\), locally defined escapes (\Zdddd\) and
# formatting commands (\.br\, \.sp5\, ...; only meaningful in FT fields). We cannot apply them to
# already-decoded text and they mean nothing in ST/ID/IS values, so they are kept literally (lossless).
_KEPT = re.compile(r"C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{6}|Z[^\\]*|\.[a-z]{2}[+-]?[0-9]*")


def escape(text: str) -> str:
    """Escape the delimiters and the escape character of ``text`` (HL7 v2.5 2.7)."""
    return text.translate(_ESCAPE_TABLE)


def _decode_hex(data: bytes) -> str:
    # HL7 v2.5 2.7: hex data is interpreted in the message character set (MSH-18). XDS metadata is
    # UTF-8 XML; older senders use ISO 8859-1 (HL7 8859/1), which decodes any byte string.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def unescape(text: str) -> str:
    """Replace the escape sequences of ``text`` by the characters they stand for.

    Never raises: a backslash that does not open a recognised escape sequence is taken literally.
    Adjacent hex sequences (``\\XC3\\\\XBC\\``) are decoded together, so multi-byte UTF-8 survives.
    """
    if ESCAPE_CHAR not in text:
        return text
    out: list[str] = []
    hex_run = bytearray()

    def flush_hex() -> None:
        if hex_run:
            out.append(_decode_hex(bytes(hex_run)))
            hex_run.clear()

    i = 0
    while True:
        start = text.find(ESCAPE_CHAR, i)
        end = text.find(ESCAPE_CHAR, start + 1) if start >= 0 else -1
        if end < 0:
            if i < len(text):
                flush_hex()
                out.append(text[i:])
            break
        if start > i:
            flush_hex()
            out.append(text[i:start])
        body = text[start + 1 : end]
        hex_match = _HEX.fullmatch(body)
        if hex_match:
            hex_run.extend(bytes.fromhex(hex_match.group(1)))
            i = end + 1
            continue
        flush_hex()
        if body in _UNESCAPES:
            out.append(_UNESCAPES[body])
        elif body in ("H", "N"):
            # HL7 v2.5 2.7: \H\ start / \N\ end highlighting: presentation only, no text content.
            pass
        elif _KEPT.fullmatch(body):
            out.append(text[start : end + 1])
        else:
            # Not an escape sequence: the backslash is literal text; rescan from the next character.
            out.append(ESCAPE_CHAR)
            i = start + 1
            continue
        i = end + 1
    flush_hex()
    return "".join(out)

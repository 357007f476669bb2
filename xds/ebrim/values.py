"""Typed slot and identifier values: integers and the HL7 v2 data types (ITI TF-3 4.2.3.1.7)."""

from __future__ import annotations

import re
from typing import TypeVar

from xds.ebrim.xml import metadata_error
from xds.hl7v2 import CX, XCN, XON, XTN

T = TypeVar("T", CX, XCN, XON, XTN)

_INTEGER = re.compile(r"[0-9]+")


def parse_hl7(cls: type[T], text: str, owner: str, what: str) -> T:
    """An HL7 v2 value of type ``cls``; one that is not a single field value is a metadata error."""
    try:
        return cls.parse(text)
    except ValueError as exc:
        # ITI TF-3 4.2.3.1.7: each value is one HL7 v2 field repetition, so '|' / '~' cannot appear raw
        raise metadata_error(f"{owner}: {what} is not a valid {cls.__name__}: {exc}", owner) from exc


def render_hl7(value: CX | XCN | XON | XTN | None) -> str | None:
    """The HL7 v2 string form of ``value``; None stays None (the attribute is absent)."""
    return None if value is None else value.render()


def parse_size(text: str, owner: str) -> int:
    """ITI TF-3 4.2.3.2.23 size: an Integer of octets."""
    value = text.strip()
    if not _INTEGER.fullmatch(value):
        raise metadata_error(f"{owner}: size {text!r} is not a non-negative integer", owner)
    return int(value)


# ITI TF-3 4.2.3.2.26 URI: a value longer than the 128-character slot value limit is split into
# values "1|...", "2|..." (ebRIM Value is a LongName, max 256; XDS keeps the historical split form).
URI_CHUNK = 128
_URI_PART = re.compile(r"([0-9]+)\|(.*)", re.DOTALL)


def join_uri(values: tuple[str, ...], owner: str) -> str:
    if len(values) == 1 and not _URI_PART.fullmatch(values[0]):
        return values[0]
    parts: list[tuple[int, str]] = []
    for value in values:
        match = _URI_PART.fullmatch(value)
        if not match:
            raise metadata_error(f"{owner}: URI value {value!r} lacks its 'n|' index", owner)
        parts.append((int(match.group(1)), match.group(2)))
    parts.sort()
    if [i for i, _ in parts] != list(range(1, len(parts) + 1)):
        raise metadata_error(f"{owner}: URI parts are not numbered 1..{len(parts)}", owner)
    return "".join(text for _, text in parts)


def split_uri(uri: str) -> tuple[str, ...]:
    if len(uri) <= URI_CHUNK and not _URI_PART.fullmatch(uri):
        return (uri,)
    step = URI_CHUNK - 4
    chunks = [uri[i : i + step] for i in range(0, len(uri), step)] or [""]
    return tuple(f"{n}|{chunk}" for n, chunk in enumerate(chunks, start=1))

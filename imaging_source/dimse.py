"""DIMSE command sets of C-ECHO and C-STORE (PS3.7 9.1, 9.3, Annex E), sans-IO.

A command set is group 0000 in Implicit VR Little Endian (PS3.7 6.3.1), whatever the presentation context's
transfer syntax; it starts with its own group length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# PS3.7 Table E.1-1: the command elements used here (element numbers of group 0000)
AFFECTED_SOP_CLASS = 0x0002
COMMAND_FIELD = 0x0100
MESSAGE_ID = 0x0110
RESPONDED_TO = 0x0120
PRIORITY = 0x0700
DATA_SET_TYPE = 0x0800
STATUS = 0x0900
ERROR_COMMENT = 0x0902
AFFECTED_SOP_INSTANCE = 0x1000
MOVE_ORIGINATOR_AE = 0x1030
MOVE_ORIGINATOR_ID = 0x1031

# PS3.7 9.3.1.1, 9.3.5.1: command fields
C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
NO_DATA_SET = 0x0101  # PS3.7 E.1: CommandDataSetType "null"; any other value: a data set follows
DATA_SET_PRESENT = 0x0000

_ELEMENT = struct.Struct("<HHI")
_US = {COMMAND_FIELD, MESSAGE_ID, RESPONDED_TO, PRIORITY, DATA_SET_TYPE, STATUS, MOVE_ORIGINATOR_ID}


class CommandError(ValueError):
    """A command set that cannot be decoded (PS3.7 C.5.5 0x0212 mistyped argument, or an A-ABORT)."""


@dataclass(frozen=True)
class Command:
    field: int
    message_id: int
    sop_class_uid: str
    sop_instance_uid: str
    has_data_set: bool
    move_originator_ae: str = ""
    move_originator_id: int | None = None
    status: int | None = None


def decode(raw: bytes | bytearray | memoryview) -> Command:
    values: dict[int, bytes] = {}
    view = memoryview(raw)
    offset = 0
    while offset < len(view):
        if offset + 8 > len(view):
            raise CommandError("truncated command element")
        group, element, length = _ELEMENT.unpack_from(view, offset)
        offset += 8
        if group != 0 or offset + length > len(view):
            raise CommandError(f"element ({group:04X},{element:04X}) outside group 0000 or too long")
        values[element] = bytes(view[offset : offset + length])
        offset += length
    try:
        numbers = {key: struct.unpack("<H", values[key])[0] for key in _US if key in values}
        return Command(
            field=numbers[COMMAND_FIELD],
            message_id=numbers.get(MESSAGE_ID, numbers.get(RESPONDED_TO, 0)),
            sop_class_uid=_string(values.get(AFFECTED_SOP_CLASS, b"")),
            sop_instance_uid=_string(values.get(AFFECTED_SOP_INSTANCE, b"")),
            has_data_set=numbers.get(DATA_SET_TYPE, NO_DATA_SET) != NO_DATA_SET,
            move_originator_ae=_string(values.get(MOVE_ORIGINATOR_AE, b"")),
            move_originator_id=numbers.get(MOVE_ORIGINATOR_ID),
            status=numbers.get(STATUS),
        )
    except (KeyError, struct.error) as exc:
        raise CommandError(f"command set without a valid {exc}") from exc


def _string(raw: bytes) -> str:
    return raw.decode("ascii", "replace").strip(" \0")


def _element(element: int, value: bytes) -> bytes:
    return _ELEMENT.pack(0, element, len(value)) + value


def padded(text: str, pad: bytes) -> bytes:
    raw = text.encode("ascii", "replace")
    return raw + pad if len(raw) % 2 else raw  # PS3.5 6.2: even length; UI pads with NUL, text with space


def encode(elements: list[tuple[int, int | str]]) -> bytes:
    """A command set of (element, value) pairs, in ascending element order, with its group length first."""
    body = b"".join(
        _element(tag, struct.pack("<H", value) if isinstance(value, int) else padded(value, _pad(tag)))
        for tag, value in sorted(elements)
    )
    return _element(0x0000, struct.pack("<I", len(body))) + body


def _pad(tag: int) -> bytes:
    return b"\0" if tag in (AFFECTED_SOP_CLASS, AFFECTED_SOP_INSTANCE) else b" "


def store_rq(message_id: int, sop_class_uid: str, sop_instance_uid: str, *, originator_ae: str = "",
             originator_id: int | None = None, priority: int = 0) -> bytes:
    """PS3.7 9.3.1.1 Table 9.3-1: C-STORE-RQ (with the C-MOVE originator for a sub-operation, PS3.4
    C.4.2.3)."""
    elements: list[tuple[int, int | str]] = [
        (AFFECTED_SOP_CLASS, sop_class_uid), (COMMAND_FIELD, C_STORE_RQ), (MESSAGE_ID, message_id),
        (PRIORITY, priority), (DATA_SET_TYPE, DATA_SET_PRESENT), (AFFECTED_SOP_INSTANCE, sop_instance_uid),
    ]
    if originator_ae:
        elements.append((MOVE_ORIGINATOR_AE, originator_ae))
    if originator_id is not None:
        elements.append((MOVE_ORIGINATOR_ID, originator_id))
    return encode(elements)


def store_rsp(request: Command, status: int, comment: str = "") -> bytes:
    """PS3.7 9.3.1.2 Table 9.3-2: C-STORE-RSP, with an Error Comment when one is given."""
    elements: list[tuple[int, int | str]] = [
        (AFFECTED_SOP_CLASS, request.sop_class_uid), (COMMAND_FIELD, C_STORE_RSP),
        (RESPONDED_TO, request.message_id), (DATA_SET_TYPE, NO_DATA_SET), (STATUS, status),
        (AFFECTED_SOP_INSTANCE, request.sop_instance_uid),
    ]
    if comment:
        elements.append((ERROR_COMMENT, comment[:64]))  # PS3.7 Table E.1-1: LO, at most 64 characters
    return encode(elements)


def echo_rsp(request: Command, status: int = 0) -> bytes:
    """PS3.7 9.3.5.2 Table 9.3-13: C-ECHO-RSP."""
    return encode([
        (AFFECTED_SOP_CLASS, request.sop_class_uid), (COMMAND_FIELD, C_ECHO_RSP),
        (RESPONDED_TO, request.message_id), (DATA_SET_TYPE, NO_DATA_SET), (STATUS, status),
    ])

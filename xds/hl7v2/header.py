"""The message header (MSH) of an HL7 v2 message, read strictly for processing or leniently for an ACK."""

from __future__ import annotations

from dataclasses import dataclass

from xds.hl7v2.datatypes import HD
from xds.hl7v2.er7 import DEFAULT_ENCODING, Encoding, Er7Message, Segment, split_message
from xds.hl7v2.errors import ErrorCondition, Hl7Error
from xds.hl7v2.escape import unescape

# HL7 v2.5 Table 0103 (processing ID, MSH-11 PT.1): debugging, production, training.
PROCESSING_IDS = frozenset({"D", "P", "T"})


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """MSH fields an HL7 v2 receiver needs (HL7 v2.5 2.15.9), values unescaped."""

    sending_application: HD | None = None  # MSH-3
    sending_facility: HD | None = None  # MSH-4
    receiving_application: HD | None = None  # MSH-5
    receiving_facility: HD | None = None  # MSH-6
    timestamp: str = ""  # MSH-7 TS.1
    message_code: str = ""  # MSH-9 MSG.1, e.g. ADT
    trigger_event: str = ""  # MSH-9 MSG.2, e.g. A01
    message_structure: str = ""  # MSH-9 MSG.3, e.g. ADT_A01 (none in many v2.3.1 messages)
    control_id: str = ""  # MSH-10
    processing_id: str = ""  # MSH-11 PT.1
    version: str = ""  # MSH-12 VID.1
    charset: str = ""  # MSH-18, first repetition
    encoding: Encoding = DEFAULT_ENCODING  # MSH-1, MSH-2

    @property
    def message_type(self) -> str:
        """MSH-9 as text, e.g. ``ADT^A01`` or ``ADT^A40^ADT_A39``."""
        return "^".join(p for p in (self.message_code, self.trigger_event, self.message_structure) if p)


def _components(segment: Segment, field: int) -> list[str]:
    return [unescape(part) for part in segment.value(field).split("^")]


def _hd(segment: Segment, field: int) -> HD | None:
    value = segment.value(field)
    return HD.parse(value) if value else None


def parse_header(message: Er7Message, *, strict: bool = True) -> MessageHeader:
    """Read MSH; with ``strict`` a missing required field or an unknown processing id raises ``Hl7Error``."""
    msh = message.msh
    msg = [*_components(msh, 9), "", ""]
    header = MessageHeader(
        sending_application=_hd(msh, 3),
        sending_facility=_hd(msh, 4),
        receiving_application=_hd(msh, 5),
        receiving_facility=_hd(msh, 6),
        timestamp=_components(msh, 7)[0],
        message_code=msg[0],
        trigger_event=msg[1],
        message_structure=msg[2],
        control_id=unescape(msh.value(10)),
        processing_id=_components(msh, 11)[0],
        version=_components(msh, 12)[0],
        charset=_components(msh, 18)[0],
        encoding=message.encoding,
    )
    if strict:
        _check(header, msh)
    return header


def _check(header: MessageHeader, msh: Segment) -> None:
    # HL7 v2.5 2.15.9: MSH-9 message type, MSH-10 control id, MSH-11 processing id, MSH-12 version are R.
    required = {9: header.message_code, 10: header.control_id, 11: header.processing_id, 12: header.version}
    for field, value in required.items():
        if not value:
            raise Hl7Error(
                ErrorCondition.REQUIRED_FIELD_MISSING, f"MSH-{field} is empty", msh.location(field)
            )
    # HL7 v2.5 2.15.9.11: PT.1 takes its values from HL7 Table 0103.
    if header.processing_id not in PROCESSING_IDS:
        raise Hl7Error(
            ErrorCondition.TABLE_VALUE_NOT_FOUND,
            f"processing id {header.processing_id!r} not in HL7 Table 0103",
            msh.location(11),
        )


def sniff_header(data: bytes | str) -> MessageHeader | None:
    """Whatever MSH fields can be read from a message that may be broken anywhere; None without MSH."""
    try:
        return parse_header(split_message(data), strict=False)
    except Hl7Error:
        pass
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    try:  # the rest of the message (a later segment, its character set) may be what is broken
        return parse_header(split_message(first), strict=False)
    except Hl7Error:
        return None

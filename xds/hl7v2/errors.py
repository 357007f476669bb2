"""HL7 v2 message errors: the error condition (HL7 v2.5 Table 0357) and where it was found.

An ``Hl7Error`` carries what an ACK's MSA/ERR segments need (``xds.hl7v2.ack.build_ack``); tests assert
the condition and location, never the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ErrorCondition(IntEnum):
    """HL7 v2.5 Table 0357 (message error condition codes)."""

    MESSAGE_ACCEPTED = 0
    SEGMENT_SEQUENCE_ERROR = 100
    REQUIRED_FIELD_MISSING = 101
    DATA_TYPE_ERROR = 102
    TABLE_VALUE_NOT_FOUND = 103
    UNSUPPORTED_MESSAGE_TYPE = 200
    UNSUPPORTED_EVENT_CODE = 201
    UNSUPPORTED_PROCESSING_ID = 202
    UNSUPPORTED_VERSION_ID = 203
    UNKNOWN_KEY_IDENTIFIER = 204
    DUPLICATE_KEY_IDENTIFIER = 205
    APPLICATION_RECORD_LOCKED = 206
    APPLICATION_INTERNAL_ERROR = 207

    @property
    def text(self) -> str:
        """The code's name as Table 0357 spells it (CWE.2 of ERR-3)."""
        return self.name.replace("_", " ").capitalize()


# HL7 v2.5 2.9.2.2 (original acknowledgment mode): a message whose type, event, processing id or version
# the receiver does not accept is rejected (AR); errors found while processing it give AE.
_REJECTING = frozenset(
    {
        ErrorCondition.UNSUPPORTED_MESSAGE_TYPE,
        ErrorCondition.UNSUPPORTED_EVENT_CODE,
        ErrorCondition.UNSUPPORTED_PROCESSING_ID,
        ErrorCondition.UNSUPPORTED_VERSION_ID,
    }
)


@dataclass(frozen=True, slots=True)
class ErrorLocation:
    """HL7 v2.5 ERL (ERR-2): segment id, segment sequence and, when known, field/repetition/component.

    Positions are 1-based as HL7 counts them; for MSH, field 1 is the field separator.
    """

    segment: str
    sequence: int = 1
    field: int | None = None
    repetition: int | None = None
    component: int | None = None

    def parts(self) -> list[str]:
        values = [self.segment, str(self.sequence)]
        values += ["" if v is None else str(v) for v in (self.field, self.repetition, self.component)]
        while values and values[-1] == "":
            values.pop()
        return values

    def __str__(self) -> str:
        if self.field is None:
            return self.segment
        text = f"{self.segment}-{self.field}"
        if self.repetition is not None and self.repetition > 1:
            text += f"({self.repetition})"
        return text if self.component is None else f"{text}.{self.component}"


class Hl7Error(Exception):
    """A message that cannot be accepted, with its HL7 error condition and location."""

    def __init__(self, condition: ErrorCondition, text: str, location: ErrorLocation | None = None) -> None:
        where = f" at {location}" if location is not None else ""
        super().__init__(f"{condition.value} {condition.text}{where}: {text}")
        self.condition = condition
        self.text = text
        self.location = location

    @property
    def ack_code(self) -> str:
        """AR when the message header is unacceptable (HL7 v2.5 2.9.2.2), AE otherwise."""
        if self.condition in _REJECTING:
            return "AR"
        if self.location is not None and self.location.segment == "MSH":
            return "AR"
        return "AE"

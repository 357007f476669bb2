"""Patient Identity Feed (ITI-8) ADT messages, HL7 v2.3.1 or v2.5, read into a ``PatientFeedMessage``.

Why our own reader and not hl7apy (checked with hl7apy 1.3.5): hl7apy does parse v2.3.1 and v2.5 ADT
messages with tolerant validation, but (1) it accepts only CR between segments (a message with LF fails
as "unsupported version"), (2) its field values stay in the sender's declared delimiters, so they would
be split again for our ``CX``, and (3) its exceptions carry neither an HL7 error condition nor a location
for the ACK's ERR segment. The few segments ITI-8 needs are read by ``xds.hl7v2.er7`` on top of our data
types instead; hl7apy serves as an independent parser of our ACKs in the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from xds.hl7v2.datatypes import _FN, _ST, CX, _Composite
from xds.hl7v2.er7 import Er7Message, Segment, split_message
from xds.hl7v2.errors import ErrorCondition, ErrorLocation, Hl7Error
from xds.hl7v2.escape import unescape
from xds.hl7v2.header import MessageHeader, parse_header

# The versions we read: ITI-8 is HL7 v2.3.1 (ITI TF-2a 3.8); the NIST toolkit's feed declares 2.3, and
# v2.4/v2.5/v2.5.1 keep the same PID/MRG fields.
SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")

# HL7 v2.5 Chapter 2A, TS/DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
_TIMESTAMP = re.compile(r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?")


class FeedAction(StrEnum):
    """What a Patient Identity Feed message asks the receiver to do."""

    CREATE = "create"
    UPDATE = "update"
    MERGE = "merge"


# ITI TF-2a 3.8.4.1: A01 admit, A04 register, A05 pre-admit create the patient; A08 updates it.
# ITI TF-2a 3.8.4.2: A40 merges the patient of MRG-1 into the patient of PID-3.
EVENT_ACTIONS: dict[str, FeedAction] = {
    "A01": FeedAction.CREATE,
    "A04": FeedAction.CREATE,
    "A05": FeedAction.CREATE,
    "A08": FeedAction.UPDATE,
    "A40": FeedAction.MERGE,
}


# HL7 v2.5 Chapter 2A, XPN (extended person name): family name (FN) ^ given ^ further given ^ suffix ^ prefix
# ^ degree ^ name type code ^ representation code; later components stay raw in ``extra``.
@dataclass(frozen=True, slots=True)
class XPN(_Composite):
    family_name: str = ""
    given_name: str = ""
    further_given_names: str = ""
    suffix: str = ""
    prefix: str = ""
    degree: str = ""
    name_type_code: str = ""
    name_representation_code: str = ""
    family_name_parts: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]] = (
        ("family_name", _FN),
        ("given_name", _ST),
        ("further_given_names", _ST),
        ("suffix", _ST),
        ("prefix", _ST),
        ("degree", _ST),
        ("name_type_code", _ST),
        ("name_representation_code", _ST),
    )


@dataclass(frozen=True, slots=True)
class PatientFeedMessage:
    """One ITI-8 message: header, patient (PID) and, for A40, the merged-away identifiers (MRG-1)."""

    header: MessageHeader
    patient_identifiers: tuple[CX, ...]  # PID-3, every repetition
    patient_names: tuple[XPN, ...] = ()  # PID-5
    birth_date: str = ""  # PID-7 TS.1, e.g. 19700101
    sex: str = ""  # PID-8 (HL7 User-defined Table 0001)
    addresses: tuple[str, ...] = ()  # PID-11 repetitions, XAD in the default encoding, still escaped
    prior_patient_identifiers: tuple[CX, ...] = ()  # MRG-1 (A40 only)

    @property
    def message_control_id(self) -> str:
        return self.header.control_id

    @property
    def trigger_event(self) -> str:
        return self.header.trigger_event

    @property
    def version(self) -> str:
        return self.header.version

    @property
    def action(self) -> FeedAction:
        return EVENT_ACTIONS[self.header.trigger_event]


def _identifiers(segment: Segment, field_no: int) -> tuple[CX, ...]:
    identifiers: list[CX] = []
    for number, text in enumerate(segment.repetitions(field_no), start=1):
        if not text:
            continue
        cx = CX.parse(text)
        # HL7 v2.5 Chapter 2A, CX: CX.1 (ID number) is required.
        if not cx.id_number:
            location = ErrorLocation(segment.name, segment.sequence, field_no, number, 1)
            raise Hl7Error(ErrorCondition.DATA_TYPE_ERROR, "identifier without ID number (CX.1)", location)
        identifiers.append(cx)
    if not identifiers:
        raise Hl7Error(
            ErrorCondition.REQUIRED_FIELD_MISSING,
            f"{segment.name}-{field_no} holds no identifier",
            segment.location(field_no),
        )
    return tuple(identifiers)


def _check_type(header: MessageHeader) -> None:
    # HL7 v2.5 2.9.2.2: type, event and version must be ones the receiver supports (ITI TF-2a 3.8.4).
    if header.version not in SUPPORTED_VERSIONS:
        raise Hl7Error(
            ErrorCondition.UNSUPPORTED_VERSION_ID,
            f"version {header.version!r} not supported",
            ErrorLocation("MSH", 1, 12),
        )
    if header.message_code != "ADT":
        raise Hl7Error(
            ErrorCondition.UNSUPPORTED_MESSAGE_TYPE,
            f"message type {header.message_code!r} is not ADT",
            ErrorLocation("MSH", 1, 9, None, 1),
        )
    if header.trigger_event not in EVENT_ACTIONS:
        raise Hl7Error(
            ErrorCondition.UNSUPPORTED_EVENT_CODE,
            f"event {header.trigger_event!r} not supported",
            ErrorLocation("MSH", 1, 9, None, 2),
        )


def _only(message: Er7Message, name: str, after: Segment | None = None) -> Segment:
    # ITI TF-2a 3.8.4.1.2 / 3.8.4.2.2: one PID (and, in A40, one MRG after it) per message.
    found = message.find(name)
    if not found:
        raise Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, f"{name} segment missing", ErrorLocation(name))
    if len(found) > 1:
        raise Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, f"more than one {name}", found[1].location())
    segment = found[0]
    if after is not None and message.segments.index(segment) < message.segments.index(after):
        raise Hl7Error(
            ErrorCondition.SEGMENT_SEQUENCE_ERROR, f"{name} before {after.name}", segment.location()
        )
    return segment


def parse_patient_feed(data: bytes | str) -> PatientFeedMessage:
    """Read an ITI-8 ADT message (A01, A04, A05, A08, A40); raises ``Hl7Error`` if it cannot be accepted."""
    message = split_message(data)
    header = parse_header(message)
    _check_type(header)
    pid = _only(message, "PID")
    identifiers = _identifiers(pid, 3)
    birth_date = unescape(pid.value(7).split("^")[0])
    # HL7 v2.5 3.4.2.7: PID-7 is a TS; its first component a date/time.
    if birth_date and not _TIMESTAMP.fullmatch(birth_date):
        raise Hl7Error(
            ErrorCondition.DATA_TYPE_ERROR, f"birth date {birth_date!r} is no date", pid.location(7)
        )
    prior: tuple[CX, ...] = ()
    if header.trigger_event == "A40":
        prior = _identifiers(_only(message, "MRG", after=pid), 1)
    return PatientFeedMessage(
        header=header,
        patient_identifiers=identifiers,
        patient_names=tuple(XPN.parse(name) for name in pid.repetitions(5) if name),
        birth_date=birth_date,
        sex=unescape(pid.value(8)),
        addresses=tuple(address for address in pid.repetitions(11) if address),
        prior_patient_identifiers=prior,
    )

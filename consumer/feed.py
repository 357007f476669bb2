"""``xds feed``: an ITI-8 Patient Identity Feed as a Patient Identity Source would send it (ITI TF-2a 3.8).

ADT^A01 makes a patient known (with every identifier of PID-3), ADT^A40 merges the identifier of MRG-1
into the patient of PID-3. The message goes over MLLP; the answer is the receiver's ACK.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from xds.hl7v2 import CX, Hl7Error, split_message
from xds.hl7v2.escape import escape
from xds.mllp import MllpClient, MllpError

_FORBIDDEN = ("|", "~", "\r", "\n", "\\")


class FeedError(Exception):
    """The receiver answered AE or AR (``code``), or the answer was no ACK."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}" if text else code)
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class Ack:
    code: str  # MSA-1: AA, AE, AR (CA, CE, CR in enhanced mode)
    control_id: str  # MSA-2
    text: str = ""  # MSA-3 or the ERR segment's diagnostic


def _field(value: str, what: str) -> str:
    """An HL7 field value given in the default encoding (components with '^', subcomponents with '&')."""
    for bad in _FORBIDDEN:
        if bad in value:
            raise ValueError(f"{what} {value!r} holds {bad!r}, which no single HL7 field may hold")
    return value


def _identifier(text: str) -> str:
    cx = CX.parse(_field(text, "patient id"))
    # HL7 v2.5 Chapter 2A CX: CX.1 the ID, CX.4 the assigning authority (ITI TF-2a 3.8.4.1.2.3: required)
    if not cx.id_number or cx.assigning_authority is None or cx.assigning_authority.is_empty:
        raise ValueError(f"patient id {text!r} needs an ID and an assigning authority (ID^^^&OID&ISO)")
    return cx.render()


def build_adt(
    patient_ids: Sequence[str],
    name: str,
    birth_date: str = "",
    sex: str = "",
    merge: str | None = None,
    *,
    sender: str = "XDS-CLI",
    receiver: str = "XDS",
) -> tuple[bytes, str]:
    """The ER7 message and its control id: A01, or A40 when ``merge`` names the prior identifier."""
    if not patient_ids:
        raise ValueError("at least one patient id")
    pid3 = "~".join(_identifier(p) for p in patient_ids)
    if birth_date and not (birth_date.isdigit() and len(birth_date) in (4, 6, 8, 12, 14)):
        raise ValueError(f"birth date {birth_date!r} is not YYYYMMDD")
    if sex and sex not in ("F", "M", "O", "U", "A", "N"):
        raise ValueError(f"sex {sex!r} is not one of F, M, O, U, A, N (HL7 Table 0001)")
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    control = uuid.uuid4().hex[:20]
    # ITI TF-2a 3.8.4.1.2 (A01, ADT_A01) and 3.8.4.2.2 (A40, ADT_A39); HL7 v2.5
    event, structure = ("A40", "ADT_A39") if merge else ("A01", "ADT_A01")
    segments = [
        f"MSH|^~\\&|{escape(sender)}||{escape(receiver)}||{now}||ADT^{event}^{structure}|{control}|P|2.5",
        f"EVN|{event}|{now}",
        f"PID|||{pid3}||{_field(name, 'name')}||{birth_date}|{sex}",
    ]
    if merge:
        segments.append(f"MRG|{_identifier(merge)}")
    else:
        # ITI TF-2a 3.8.4.1.2: PV1 is required; PV1-2 "N" (not applicable) when there is no visit
        segments.append("PV1||N")
    return ("\r".join(segments) + "\r").encode("utf-8"), control


def read_ack(data: bytes) -> Ack:
    try:
        message = split_message(data)
    except Hl7Error as exc:
        raise FeedError("AR", f"the answer is no HL7 message: {exc}") from None
    msa = message.find("MSA")
    if not msa:
        raise FeedError("AR", "the answer holds no MSA segment")
    text = msa[0].value(3)
    for err in message.find("ERR"):
        # HL7 v2.5 2.15.5: ERR-7 diagnostic, ERR-8 user message, ERR-3 the error code (code^text^system)
        code = err.value(3).split("^")
        text = text or err.value(8) or err.value(7) or (code[1] if len(code) > 1 else "")
    return Ack(msa[0].value(1), msa[0].value(2), text)


def send_feed(host: str, port: int, message: bytes, timeout: float = 30.0) -> Ack:
    """Send one message; ``OSError`` when the peer cannot be reached, ``FeedError`` unless accepted."""
    try:
        with MllpClient(host, port, timeout=timeout) as client:
            answer = client.send(message)
    except MllpError as exc:
        raise FeedError("AR", f"{host}:{port} broke off: {exc}") from None
    ack = read_ack(answer)
    if ack.code not in ("AA", "CA"):
        raise FeedError(ack.code, ack.text)
    return ack

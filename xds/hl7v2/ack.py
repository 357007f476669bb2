"""General acknowledgment (ACK) messages for received HL7 v2 messages.

HL7 v2.5 2.9.2 (original acknowledgment mode), as ITI-8 uses it (ITI TF-2a 3.8.4, ITI TF-2x Appendix C): the
receiver answers every message with an ACK whose MSA-1 is AA (accepted), AE (error) or AR (rejected)
and whose MSA-2 names the message's control id. The ACK is written with the default delimiters and in
the version of the message it answers, so that a v2.3.1 sender gets a v2.3.1 ACK.

Written directly rather than through hl7apy: three short segments built from our own ``escape`` and
``HD.render`` need no message model, and must be producible even when the original's version is one
hl7apy does not know. The tests have hl7apy read every kind of ACK with strict validation.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from xds.hl7v2.adt import PatientFeedMessage
from xds.hl7v2.datatypes import HD
from xds.hl7v2.er7 import codec_for
from xds.hl7v2.errors import Hl7Error
from xds.hl7v2.escape import escape
from xds.hl7v2.header import MessageHeader, sniff_header

ACK_CODES = ("AA", "AE", "AR")
# Used when the message gives no usable version (MSH-12), e.g. when MSH could not be read at all.
DEFAULT_VERSION = "2.5"
_VERSION = re.compile(r"2\.\d+(\.\d+)?")
# HL7 v2.5 2.15.8.3: MSA-3 (text message) is at most 80 characters long.
_MSA_TEXT_LENGTH = 80


def _hd(value: HD | None) -> str:
    return "" if value is None else value.render()


def _join(parts: list[str], separator: str) -> str:
    while parts and parts[-1] == "":
        parts.pop()
    return separator.join(parts)


def _header_of(original: PatientFeedMessage | MessageHeader | bytes | str | None) -> MessageHeader:
    if isinstance(original, PatientFeedMessage):
        return original.header
    if isinstance(original, MessageHeader):
        return original
    if original is None:
        return MessageHeader()
    return sniff_header(original) or MessageHeader()


def _error_code(error: Hl7Error) -> str:
    # HL7 v2.5 2.15.5.3: ERR-3 is a CWE from HL7 Table 0357 (coding system name "HL70357").
    return f"{error.condition.value}^{escape(error.condition.text)}^HL70357"


def _err_segment(error: Hl7Error, version: tuple[int, ...]) -> str:
    location = error.location
    if version >= (2, 5):
        # HL7 v2.5 2.15.5: ERR-2 error location (ERL), ERR-3 HL7 error code, ERR-4 severity (E = error),
        # ERR-7 diagnostic information.
        erl = "" if location is None else "^".join(location.parts())
        return _join(["ERR", "", erl, _error_code(error), "E", "", "", escape(error.text)], "|")
    # HL7 v2.3.1 / v2.4 ERR-1 (ELD): segment id ^ sequence ^ field position ^ error code (CE, as
    # subcomponents since it sits in a component).
    code = f"{error.condition.value}&{escape(error.condition.text)}&HL70357"
    if location is None:
        return f"ERR|^^^{code}"
    field = "" if location.field is None else str(location.field)
    return f"ERR|{location.segment}^{location.sequence}^{field}^{code}"


def build_ack(
    original: PatientFeedMessage | MessageHeader | bytes | str | None,
    code: str,
    *,
    error: Hl7Error | None = None,
    text: str | None = None,
    control_id: str | None = None,
    sending_application: HD | None = None,
    sending_facility: HD | None = None,
    timestamp: datetime | None = None,
) -> bytes:
    """The ACK for ``original`` (a parsed message, its header, or raw bytes that may be unreadable).

    ``code`` is AA, AE or AR (``Hl7Error.ack_code`` gives the right one for an error); ``error`` adds
    an ERR segment; ``text`` (default: the error's text) goes to MSA-3. The ACK's sending application
    and facility default to the receiving ones of the original; ``control_id`` to a new random id.
    """
    if code not in ACK_CODES:
        raise ValueError(f"acknowledgment code must be one of {ACK_CODES}, not {code!r}")
    if code == "AA" and error is not None:
        raise ValueError("an AA acknowledgment carries no error")
    header = _header_of(original)
    version_text = header.version if _VERSION.fullmatch(header.version) else DEFAULT_VERSION
    version = tuple(int(part) for part in version_text.split("."))
    # HL7 v2.5 2.15.9.9: MSH-9 of an ACK is ACK ^ the original event ^ structure ACK; the structure
    # component exists since v2.3.1.
    msh9 = ["ACK", escape(header.trigger_event)]
    if version >= (2, 3, 1):
        msh9.append("ACK")
    charset = header.charset if codec_for(header.charset) else ""
    now = timestamp or datetime.now().astimezone()
    # HL7 v2.5 2.9.2 / 2.15.9: the ACK goes back to the sender (MSH-3/4 and MSH-5/6 swapped); MSH-10 is
    # its own control id (ST, at most 20 characters), MSH-11 and MSH-12 follow the original.
    msh = [
        "MSH",
        "^~\\&",
        _hd(sending_application or header.receiving_application),
        _hd(sending_facility or header.receiving_facility),
        _hd(header.sending_application),
        _hd(header.sending_facility),
        now.strftime("%Y%m%d%H%M%S%z"),
        "",
        _join(msh9, "^"),
        escape(control_id or uuid.uuid4().hex[:20]),
        escape(header.processing_id or "P"),
        version_text,
        *([""] * 5),
        escape(charset),
    ]
    message_text = text if text is not None else (error.text if error is not None else "")
    # HL7 v2.5 2.15.8: MSA-1 acknowledgment code, MSA-2 the original MSH-10, MSA-3 text message.
    msa = ["MSA", code, escape(header.control_id), escape(message_text[:_MSA_TEXT_LENGTH])]
    if error is not None and version < (2, 5):
        # HL7 v2.3.1 MSA-6 (error condition, CE from Table 0357); deprecated in v2.5, where ERR-3 holds it.
        msa += ["", "", _error_code(error)]
    segments = [_join(msh, "|"), _join(msa, "|")]
    if error is not None:
        segments.append(_err_segment(error, version))
    ack = "".join(segment + "\r" for segment in segments)
    return ack.encode(codec_for(charset) or "utf-8", errors="replace")

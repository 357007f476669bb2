"""Writing HL7 v2 messages: MSH, ERR, PID and the character set of MSH-18.

Like the registry, the PIX Manager reads and writes HL7 v2 with ``xds.hl7v2`` rather than hl7apy: one
reader for ITI-8 in both actors (v2.3.1 and v2.5, any delimiters, LF or CR, errors with HL7 condition and
location for the ERR segment), and answers written from our own escaped data types. hl7apy (whose QPD knows
only fields 1-3, and whose validation stops at the first problem without an HL7 error code) serves the
tests as an independent reader of our RSP^K23 / RSP^K22 answers.

Everything the PIX Manager sends is written with the default delimiters ``|^~\\&``; values come from
``xds.hl7v2`` data types (already escaped) or are escaped here. A character the message's character set
cannot hold (an ``Ö`` in an ASCII answer) travels as HL7 hex data (HL7 v2.5 2.7.2 ``\\Xhh\\``) of its UTF-8
bytes, which ``xds.hl7v2.unescape`` reads back.
"""

from __future__ import annotations

import codecs
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from xds.hl7v2 import ErrorLocation, Hl7Error, MessageHeader, escape
from xds.hl7v2.er7 import codec_for

UTF8 = "UNICODE UTF-8"
NO_NAME = "~^^^^^^S"


def _hex_escape(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(f"\\X{char.encode('utf-8').hex().upper()}\\" for char in text), error.end


codecs.register_error("hl7hex", _hex_escape)


def encode(segments: Iterable[str], charset: str) -> bytes:
    """Segments joined by CR (HL7 v2.5 2.5), in the character set named by MSH-18 (HL7 Table 0211)."""
    text = "".join(segment + "\r" for segment in segments)
    return text.encode(codec_for(charset) or "utf-8", errors="hl7hex")


def join(parts: Sequence[str], separator: str = "|") -> str:
    """Fields or components, trailing empty ones left out (HL7 v2.5 2.5)."""
    items = list(parts)
    while items and items[-1] == "":
        items.pop()
    return separator.join(items)


def timestamp() -> str:
    return datetime.now().astimezone().strftime("%Y%m%d%H%M%S%z")


def control_id() -> str:
    # HL7 v2.5 2.15.9.10: MSH-10 is an ST of at most 20 characters
    return uuid.uuid4().hex[:20]


def msh(
    message_type: str,
    *,
    sending: tuple[str, str],
    receiving: tuple[str, str],
    version: str = "2.5",
    charset: str = UTF8,
    processing_id: str = "P",
    control: str | None = None,
) -> str:
    """An MSH segment; ``sending``/``receiving`` are (application, facility) already in HD form."""
    # HL7 v2.5 2.15.9: MSH-3..6 applications/facilities, MSH-7 time, MSH-9 type, MSH-10 control id,
    # MSH-11 processing id, MSH-12 version, MSH-18 character set
    fields = [
        "MSH",
        "^~\\&",
        *sending,
        *receiving,
        timestamp(),
        "",
        message_type,
        control or control_id(),
        processing_id,
        version,
        "",
        "",
        "",
        "",
        "",
        charset,
    ]
    return join(fields)


def reply_msh(request: MessageHeader, message_type: str, application: str, facility: str) -> str:
    """The MSH of an answer: back to the sender, in the request's version and character set."""
    # HL7 v2.5 2.9.2: the response goes to MSH-3/4 of the request, as MSH-5/6
    sender = tuple(
        "" if hd is None else hd.render() for hd in (request.sending_application, request.sending_facility)
    )
    charset = request.charset if codec_for(request.charset) else ""
    return msh(
        message_type,
        sending=(escape(application), escape(facility)),
        receiving=(sender[0], sender[1]),
        version=request.version or "2.5",
        charset=charset,
        processing_id=request.processing_id or "P",
    )


def err(error: Hl7Error, application_code: str = "") -> str:
    """An HL7 v2.5 ERR segment: ERR-2 location, ERR-3 code (Table 0357), ERR-4 severity, ERR-5, ERR-8."""
    location = "" if error.location is None else "^".join(error.location.parts())
    code = f"{error.condition.value}^{escape(error.condition.text)}^HL70357"
    return join(["ERR", "", location, code, "E", application_code, "", "", escape(error.text)])


def location(
    segment: str, field: int, repetition: int | None = None, component: int | None = None
) -> ErrorLocation:
    return ErrorLocation(segment, 1, field, repetition, component)


def pid(
    identifiers: Sequence[str],
    names: Sequence[str] = (),
    birth_date: str = "",
    sex: str = "",
    addresses: Sequence[str] = (),
    set_id: str = "",
) -> str:
    """PID: PID-1 set id, PID-3 identifiers (CX), PID-5 names (XPN), PID-7 birth date, PID-8 sex, PID-11
    addresses (XAD); values already encoded. Without names, PID-5 (required) is ``~^^^^^^S``: an empty
    repetition and one of name type S, coded pseudo-name (ITI TF-2a 3.9.4.2.2.6 for the PIX Query answer)."""
    name = "~".join(names) if names else NO_NAME
    fields = [
        "PID",
        set_id,
        "",
        "~".join(identifiers),
        "",
        name,
        "",
        escape(birth_date),
        escape(sex),
        "",
        "",
        "~".join(addresses),
    ]
    return join(fields)

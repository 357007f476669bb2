"""Syslog for audit records (ITI TF-2a 3.20.4.2): the RFC 5424 message, RFC 5425 octet-counting frames on
TLS, one message per datagram on UDP (RFC 5426). Sans-IO: bytes in, bytes or messages out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

BOM = b"\xef\xbb\xbf"
# ITI TF-2a 3.20.4.2.1 / DICOM PS3.15 A.7: facility 10 (security/authorization), severity 5 (notice)
PRI = 10 * 8 + 5
MSGID = "IHE+RFC-3881"
MAX_MESSAGE_BYTES = 1 << 20  # a receiver's cap on one framed message
_NIL = "-"
# RFC 5424 6: HEADER = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID, each PRINTUSASCII;
# then STRUCTURED-DATA (we send and accept only NILVALUE or one or more [..] blocks) and MSG
_HEADER = re.compile(
    rb"<(?P<pri>\d{1,3})>1 (?P<time>[!-~]+) (?P<host>[!-~]+) (?P<app>[!-~]+) (?P<proc>[!-~]+) "
    rb"(?P<msgid>[!-~]+) "
    rb"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?\Z",
    re.S,
)


class SyslogError(ValueError):
    """Bytes that are not an RFC 5424 message or RFC 5425 frame."""


@dataclass(frozen=True)
class SyslogRecord:
    pri: int
    time: str
    hostname: str
    app_name: str
    procid: str
    msgid: str
    msg: bytes  # without a BOM


def _field(value: str | None, limit: int) -> str:
    # RFC 5424 6: PRINTUSASCII without spaces, bounded length; NILVALUE when unknown
    text = "".join(c for c in (value or "") if 33 <= ord(c) <= 126)[:limit]
    return text or _NIL


def encode(msg: bytes, *, hostname: str, app_name: str, procid: str, time: datetime | None = None) -> bytes:
    """One SYSLOG-MSG carrying ``msg`` (the UTF-8 audit XML; RFC 5424 6.4: BOM first)."""
    stamp = (time or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    header = " ".join(
        (
            f"<{PRI}>1",
            stamp.replace("+00:00", "Z"),
            _field(hostname, 255),
            _field(app_name, 48),
            _field(procid, 128),
            MSGID,
            _NIL,
        )
    )
    return header.encode("ascii") + b" " + BOM + msg


def parse(data: bytes) -> SyslogRecord:
    match = _HEADER.match(data)
    if match is None:
        raise SyslogError("not an RFC 5424 syslog message")
    pri = int(match["pri"])
    if pri > 191:
        raise SyslogError(f"PRI {pri} is out of range")
    msg = match["msg"] or b""
    if msg.startswith(BOM):
        msg = msg[len(BOM) :]
    return SyslogRecord(
        pri,
        match["time"].decode(),
        match["host"].decode(),
        match["app"].decode(),
        match["proc"].decode(),
        match["msgid"].decode(),
        msg,
    )


def frame(message: bytes) -> bytes:
    """RFC 5425 4.3: MSG-LEN SP SYSLOG-MSG."""
    return str(len(message)).encode("ascii") + b" " + message


class FrameDecoder:
    """RFC 5425 4.3 octet counting over a stream: ``feed`` bytes, get the complete messages."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_message_bytes

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages: list[bytes] = []
        while True:
            space = self._buffer.find(b" ", 0, 12)
            if space < 0:
                if len(self._buffer) >= 12 or not self._buffer[:12].isdigit() and self._buffer:
                    raise SyslogError("a frame does not start with its length")
                return messages
            digits = bytes(self._buffer[:space])
            # RFC 5425 4.3.1: MSG-LEN = NONZERO-DIGIT *DIGIT
            if not digits.isdigit() or digits.startswith(b"0"):
                raise SyslogError("a frame does not start with its length")
            length = int(digits)
            if length > self._max:
                raise SyslogError(f"a frame of {length} bytes is over the limit of {self._max}")
            end = space + 1 + length
            if len(self._buffer) < end:
                return messages
            messages.append(bytes(self._buffer[space + 1 : end]))
            del self._buffer[:end]

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

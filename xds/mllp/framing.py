"""Sans-IO MLLP framing: bytes in, complete HL7 v2 messages out.

HL7 v2.5 Appendix C.4 (Minimal Lower Layer Protocol), used by ITI-8/9/21 (ITI TF-2x Appendix C): a message
travels as ``<SB> message <EB><CR>`` with SB = 0x0B and EB = 0x1C. The decoder never touches a socket, so
it is tested with arbitrary chunking, like the MTOM parser.
"""

from __future__ import annotations

import re

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c"
CARRIAGE_RETURN = b"\x0d"
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

_FRAME_BYTE = re.compile(b"[\x0b\x1c]")


class MllpError(Exception):
    """The byte stream breaks MLLP framing (oversize frame, stray bytes in strict mode, ...)."""


def frame(message: bytes) -> bytes:
    """Wrap one message as ``0x0B message 0x1C 0x0D``.

    Raises ``MllpError`` if the message itself holds a block character: the receiver could not tell it
    from the frame boundary.
    """
    # HL7 v2.5 Appendix C.4: the HL7 content may not contain the start or end block characters.
    if START_BLOCK in message or END_BLOCK in message:
        raise MllpError("message contains an MLLP block character (0x0B or 0x1C)")
    return START_BLOCK + message + END_BLOCK + CARRIAGE_RETURN


class MllpDecoder:
    """Incremental MLLP decoder: ``feed(chunk)`` returns the messages completed by ``chunk``.

    A message is complete at its end block 0x1C; the 0x0D that follows is consumed when it arrives.
    Lenient by default (robust towards senders that add a newline after the trailer): bytes outside a
    frame are dropped and counted in ``discarded_bytes``, a start block inside an open frame drops the
    unfinished frame and starts a new one. With ``strict=True`` each of these raises ``MllpError``.
    A frame longer than ``max_message_bytes`` always raises ``MllpError``; after any ``MllpError`` the
    stream is out of step and the connection should be closed.
    """

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, *, strict: bool = False) -> None:
        if max_message_bytes < 1:
            raise ValueError("max_message_bytes must be positive")
        self.max_message_bytes = max_message_bytes
        self.strict = strict
        self.discarded_bytes = 0
        self._buffer = bytearray()
        self._in_frame = False
        self._expect_cr = False

    @property
    def in_frame(self) -> bool:
        """True while a frame is open (its start block seen, its end block not yet)."""
        return self._in_frame

    def feed(self, data: bytes) -> list[bytes]:
        messages: list[bytes] = []
        pos, size = 0, len(data)
        while pos < size:
            if self._expect_cr:
                self._expect_cr = False
                # HL7 v2.5 Appendix C.4: the end block is 0x1C followed by 0x0D.
                if data[pos] == CARRIAGE_RETURN[0]:
                    pos += 1
                    continue
                if self.strict:
                    raise MllpError("end block 0x1C not followed by 0x0D")
            if self._in_frame:
                pos = self._read_in_frame(data, pos, messages)
            else:
                pos = self._skip_to_start(data, pos)
        return messages

    def _skip_to_start(self, data: bytes, pos: int) -> int:
        start = data.find(START_BLOCK, pos)
        stop = len(data) if start < 0 else start
        if stop > pos:
            # HL7 v2.5 Appendix C.4: only framed messages travel on the connection.
            if self.strict:
                raise MllpError(f"{stop - pos} byte(s) outside an MLLP frame")
            self.discarded_bytes += stop - pos
        if start < 0:
            return len(data)
        self._in_frame = True
        return start + 1

    def _read_in_frame(self, data: bytes, pos: int, messages: list[bytes]) -> int:
        match = _FRAME_BYTE.search(data, pos)
        stop = len(data) if match is None else match.start()
        if len(self._buffer) + stop - pos > self.max_message_bytes:
            raise MllpError(f"MLLP frame larger than {self.max_message_bytes} bytes")
        self._buffer += data[pos:stop]
        if match is None:
            return stop
        if match.group() == START_BLOCK:
            if self.strict:
                raise MllpError("start block 0x0B inside an open MLLP frame")
            self.discarded_bytes += len(self._buffer) + 1
            self._buffer.clear()
            return stop + 1
        messages.append(bytes(self._buffer))
        self._buffer.clear()
        self._in_frame = False
        self._expect_cr = True
        return stop + 1

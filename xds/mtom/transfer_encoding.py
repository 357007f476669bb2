"""Streaming decoders for the Content-Transfer-Encoding of a MIME part (RFC 2045 6)."""

from __future__ import annotations

import binascii
from typing import Protocol

from xds.mtom.errors import MtomError, MtomErrorCode

_BASE64_SPACE = b" \t\r\n"


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def finish(self) -> None: ...


class IdentityDecoder:
    """binary, 8bit, 7bit (RFC 2045 6.2): the octets are the content."""

    def decode(self, data: bytes) -> bytes:
        return data

    def finish(self) -> None:
        return None


class Base64Decoder:
    """RFC 2045 6.8 base64, decoded chunk by chunk; a quad split across chunks waits for its rest."""

    def __init__(self) -> None:
        self._rest = b""
        self._padded = False

    def decode(self, data: bytes) -> bytes:
        # RFC 2045 6.8: line breaks (and we tolerate blanks) are not part of the encoding
        data = self._rest + data.translate(None, _BASE64_SPACE)
        usable = len(data) - len(data) % 4
        self._rest = data[usable:]
        if not usable:
            return b""
        if self._padded:
            # RFC 2045 6.8: "=" only ends the data; nothing may follow it
            raise MtomError("base64 data after its padding", MtomErrorCode.BAD_BASE64)
        self._padded = data[usable - 1] == 0x3D
        try:
            return binascii.a2b_base64(data[:usable], strict_mode=True)
        except binascii.Error as exc:
            raise MtomError(f"malformed base64 content: {exc}", MtomErrorCode.BAD_BASE64) from exc

    def finish(self) -> None:
        if self._rest:
            raise MtomError("base64 content ends inside a quad", MtomErrorCode.BAD_BASE64)


def decoder_for(transfer_encoding: str) -> Decoder:
    """A decoder for a Content-Transfer-Encoding value; quoted-printable and the unknown are refused."""
    encoding = transfer_encoding.strip().lower()
    # RFC 2045 6.1: absent means 7bit; XOP 1.0 5 and MTOM send binary
    if encoding in ("", "binary", "8bit", "7bit"):
        return IdentityDecoder()
    if encoding == "base64":
        return Base64Decoder()
    raise MtomError(
        f"unsupported Content-Transfer-Encoding {encoding!r}", MtomErrorCode.UNSUPPORTED_TRANSFER_ENCODING
    )

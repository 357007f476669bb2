"""What the consumer's DICOM associations share: TCP_NODELAY on every socket (DESIGN: without it each
message stalls ~40 ms) and one-line descriptions of DIMSE statuses."""

from __future__ import annotations

import contextlib
import socket

from pydicom.dataset import Dataset

# PS3.4 C.4.2.1.5 Table C.4-2 (C-MOVE) and Annex B Table B.2-1 (C-STORE), our short wording
STATUS_TEXT = {
    0xA701: "Refused: out of resources (number of matches)",
    0xA702: "Refused: out of resources (sub-operations)",
    0xA801: "Refused: Move Destination unknown",
    0xA900: "Identifier does not match SOP Class",
    0xC000: "Unable to process",
    0xFE00: "Cancelled",
    0xB000: "Warning: sub-operations complete, one or more failures",
    0x0122: "Refused: SOP Class not supported",
    0x0124: "Refused: not authorized",
}
SUCCESS = 0x0000
WARNINGS = (0xB000, 0xB006, 0xB007)  # C-STORE coercion / elements discarded / data set mismatch: stored


def nodelay(event) -> None:  # noqa: ANN001 - a pynetdicom Event
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def status_text(status: Dataset | None) -> str:
    if status is None or "Status" not in status:
        return "no answer (association aborted or timed out)"
    code = int(status.Status)
    text = STATUS_TEXT.get(code) or ("Failure" if code & 0xF000 in (0xA000, 0xC000) else "status")
    comment = status.get("ErrorComment", "")
    return f"{code:04X} {text}" + (f" ({comment})" if comment else "")

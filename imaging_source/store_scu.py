"""A Storage SCU association of our own (PS3.4 B.2, PS3.7 9.1.1, PS3.8 9.3): instances sent from their files.

The C-STORE sub-operations of a C-MOVE (PS3.4 C.4.2.3) go out on it: pynetdicom's SCU sends a data set as
one queued PDU at a time through its state machine and polls for the answer every millisecond (61 MB/s at
most on this machine). Here the data set is read from the file in blocks of about 1 MiB and each block goes
out as the peer's maximum PDU size allows, in one send; the answer is read as soon as it arrives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from collections import deque
from pathlib import Path

from imaging_source import dimse, pdu
from imaging_source.header import HEAD, data_set_offset
from imaging_source.vocabulary import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION

BLOCK = 1 << 20
READ = 1 << 16


class AssociationFailed(ConnectionError):
    """The peer refused or broke the association."""


class StoreScu:
    def __init__(self, sock: socket.socket, proposed: dict[int, str], accept: pdu.AssociateAccept) -> None:
        self.sock = sock
        self.proposed = proposed  # context id -> abstract syntax
        self.accept = accept
        self.parser = pdu.PduParser()
        self._buffer = bytearray(READ)
        self._received: deque[pdu.ControlPdu | pdu.PdvData] = deque()  # parsed, not yet asked for
        self.broken: str | None = None  # why the association can carry no more messages

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        *,
        called_ae: str,
        calling_ae: str,
        contexts: list[tuple[str, list[str]]],
        timeout: float,
    ) -> StoreScu:
        """Connect and negotiate ``contexts`` (abstract syntax, transfer syntaxes); AssociationFailed when the
        peer rejects or aborts, OSError when it cannot be reached."""
        # PS3.8 9.3.2.2: presentation context ids are odd, 1 to 255
        numbered = [(2 * i + 1, abstract, syntaxes) for i, (abstract, syntaxes) in enumerate(contexts[:128])]
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = pdu.associate_rq(
                called_ae,
                calling_ae,
                numbered,
                max_length=0,
                implementation_class_uid=IMPLEMENTATION_CLASS_UID,
                implementation_version=IMPLEMENTATION_VERSION,
            )
            sock.sendall(request)
            scu = cls(sock, {cid: abstract for cid, abstract, _ in numbered}, pdu.AssociateAccept({}))
            answer = scu._control()
            if answer.pdu_type != pdu.A_ASSOCIATE_AC:
                raise AssociationFailed(f"association refused (PDU 0x{answer.pdu_type:02X})")
            scu.accept = pdu.parse_associate_ac(answer.body)
            if 0 < scu.accept.max_length <= pdu.PDV_OVERHEAD:
                raise AssociationFailed(f"a maximum PDU length of {scu.accept.max_length} leaves no room")
            return scu
        except BaseException:
            sock.close()
            raise

    def accepted_syntaxes(self, sop_class_uid: str) -> list[str]:
        return [ts for cid, ts in self.accept.accepted.items() if self.proposed.get(cid) == sop_class_uid]

    def send(
        self,
        path: Path,
        sop_class_uid: str,
        sop_instance_uid: str,
        transfer_syntax: str,
        *,
        message_id: int,
        priority: int = 0,
        originator_ae: str = "",
        originator_id: int | None = None,
    ) -> int:
        """C-STORE the data set of the PS3.10 file at ``path`` (its File Meta Information is not sent, PS3.10
        7.1) on the context accepted for (SOP Class, transfer syntax): the status of the C-STORE-RSP."""
        context_id = next(
            (cid for cid, ts in self.accept.accepted.items()
             if ts == transfer_syntax and self.proposed.get(cid) == sop_class_uid),
            None,
        )
        if context_id is None:
            raise ValueError(f"no accepted presentation context for {sop_class_uid} in {transfer_syntax}")
        if self.broken is not None:
            raise AssociationFailed(f"the association was aborted: {self.broken}")
        command = dimse.store_rq(message_id, sop_class_uid, sop_instance_uid, originator_ae=originator_ae,
                                 originator_id=originator_id, priority=priority)
        try:
            self._message(context_id, command, path)
            return self._response(message_id)
        except BaseException as exc:
            # a message half sent or an answer not read leaves the association unusable: PS3.8 7.3 A-ABORT
            self.broken = str(exc) or type(exc).__name__
            with contextlib.suppress(OSError):
                self.sock.sendall(pdu.abort(pdu.ABORT_SOURCE_USER))
            self.close()
            raise

    def _message(self, context_id: int, command: bytes, path: Path) -> None:
        # PS3.8 9.3.5 / Annex E: the command, then the data set in fragments of at most the peer's maximum
        # length, the last of each marked; the command goes out with the first block of the data set
        limit = self.accept.max_length
        room = min(limit - pdu.PDV_OVERHEAD, BLOCK) if limit else BLOCK  # a PDV never holds more than a block
        block = memoryview(bytearray(BLOCK // room * room))
        with path.open("rb", buffering=0) as file:
            left = os.fstat(file.fileno()).st_size
            count = file.readinto(block)
            offset = data_set_offset(bytes(block[: min(count, HEAD)]))
            left -= offset
            data = block[offset:count]
            pieces: list[bytes | memoryview] = [*pdu.fragments(context_id, 1, command, limit)]
            while True:
                left -= len(data)
                for start in range(0, max(len(data), 1), room):
                    piece = data[start : start + room]
                    last = 2 if left <= 0 and start + room >= len(data) else 0
                    pieces += [pdu.pdata_header(context_id, last, len(piece)), piece]
                self.sock.sendall(b"".join(pieces))
                if left <= 0:
                    return
                count = file.readinto(block[: min(len(block), left)])
                if not count:
                    raise OSError(f"{path.name} ended early")
                data = block[:count]
                pieces = []

    def _next(self) -> pdu.ControlPdu | pdu.PdvData:
        """The next thing the peer sent; PDV data copied, since the receive buffer is read into again."""
        while not self._received:
            count = self.sock.recv_into(self._buffer)
            if not count:
                raise AssociationFailed("the peer closed the connection")
            for event in self.parser.feed(memoryview(self._buffer)[:count]):
                if isinstance(event, pdu.PdvData):
                    event = dataclasses.replace(event, data=memoryview(bytes(event.data)))
                self._received.append(event)
        return self._received.popleft()

    def _response(self, message_id: int) -> int:
        command = bytearray()
        while True:
            event = self._next()
            if isinstance(event, pdu.ControlPdu):
                raise AssociationFailed(f"PDU 0x{event.pdu_type:02X} instead of the C-STORE-RSP")
            if not event.is_command:
                raise AssociationFailed("a data set where the C-STORE-RSP was due")
            command += event.data
            if event.last and event.end:
                answer = dimse.decode(command)
                if answer.field != dimse.C_STORE_RSP or answer.message_id != message_id:
                    raise AssociationFailed("an answer to another request")
                return answer.status if answer.status is not None else 0xC000

    def _control(self) -> pdu.ControlPdu:
        event = self._next()
        if not isinstance(event, pdu.ControlPdu):
            raise AssociationFailed("data where a control PDU was due")
        return event

    def release(self) -> None:
        """PS3.8 7.2: A-RELEASE-RQ, then the RP (or whatever ends it) before the connection is closed."""
        try:
            self.sock.sendall(pdu.release_rq())
            self._control()
        except (OSError, pdu.ProtocolError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

"""The storage fast path of the DICOM listener: associations that only store (and echo), served without
pynetdicom.

pynetdicom reads a socket 4 KiB at a time and passes every PDU through its state machine and queues: 60 MB/s
at most on this machine, where dcmtk moves 390 MB/s (bench/imaging.py). An association whose presentation
contexts are all Storage SOP Classes (PS3.4 Annex B) or Verification (PS3.4 Annex A) is the common case --
a modality or PACS sending a study -- and it needs little of the Upper Layer: accept the contexts, then per
C-STORE-RQ stream the data set PDVs into a PS3.10 file and answer once the instance is stored. Everything
else (Query/Retrieve, role selection, user identity, TLS) stays with pynetdicom (imaging_source.listener
routes by a look at the A-ASSOCIATE-RQ it does not consume).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from pydicom.dataset import Dataset
from pynetdicom import ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts

from imaging_source import dimse, header, pdu
from imaging_source.audit import ImagingAudit
from imaging_source.pdu import ProtocolError
from imaging_source.vocabulary import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION,
    IMPLICIT_VR_LE,
    STATUS_CANNOT_UNDERSTAND,
    STATUS_OUT_OF_RESOURCES,
)
from xds.audit.events import DicomPeer

log = logging.getLogger(__name__)

VERIFICATION = "1.2.840.10008.1.1"
STORAGE_CLASSES = frozenset(str(cx.abstract_syntax) for cx in AllStoragePresentationContexts)
TRANSFER_SYNTAXES = tuple(str(uid) for uid in ALL_TRANSFER_SYNTAXES)
RECEIVE_BUFFER = 1 << 20
ACSE_TIMEOUT = 30  # seconds for the A-ASSOCIATE-RQ to arrive (as the pynetdicom listener's acse_timeout)
NETWORK_TIMEOUT = 60  # seconds of silence before the association is aborted (its network_timeout)
# a request longer than this (some 300 contexts) is left to pynetdicom: a peek must fit the socket's buffer
MAX_PEEK = 1 << 16
MAX_COMMAND = 1 << 16  # a C-STORE-RQ or C-ECHO-RQ command set is a few hundred bytes
STATUS_SOP_CLASS_NOT_SUPPORTED = 0x0122  # PS3.7 Annex C.5 general status: Refused: SOP Class not supported


class Receiver(Protocol):
    """Takes a received file (its first ``head`` bytes and ``size`` kept by the receiver) for the C-STORE of
    (SOP Class, SOP Instance): the status data set to answer with (imaging_source.intake.Intake.receive)."""

    def __call__(
        self,
        path: Path,
        sop_class_uid: str,
        sop_instance_uid: str,
        calling_ae: str,
        *,
        head: bytes,
        size: int,
    ) -> Dataset: ...


def _receive_timeout(sock: socket.socket, seconds: int) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, 0))


def peek_request(sock: socket.socket) -> pdu.AssociateRequest | None:
    """The A-ASSOCIATE-RQ waiting on ``sock``, read without consuming it; None when what waits is anything
    else (pynetdicom then answers it as before). The socket blocks, so that MSG_WAITALL makes the kernel
    wait for a request that comes in several TCP segments (a Python timeout would make it non-blocking);
    SO_RCVTIMEO bounds the wait."""
    sock.settimeout(None)
    _receive_timeout(sock, ACSE_TIMEOUT)
    try:
        head = sock.recv(6, socket.MSG_PEEK | socket.MSG_WAITALL)
        if len(head) < 6 or head[0] != pdu.A_ASSOCIATE_RQ:
            return None
        length = struct.unpack(">I", head[2:6])[0]
        if length > MAX_PEEK:
            return None
        whole = sock.recv(6 + length, socket.MSG_PEEK | socket.MSG_WAITALL)
        if len(whole) < 6 + length:
            return None
        return pdu.parse_associate_rq(whole[6:])
    except (OSError, ProtocolError):
        return None
    finally:
        _receive_timeout(sock, 0)


def storage_only(request: pdu.AssociateRequest) -> bool:
    """The association only stores or echoes, with nothing negotiated beyond the maximum length."""
    return (
        bool(request.contexts)
        and not request.other_user_items - {0x53}  # asynchronous operations: answered by omission (1/1)
        and all(c.abstract_syntax in STORAGE_CLASSES or c.abstract_syntax == VERIFICATION
                for c in request.contexts)
    )


def rejection(request: pdu.AssociateRequest) -> tuple[int, int] | None:
    """The (source, reason) of a permanent A-ASSOCIATE-RJ (PS3.8 Table 9-21) for a request that cannot be
    accepted at all, else None."""
    # PS3.8 9.3.2 Table 9-11: bit 0 of the protocol version
    if not request.protocol_version & 1:
        return pdu.RJ_SOURCE_ACSE, pdu.RJ_ACSE_PROTOCOL_VERSION
    # PS3.7 A.2.1: the DICOM application context
    if request.application_context != pdu.APPLICATION_CONTEXT:
        return pdu.RJ_SOURCE_USER, pdu.RJ_USER_APPLICATION_CONTEXT
    # PS3.8 D.1: a maximum length that leaves no P-DATA-TF room for a byte of data
    if 0 < request.max_length <= pdu.PDV_OVERHEAD:
        return pdu.RJ_SOURCE_USER, pdu.RJ_USER_NO_REASON
    return None


def negotiate(request: pdu.AssociateRequest) -> list[tuple[int, int, str]]:
    """PS3.8 9.3.3.2: per proposed context, accepted with the first proposed transfer syntax we know (PS3.5
    Annex A), else rejected as transfer-syntaxes-not-supported; a context id that is even or used twice
    (PS3.8 9.3.2.2: odd, unique) is rejected without reason. The transfer syntax of a rejected context is
    not significant: the default one is named."""
    results = []
    seen: set[int] = set()
    for context in request.contexts:
        chosen = next((ts for ts in context.transfer_syntaxes if ts in TRANSFER_SYNTAXES), None)
        if context.context_id % 2 == 0 or context.context_id in seen:
            results.append((context.context_id, pdu.PROVIDER_REJECTION, IMPLICIT_VR_LE))
        elif chosen is None:
            results.append((context.context_id, pdu.TRANSFER_SYNTAXES_NOT_SUPPORTED, IMPLICIT_VR_LE))
        else:
            results.append((context.context_id, pdu.ACCEPTANCE, chosen))
        seen.add(context.context_id)
    return results


def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def file_meta(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str, source_ae: str) -> bytes:
    """PS3.10 7.1: preamble, "DICM" and the File Meta Information of a received instance."""
    elements = b"".join((
        struct.pack("<HH2s2xI", 0x0002, 0x0001, b"OB", 2) + b"\x00\x01",
        _element(0x00020002, b"UI", dimse.padded(sop_class_uid, b"\0")),
        _element(0x00020003, b"UI", dimse.padded(sop_instance_uid, b"\0")),
        _element(0x00020010, b"UI", dimse.padded(transfer_syntax, b"\0")),
        _element(0x00020012, b"UI", dimse.padded(IMPLEMENTATION_CLASS_UID, b"\0")),
        _element(0x00020013, b"SH", dimse.padded(IMPLEMENTATION_VERSION, b" ")),
        _element(0x00020016, b"AE", dimse.padded(source_ae[:16], b" ")) if source_ae else b"",
    ))
    return bytes(128) + b"DICM" + _element(0x00020000, b"UL", struct.pack("<I", len(elements))) + elements


@dataclass
class _Incoming:
    """The C-STORE whose data set is arriving: into ``file``, or discarded when it is already refused."""

    command: dimse.Command
    context_id: int
    path: Path | None = None
    file: BinaryIO | None = None
    refusal: tuple[int, str] | None = None  # the status to answer with, and its Error Comment
    head: bytearray = field(default_factory=bytearray)  # the file's first bytes, for its header
    size: int = 0  # the bytes written

    def write(self, data: bytes | memoryview) -> None:
        if self.file is None:
            return
        if len(self.head) < header.HEAD:
            self.head += data[: header.HEAD - len(self.head)]
        self.size += len(data)
        try:
            self.file.write(data)
        except OSError as exc:
            # PS3.4 Table B.2-1 A7xx: Refused, Out of Resources (a full disk); the rest is read and dropped
            self.refuse(STATUS_OUT_OF_RESOURCES, f"cannot store: {exc.strerror or exc}")

    def refuse(self, status: int, comment: str) -> None:
        self.refusal = (status, comment)
        self.discard()

    def discard(self) -> None:
        """Close and delete the partly written file."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def close(self) -> None:
        if self.file is not None:
            file, self.file = self.file, None
            with contextlib.suppress(OSError):
                file.close()


class StorageAssociation:
    """One storage-only association, served on a blocking socket by the thread that calls ``run``."""

    def __init__(
        self,
        sock: socket.socket,
        address: tuple[str, int],
        *,
        receive: Receiver,
        new_tmp: Callable[[], Path],
        audit: ImagingAudit,
        max_pdu: int,
    ) -> None:
        self.sock = sock
        self.address = address
        self.receive = receive
        self.new_tmp = new_tmp
        self.audit = audit
        self.max_pdu = max_pdu
        self.parser = pdu.PduParser()
        self.contexts: dict[int, tuple[str, str]] = {}  # accepted id -> (abstract syntax, transfer syntax)
        self.peer_max = 0
        self.calling_ae = ""
        self.command = bytearray()
        self.incoming: _Incoming | None = None

    def run(self) -> None:
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self._associate():
                self._serve()
        except ProtocolError as exc:  # PS3.8 9.3.8: the provider aborts, saying why
            log.warning("DICOM association from %s aborted: %s", self.address[0], exc)
            with contextlib.suppress(OSError):
                self.sock.sendall(pdu.abort(pdu.ABORT_SOURCE_PROVIDER, exc.reason))
        except OSError as exc:
            log.info("DICOM association from %s ended: %s", self.address[0], exc)
        except Exception:  # a fault of ours: the peer still learns the association is gone
            log.exception("DICOM association from %s failed", self.address[0])
            with contextlib.suppress(OSError):
                self.sock.sendall(pdu.abort(pdu.ABORT_SOURCE_PROVIDER, 0))
        finally:
            self._discard()
            self.audit.receiving_ended(self)
            with contextlib.suppress(OSError):
                self.sock.close()

    def _associate(self) -> bool:
        # the listener only peeked at the request: read it now, with the parser that reads what follows
        self.sock.settimeout(ACSE_TIMEOUT)
        received = self._next_control(pdu.A_ASSOCIATE_RQ)
        request = pdu.parse_associate_rq(received.body)
        self.calling_ae = pdu.calling_ae(request)
        refusal = rejection(request)
        if refusal is not None:
            self.sock.sendall(pdu.associate_rj(pdu.RJ_PERMANENT, *refusal))
            return False
        results = negotiate(request)
        abstract = {c.context_id: c.abstract_syntax for c in request.contexts}
        self.contexts = {cid: (abstract[cid], ts) for cid, result, ts in results if result == pdu.ACCEPTANCE}
        self.peer_max = request.max_length
        self.sock.sendall(pdu.associate_ac(
            request, results, max_length=self.max_pdu, implementation_class_uid=IMPLEMENTATION_CLASS_UID,
            implementation_version=IMPLEMENTATION_VERSION,
        ))
        self.sock.settimeout(NETWORK_TIMEOUT)
        return True

    def _next_control(self, expected: int) -> pdu.ControlPdu:
        buffer = bytearray(4096)
        while True:
            count = self.sock.recv_into(buffer)
            if not count:
                raise OSError("connection closed before the A-ASSOCIATE-RQ")
            for event in self.parser.feed(memoryview(buffer)[:count]):
                if not isinstance(event, pdu.ControlPdu) or event.pdu_type != expected:
                    raise ProtocolError(pdu.ABORT_UNEXPECTED_PDU, "no A-ASSOCIATE-RQ first")
                return event

    def _serve(self) -> None:
        buffer = bytearray(RECEIVE_BUFFER)
        view = memoryview(buffer)
        while True:
            count = self.sock.recv_into(buffer)
            if not count:
                raise OSError("connection closed without A-RELEASE")
            for event in self.parser.feed(view[:count]):
                if isinstance(event, pdu.PdvData):
                    self._pdv(event)
                elif self._control(event):
                    return

    def _control(self, event: pdu.ControlPdu) -> bool:
        """True when the association is over."""
        if event.pdu_type == pdu.A_RELEASE_RQ:
            # PS3.8 7.2: released only between messages; the RP ends it
            self.sock.sendall(pdu.release_rp())
            return True
        if event.pdu_type == pdu.A_ABORT:
            log.info("DICOM association from %s aborted by the peer", self.address[0])
            return True
        raise ProtocolError(pdu.ABORT_UNEXPECTED_PDU, f"PDU 0x{event.pdu_type:02X} after the association")

    def _pdv(self, event: pdu.PdvData) -> None:
        if event.context_id not in self.contexts:
            raise ProtocolError(pdu.ABORT_INVALID_PARAMETER, f"PDV on unaccepted context {event.context_id}")
        if event.is_command:
            if self.incoming is not None:
                raise ProtocolError(pdu.ABORT_UNEXPECTED_PDU, "a command while a data set was due")
            self.command += event.data
            if len(self.command) > MAX_COMMAND:
                raise ProtocolError(pdu.ABORT_INVALID_PARAMETER, "a command set of more than 64 KiB")
            if event.last and event.end:
                self._command(event.context_id)
            return
        incoming = self.incoming
        if incoming is None or incoming.context_id != event.context_id:
            raise ProtocolError(pdu.ABORT_UNEXPECTED_PDU, "a data set without its C-STORE-RQ")
        incoming.write(event.data)
        if event.last and event.end:
            self.incoming = None
            incoming.close()
            self._stored(incoming)

    def _command(self, context_id: int) -> None:
        raw = bytes(self.command)
        self.command.clear()
        try:
            command = dimse.decode(raw)
        except dimse.CommandError as exc:
            raise ProtocolError(pdu.ABORT_INVALID_PARAMETER, str(exc)) from exc
        abstract, syntax = self.contexts[context_id]
        if command.field == dimse.C_ECHO_RQ:
            # PS3.7 9.3.5: Verification, on a Verification context (0122 on any other)
            status = 0 if abstract == VERIFICATION else STATUS_SOP_CLASS_NOT_SUPPORTED
            self._send(context_id, dimse.echo_rsp(command, status))
        elif command.field == dimse.C_STORE_RQ and command.has_data_set:
            incoming = _Incoming(command, context_id)
            self.incoming = incoming
            if command.sop_class_uid != abstract:
                # PS3.7 9.1.1.1: the Affected SOP Class is the context's abstract syntax
                incoming.refuse(STATUS_SOP_CLASS_NOT_SUPPORTED, "SOP Class is not the context's")
                return
            try:
                incoming.path = self.new_tmp()
                incoming.file = incoming.path.open("wb")
                meta = file_meta(command.sop_class_uid, command.sop_instance_uid, syntax, self.calling_ae)
                incoming.write(meta)
            except OSError as exc:
                incoming.refuse(STATUS_OUT_OF_RESOURCES, f"cannot store: {exc.strerror or exc}")
        else:
            # PS3.7 9.3: no other service runs on a storage context (a C-STORE-RQ carries a data set)
            raise ProtocolError(pdu.ABORT_INVALID_PARAMETER, f"command 0x{command.field:04X} on this context")

    def _stored(self, incoming: _Incoming) -> None:
        command = incoming.command
        if incoming.refusal is not None or incoming.path is None:
            code, comment = incoming.refusal or (STATUS_OUT_OF_RESOURCES, "")
        else:
            try:
                status = self.receive(
                    incoming.path, command.sop_class_uid, command.sop_instance_uid, self.calling_ae,
                    head=bytes(incoming.head), size=incoming.size,
                )
            except Exception:  # the SCP answers whatever happens (PS3.4 B.2.3); the server stays up
                log.exception("C-STORE of %s failed", command.sop_instance_uid)
                status = Dataset()
                status.Status = STATUS_CANNOT_UNDERSTAND
            finally:
                incoming.path.unlink(missing_ok=True)  # refused (a stored file was moved away)
            code, comment = int(status.Status), str(status.get("ErrorComment", ""))
        self.audit.received(self, DicomPeer(self.calling_ae, self.address[0]), command.sop_instance_uid, code)
        self._send(incoming.context_id, dimse.store_rsp(command, code, comment))

    def _send(self, context_id: int, command: bytes) -> None:
        self.sock.sendall(b"".join(pdu.fragments(context_id, 0x01, command, self.peer_max)))

    def _discard(self) -> None:
        if self.incoming is not None:
            self.incoming.discard()
            self.incoming = None

    def reject_busy(self) -> None:
        """PS3.8 Table 9-21: rejected-transient, local-limit-exceeded; the request is read first, so that the
        close does not reset the connection before the rejection is read."""
        self.sock.settimeout(ACSE_TIMEOUT)
        try:
            self._next_control(pdu.A_ASSOCIATE_RQ)
            limit = pdu.RJ_PRESENTATION_LOCAL_LIMIT
            self.sock.sendall(pdu.associate_rj(pdu.RJ_TRANSIENT, pdu.RJ_SOURCE_PRESENTATION, limit))
        except (OSError, ProtocolError) as exc:
            log.info("DICOM association from %s not rejected cleanly: %s", self.address[0], exc)
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()


class StorageRoute:
    """The fast path's associations: at most ``limit`` at once (beside pynetdicom's own limit), and ended
    by ``close`` when the listener stops."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._active: set[StorageAssociation] = set()
        self._lock = threading.Lock()

    def serve(self, association: StorageAssociation) -> None:
        if not self._slots.acquire(blocking=False):
            association.reject_busy()
            return
        with self._lock:
            self._active.add(association)
        try:
            association.run()
        finally:
            with self._lock:
                self._active.discard(association)
            self._slots.release()

    def close(self) -> None:
        """Cut the connections of the associations in progress: their threads end (what is half received
        is dropped, as on any lost connection)."""
        with self._lock:
            active = list(self._active)
        for association in active:
            with contextlib.suppress(OSError):
                association.sock.shutdown(socket.SHUT_RDWR)

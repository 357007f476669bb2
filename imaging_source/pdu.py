"""DICOM Upper Layer PDUs (PS3.8 9.3), sans-IO: bytes in, events out; bytes built for a caller to send.

Only what the storage fast path (imaging_source.store_scp, imaging_source.send) needs: the A-ASSOCIATE-RQ
read, A-ASSOCIATE-AC/RJ, P-DATA-TF, A-RELEASE-RQ/RP and A-ABORT. ``PduParser`` takes bytes in pieces of any
size and yields complete control PDUs and the P-DATA-TF PDVs as slices of what it was fed, so a data set
goes from the socket buffer to its file without being copied into a message first.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

# PS3.8 9.3.1: PDU types
A_ASSOCIATE_RQ = 0x01
A_ASSOCIATE_AC = 0x02
A_ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
A_RELEASE_RQ = 0x05
A_RELEASE_RP = 0x06
A_ABORT = 0x07

# PS3.7 A.2.1: the DICOM application context name
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"

# PS3.8 9.3.3.2 Table 9-18: presentation context results
ACCEPTANCE = 0
PROVIDER_REJECTION = 2  # no-reason (provider rejection)
TRANSFER_SYNTAXES_NOT_SUPPORTED = 4

# PS3.8 9.3.4 Table 9-21: A-ASSOCIATE-RJ result / source / reason
RJ_PERMANENT, RJ_TRANSIENT = 1, 2
RJ_SOURCE_USER, RJ_SOURCE_ACSE, RJ_SOURCE_PRESENTATION = 1, 2, 3
RJ_USER_NO_REASON, RJ_USER_APPLICATION_CONTEXT = 1, 2
RJ_ACSE_PROTOCOL_VERSION = 2
RJ_PRESENTATION_LOCAL_LIMIT = 2

# PS3.8 9.3.8 Table 9-26: A-ABORT source and provider reasons
ABORT_SOURCE_USER, ABORT_SOURCE_PROVIDER = 0, 2
ABORT_UNRECOGNIZED_PDU, ABORT_UNEXPECTED_PDU = 1, 2
ABORT_INVALID_PARAMETER = 6

# PS3.8 9.3.5.1: a PDV item's length field, context id and control header; a peer's maximum length must
# leave room for data after them
PDV_OVERHEAD = 6

# control PDUs are read whole; none that a peer may send is near this size (128 contexts are ~25 KB)
MAX_CONTROL_PDU = 1 << 20

_HEADER = struct.Struct(">BxI")
_PDV = struct.Struct(">IBB")
_ITEM = struct.Struct(">BxH")


class ProtocolError(ValueError):
    """The peer broke PS3.8: answered with an A-ABORT carrying ``reason``."""

    def __init__(self, reason: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class ProposedContext:
    context_id: int
    abstract_syntax: str
    transfer_syntaxes: list[str]


@dataclass
class AssociateRequest:
    """PS3.8 9.3.2: what an A-ASSOCIATE-RQ proposes."""

    protocol_version: int
    ae_titles: bytes  # called and calling AE title fields, 32 bytes as received
    application_context: str
    contexts: list[ProposedContext] = field(default_factory=list)
    max_length: int = 0  # the requestor's maximum P-DATA-TF length (0: no limit)
    # user information sub-items other than the above, by type (role selection 0x54, identity 0x58 ...)
    other_user_items: set[int] = field(default_factory=set)


def _text(raw: bytes | memoryview) -> str:
    # PS3.8 9.3.2 / Annex F: AE titles and UIDs are ASCII, padded with spaces or a trailing NUL
    return bytes(raw).decode("ascii", "replace").strip(" \0")


def _items(body: memoryview) -> Iterator[tuple[int, memoryview]]:
    offset = 0
    while offset < len(body):
        if offset + 4 > len(body):
            raise ProtocolError(ABORT_INVALID_PARAMETER, "truncated item header")
        item_type, length = _ITEM.unpack_from(body, offset)
        offset += 4
        if offset + length > len(body):
            raise ProtocolError(ABORT_INVALID_PARAMETER, f"item 0x{item_type:02X} longer than its PDU")
        yield item_type, body[offset : offset + length]
        offset += length


def parse_associate_rq(body: bytes | memoryview) -> AssociateRequest:
    """PS3.8 9.3.2 Table 9-11: the fixed fields, then the variable items."""
    view = memoryview(body)
    if len(view) < 68:
        raise ProtocolError(ABORT_INVALID_PARAMETER, "A-ASSOCIATE-RQ shorter than its fixed fields")
    request = AssociateRequest(
        protocol_version=struct.unpack_from(">H", view, 0)[0],
        ae_titles=bytes(view[4:36]),
        application_context="",
    )
    for item_type, value in _items(view[68:]):
        if item_type == 0x10:
            request.application_context = _text(value)
        elif item_type == 0x20:
            request.contexts.append(_proposed_context(value))
        elif item_type == 0x50:
            for sub_type, sub in _items(value):
                if sub_type == 0x51 and len(sub) == 4:
                    request.max_length = struct.unpack(">I", sub)[0]
                elif sub_type not in (0x52, 0x55):  # implementation class UID and version: information
                    request.other_user_items.add(sub_type)
    return request


def _proposed_context(value: memoryview) -> ProposedContext:
    # PS3.8 9.3.2.2: context id, three reserved bytes, one abstract syntax and one or more transfer syntaxes
    if len(value) < 4:
        raise ProtocolError(ABORT_INVALID_PARAMETER, "presentation context item too short")
    context = ProposedContext(value[0], "", [])
    for sub_type, sub in _items(value[4:]):
        if sub_type == 0x30:
            context.abstract_syntax = _text(sub)
        elif sub_type == 0x40:
            context.transfer_syntaxes.append(_text(sub))
    return context


def calling_ae(request: AssociateRequest) -> str:
    return _text(request.ae_titles[16:])


def _item(item_type: int, value: bytes) -> bytes:
    return _ITEM.pack(item_type, len(value)) + value


def _uid(value: str) -> bytes:
    return value.encode("ascii", "replace")


def _pdu(pdu_type: int, body: bytes) -> bytes:
    return _HEADER.pack(pdu_type, len(body)) + body


def _ae(title: str) -> bytes:
    return title.encode("ascii", "replace").ljust(16)[:16]


def _user_information(max_length: int, implementation_class_uid: str, implementation_version: str) -> bytes:
    # PS3.8 9.3.2.3 / Annex D: maximum length, implementation class UID and version name
    user = _item(0x51, struct.pack(">I", max_length)) + _item(0x52, _uid(implementation_class_uid))
    return _item(0x50, user + _item(0x55, implementation_version.encode("ascii")[:16]))


def associate_ac(
    request: AssociateRequest,
    results: list[tuple[int, int, str]],
    *,
    max_length: int,
    implementation_class_uid: str,
    implementation_version: str,
) -> bytes:
    """PS3.8 9.3.3: A-ASSOCIATE-AC; ``results`` holds (context id, result, transfer syntax) per proposed
    context. The AE title fields go back as received (PS3.8 9.3.3 Table 9-17)."""
    fixed = struct.pack(">HH", 1, 0) + request.ae_titles + bytes(32)
    items = [_item(0x10, _uid(APPLICATION_CONTEXT))]
    for context_id, result, transfer_syntax in results:
        items.append(_item(0x21, bytes((context_id, 0, result, 0)) + _item(0x40, _uid(transfer_syntax))))
    items.append(_user_information(max_length, implementation_class_uid, implementation_version))
    return _pdu(A_ASSOCIATE_AC, fixed + b"".join(items))


def associate_rq(
    called_ae: str,
    calling_ae: str,
    contexts: list[tuple[int, str, list[str]]],
    *,
    max_length: int,
    implementation_class_uid: str,
    implementation_version: str,
) -> bytes:
    """PS3.8 9.3.2: A-ASSOCIATE-RQ proposing (context id, abstract syntax, transfer syntaxes)."""
    fixed = struct.pack(">HH", 1, 0) + _ae(called_ae) + _ae(calling_ae) + bytes(32)
    items = [_item(0x10, _uid(APPLICATION_CONTEXT))]
    for context_id, abstract, syntaxes in contexts:
        subitems = _item(0x30, _uid(abstract)) + b"".join(_item(0x40, _uid(ts)) for ts in syntaxes)
        items.append(_item(0x20, bytes((context_id, 0, 0, 0)) + subitems))
    items.append(_user_information(max_length, implementation_class_uid, implementation_version))
    return _pdu(A_ASSOCIATE_RQ, fixed + b"".join(items))


@dataclass
class AssociateAccept:
    """PS3.8 9.3.3: what an A-ASSOCIATE-AC accepted."""

    accepted: dict[int, str]  # context id -> transfer syntax, for the contexts with result acceptance
    max_length: int = 0  # the acceptor's maximum P-DATA-TF length (0: no limit)


def parse_associate_ac(body: bytes | memoryview) -> AssociateAccept:
    view = memoryview(body)
    if len(view) < 68:
        raise ProtocolError(ABORT_INVALID_PARAMETER, "A-ASSOCIATE-AC shorter than its fixed fields")
    accept = AssociateAccept({})
    for item_type, value in _items(view[68:]):
        if item_type == 0x21 and len(value) >= 4 and value[2] == ACCEPTANCE:
            syntaxes = [_text(sub) for sub_type, sub in _items(value[4:]) if sub_type == 0x40]
            if syntaxes:
                accept.accepted[value[0]] = syntaxes[0]
        elif item_type == 0x50:
            for sub_type, sub in _items(value):
                if sub_type == 0x51 and len(sub) == 4:
                    accept.max_length = struct.unpack(">I", sub)[0]
    return accept


def associate_rj(result: int, source: int, reason: int) -> bytes:
    return _pdu(A_ASSOCIATE_RJ, bytes((0, result, source, reason)))


def release_rq() -> bytes:
    return _pdu(A_RELEASE_RQ, bytes(4))


def release_rp() -> bytes:
    return _pdu(A_RELEASE_RP, bytes(4))


def abort(source: int = ABORT_SOURCE_PROVIDER, reason: int = 0) -> bytes:
    return _pdu(A_ABORT, bytes((0, 0, source, reason)))


def pdata_header(context_id: int, control: int, data_length: int) -> bytes:
    """The headers of a P-DATA-TF holding one PDV of ``data_length`` bytes (PS3.8 9.3.5, E.2): control bit 0
    set for a command, bit 1 for the last fragment."""
    return _HEADER.pack(P_DATA_TF, data_length + 6) + _PDV.pack(data_length + 2, context_id, control)


def fragments(context_id: int, control: int, data: bytes, max_length: int) -> Iterator[bytes]:
    """``data`` as P-DATA-TF PDUs whose variable field (one PDV) is at most ``max_length`` bytes (PS3.8 D.1;
    0: one PDU), the last one marked."""
    if 0 < max_length <= PDV_OVERHEAD:
        raise ValueError(f"a maximum length of {max_length} leaves no room for data")
    room = (max_length - PDV_OVERHEAD) if max_length else max(len(data), 1)
    for start in range(0, max(len(data), 1), room):
        piece = data[start : start + room]
        last = 2 if start + room >= len(data) else 0
        yield pdata_header(context_id, control | last, len(piece)) + piece


@dataclass(frozen=True)
class ControlPdu:
    """A whole PDU other than P-DATA-TF."""

    pdu_type: int
    body: bytes


@dataclass(frozen=True)
class PdvData:
    """A piece of a PDV's data (PS3.8 9.3.5.1); ``end`` on the last piece of the PDV, ``last`` when the PDV is
    the last fragment of its command or data set."""

    context_id: int
    is_command: bool
    last: bool
    data: memoryview
    end: bool


class PduParser:
    """Splits a byte stream into PDUs; P-DATA-TF PDVs come out in pieces as the bytes arrive."""

    def __init__(self) -> None:
        self._pending = bytearray()  # a header (PDU or PDV) or a control PDU being completed
        self._pdu_type = 0
        self._pdu_left = 0  # bytes of the current P-DATA-TF not yet parsed
        self._pdv: tuple[int, bool, bool] | None = None
        self._pdv_left = 0
        self._body_length = 0

    @property
    def idle(self) -> bool:
        """No PDU partly received."""
        return not self._pending and not self._pdu_left and self._pdv is None

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[ControlPdu | PdvData]:
        view = memoryview(data)
        while True:
            if self._pdv is not None and (view or not self._pdv_left):
                take = min(self._pdv_left, len(view))
                self._pdv_left -= take
                self._pdu_left -= take
                context_id, command, last = self._pdv
                end = self._pdv_left == 0
                if end:
                    self._pdv = None
                yield PdvData(context_id, command, last, view[:take], end)
                view = view[take:]
            elif not view:
                return
            elif self._pdu_left:
                view = self._pdv_header(view)
            else:
                view = yield from self._pdu(view)

    def _fill(self, view: memoryview, size: int) -> tuple[bool, memoryview]:
        take = min(size - len(self._pending), len(view))
        self._pending += view[:take]
        return len(self._pending) == size, view[take:]

    def _pdu(self, view: memoryview) -> Iterator[ControlPdu]:
        if not self._pdu_type:
            done, view = self._fill(view, 6)
            if not done:
                return view
            pdu_type, length = _HEADER.unpack(self._pending)
            self._pending.clear()
            if not A_ASSOCIATE_RQ <= pdu_type <= A_ABORT:
                raise ProtocolError(ABORT_UNRECOGNIZED_PDU, f"unknown PDU type 0x{pdu_type:02X}")
            if pdu_type == P_DATA_TF:
                if length < 6:
                    raise ProtocolError(ABORT_INVALID_PARAMETER, "P-DATA-TF without a PDV")
                self._pdu_left = length
                return view
            if length > MAX_CONTROL_PDU:
                raise ProtocolError(ABORT_INVALID_PARAMETER, f"PDU 0x{pdu_type:02X} of {length} bytes")
            self._pdu_type, self._body_length = pdu_type, length
        done, view = self._fill(view, self._body_length)
        if done:
            pdu = ControlPdu(self._pdu_type, bytes(self._pending))
            self._pending.clear()
            self._pdu_type = 0
            yield pdu
        return view

    def _pdv_header(self, view: memoryview) -> memoryview:
        done, view = self._fill(view, 6)
        if done:
            length, context_id, control = _PDV.unpack(self._pending)
            self._pending.clear()
            # PS3.8 9.3.5.1: the item length counts the context id and control header; odd ids only
            if length < 2 or length + 4 > self._pdu_left or context_id % 2 == 0:
                raise ProtocolError(ABORT_INVALID_PARAMETER, "PDV item does not fit its P-DATA-TF")
            self._pdu_left -= 6
            self._pdv = (context_id, bool(control & 1), bool(control & 2))
            self._pdv_left = length - 2  # 0: an empty fragment, yielded on the next turn with end set
        return view

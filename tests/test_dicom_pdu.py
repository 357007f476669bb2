"""Unit tests of the sans-IO DICOM Upper Layer (imaging_source.pdu, PS3.8 9.3) and the DIMSE command sets
(imaging_source.dimse, PS3.7 9.3 / Annex E): byte layouts, the streaming parser fed in any chunk sizes, and
the errors a peer's malformed PDUs give."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset

from imaging_source import dimse, pdu

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"
VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


# --- helpers --------------------------------------------------------------------------------------------


def _pdu(pdu_type: int, body: bytes) -> bytes:
    """PS3.8 9.3.1: type, reserved byte, 4-byte big endian length of what follows."""
    return struct.pack(">BxI", pdu_type, len(body)) + body


def _pdv(context_id: int, control: int, data: bytes) -> bytes:
    """PS3.8 9.3.5.1: item length (counting context id and control header), context id, control header."""
    return struct.pack(">IBB", len(data) + 2, context_id, control) + data


@dataclass(frozen=True)
class Pdv:
    context_id: int
    is_command: bool
    last: bool
    data: bytes


def _collect(parser: pdu.PduParser, chunks: Iterable[bytes | memoryview]) -> list[pdu.ControlPdu | Pdv]:
    """The parser's events over ``chunks``, each PDV's pieces joined; checks every piece of one PDV agrees
    on its header fields and that exactly one piece (the final one) has ``end`` set."""
    events: list[pdu.ControlPdu | Pdv] = []
    pieces: list[pdu.PdvData] = []
    joined = bytearray()
    for chunk in chunks:
        for event in parser.feed(chunk):
            if isinstance(event, pdu.ControlPdu):
                assert not pieces, "a control PDU in the middle of a PDV"
                events.append(event)
                continue
            if pieces:
                head = pieces[0]
                assert (event.context_id, event.is_command, event.last) == (
                    head.context_id, head.is_command, head.last)
            joined += bytes(event.data)  # a view into the fed buffer: copied before the next feed
            pieces.append(event)
            if event.end:
                events.append(Pdv(event.context_id, event.is_command, event.last, bytes(joined)))
                pieces.clear()
                joined.clear()
    assert not pieces, "a PDV without its end piece"
    assert parser.idle
    return events


def _chunks(stream: bytes, rng: random.Random, largest: int) -> list[bytes]:
    chunks, at = [], 0
    while at < len(stream):
        size = rng.randint(1, largest)
        chunks.append(stream[at : at + size])
        at += size
    return chunks


def _rq(contexts: list[tuple[int, str, list[str]]], max_length: int = 16384) -> bytes:
    return pdu.associate_rq("STORESCP", "STORESCU", contexts, max_length=max_length,
                            implementation_class_uid="1.2.826.0.1.3680043.9.1",
                            implementation_version="TEST_1")


def _stream() -> tuple[bytes, list[pdu.ControlPdu | Pdv]]:
    """A byte stream of several PDUs and the events it must give."""
    rq = _rq([(1, CT_IMAGE, [EXPLICIT_LE, IMPLICIT_LE]), (3, MR_IMAGE, [IMPLICIT_LE])])
    command = dimse.store_rq(7, CT_IMAGE, "1.2.3.4.5.6.7")
    data_set = bytes(range(256)) * 20 + b"tail"
    parts: list[bytes] = [rq]
    expected: list[pdu.ControlPdu | Pdv] = [pdu.ControlPdu(pdu.A_ASSOCIATE_RQ, rq[6:])]
    # a command split over two P-DATA-TF PDUs (PS3.8 E.2: bit 0 command, bit 1 last fragment)
    parts += [_pdu(pdu.P_DATA_TF, _pdv(1, 0x01, command[:20])),
              _pdu(pdu.P_DATA_TF, _pdv(1, 0x03, command[20:]))]
    expected += [Pdv(1, True, False, command[:20]), Pdv(1, True, True, command[20:])]
    # one P-DATA-TF holding several PDVs, of two presentation contexts
    parts.append(_pdu(pdu.P_DATA_TF, _pdv(1, 0x00, data_set[:1000]) + _pdv(3, 0x00, b"other")
                      + _pdv(1, 0x00, data_set[1000:3000])))
    expected += [Pdv(1, False, False, data_set[:1000]), Pdv(3, False, False, b"other"),
                 Pdv(1, False, False, data_set[1000:3000])]
    # an empty PDV, then the last fragment
    parts.append(pdu.pdata_header(1, 0x00, 0))
    expected.append(Pdv(1, False, False, b""))
    parts.append(pdu.pdata_header(1, 0x02, len(data_set) - 3000) + data_set[3000:])
    expected.append(Pdv(1, False, True, data_set[3000:]))
    # an empty last PDV of a command, then the release
    parts += [pdu.pdata_header(3, 0x03, 0), pdu.release_rq()]
    expected += [Pdv(3, True, True, b""), pdu.ControlPdu(pdu.A_RELEASE_RQ, bytes(4))]
    return b"".join(parts), expected


def _error(*chunks: bytes) -> pdu.ProtocolError:
    parser = pdu.PduParser()
    with pytest.raises(pdu.ProtocolError) as caught:
        for chunk in chunks:
            list(parser.feed(chunk))
    return caught.value


# --- PduParser --------------------------------------------------------------------------------------------


def test_parser_gives_the_pdus_and_pdvs_of_a_stream_fed_at_once() -> None:
    stream, expected = _stream()
    assert _collect(pdu.PduParser(), [stream]) == expected


@pytest.mark.parametrize("largest", [1, 2, 5, 13, 100, 4096])
def test_parser_gives_the_same_events_for_any_chunking(largest: int) -> None:
    stream, expected = _stream()
    for seed in range(60):
        chunks = _chunks(stream, random.Random(seed * 7919 + largest), largest)
        assert _collect(pdu.PduParser(), chunks) == expected, f"seed {seed}"


def _received(chunks: list[bytes], buffer: bytearray) -> Iterator[memoryview]:
    """Like socket.recv_into: every chunk lands in the same buffer, overwritten once it has been fed."""
    view = memoryview(buffer)
    for chunk in chunks:
        view[: len(chunk)] = chunk
        yield view[: len(chunk)]
        view[:] = b"\xee" * len(buffer)


def test_parser_keeps_nothing_of_a_reused_receive_buffer() -> None:
    stream, expected = _stream()
    for seed in range(20):
        buffer = bytearray(64)
        chunks = _received(_chunks(stream, random.Random(seed), len(buffer)), buffer)
        assert _collect(pdu.PduParser(), chunks) == expected, f"seed {seed}"


def test_parser_is_idle_only_between_pdus() -> None:
    parser = pdu.PduParser()
    assert parser.idle
    assert list(parser.feed(pdu.release_rq()[:3])) == []
    assert not parser.idle
    assert list(parser.feed(pdu.release_rq()[3:])) == [pdu.ControlPdu(pdu.A_RELEASE_RQ, bytes(4))]
    assert parser.idle
    list(parser.feed(pdu.pdata_header(1, 0x02, 4) + b"ab"))
    assert not parser.idle


def test_parser_gives_an_empty_last_pdv_before_anything_follows_it() -> None:
    """A peer ending a data set with an empty last fragment then waits for the answer: the end must come out
    of the feed that completes the PDV header, not of the next one."""
    parser = pdu.PduParser()
    header = pdu.pdata_header(1, 0x02, 0)
    assert list(parser.feed(header[:7])) == []
    (event,) = parser.feed(header[7:])
    assert isinstance(event, pdu.PdvData)
    assert (event.context_id, event.is_command, event.last, bytes(event.data), event.end) == (
        1, False, True, b"", True)
    assert parser.idle


def test_parser_gives_a_control_pdu_with_an_empty_body() -> None:
    """Malformed (PS3.8 9.3.6 wants 4 reserved bytes), but it is a whole PDU: the caller decides, the PDU
    after it is not taken for its body."""
    stream = struct.pack(">BxI", pdu.A_RELEASE_RQ, 0) + pdu.release_rp()
    assert list(pdu.PduParser().feed(stream)) == [
        pdu.ControlPdu(pdu.A_RELEASE_RQ, b""), pdu.ControlPdu(pdu.A_RELEASE_RP, bytes(4))]


def test_parser_reads_a_control_pdu_of_the_largest_allowed_length() -> None:
    header = struct.pack(">BxI", pdu.A_ASSOCIATE_RQ, pdu.MAX_CONTROL_PDU)
    parser = pdu.PduParser()
    assert list(parser.feed(header)) == []
    assert [event.pdu_type for event in parser.feed(bytes(pdu.MAX_CONTROL_PDU))] == [pdu.A_ASSOCIATE_RQ]


def test_unknown_pdu_type_is_unrecognized() -> None:
    """PS3.8 9.3.1 / Table 9-26: a PDU type other than 01H..07H is reason 1, unrecognized PDU."""
    assert _error(struct.pack(">BxI", 0x09, 4) + bytes(4)).reason == pdu.ABORT_UNRECOGNIZED_PDU
    assert _error(struct.pack(">BxI", 0x00, 4) + bytes(4)).reason == pdu.ABORT_UNRECOGNIZED_PDU


def test_pdv_longer_than_its_p_data_tf_is_an_invalid_parameter() -> None:
    """PS3.8 9.3.5: the PDV items fill the P-DATA-TF; here the item claims 2 bytes more than the PDU holds."""
    broken = struct.pack(">BxI", pdu.P_DATA_TF, 10) + struct.pack(">IBB", 8, 1, 0x02) + b"abcd"
    assert _error(broken).reason == pdu.ABORT_INVALID_PARAMETER


def test_pdv_of_an_even_presentation_context_is_an_invalid_parameter() -> None:
    """PS3.8 9.3.2.2: presentation context ids are odd integers 1..255."""
    assert _error(pdu.pdata_header(2, 0x02, 4) + b"abcd").reason == pdu.ABORT_INVALID_PARAMETER


@pytest.mark.parametrize("length", [0, 5])
def test_p_data_tf_shorter_than_one_pdv_header_is_an_invalid_parameter(length: int) -> None:
    """PS3.8 9.3.5: a P-DATA-TF holds one or more PDV items of at least 6 bytes."""
    broken = struct.pack(">BxI", pdu.P_DATA_TF, length) + bytes(length)
    assert _error(broken).reason == pdu.ABORT_INVALID_PARAMETER


def test_control_pdu_longer_than_the_limit_is_refused_from_its_header() -> None:
    header = struct.pack(">BxI", pdu.A_ASSOCIATE_RQ, pdu.MAX_CONTROL_PDU + 1)
    assert _error(header).reason == pdu.ABORT_INVALID_PARAMETER


@pytest.mark.parametrize("item_length", [0, 1])
def test_pdv_item_length_below_two_is_an_invalid_parameter(item_length: int) -> None:
    """PS3.8 9.3.5.1: the item length counts the context id and control header, so it is at least 2."""
    broken = struct.pack(">BxI", pdu.P_DATA_TF, 6) + struct.pack(">IBB", item_length, 1, 0x02)
    assert _error(broken).reason == pdu.ABORT_INVALID_PARAMETER


def test_errors_are_raised_across_chunk_boundaries() -> None:
    header = struct.pack(">BxI", 0x09, 4)
    assert _error(header[:2], header[2:]).reason == pdu.ABORT_UNRECOGNIZED_PDU
    pdv = pdu.pdata_header(2, 0x02, 4)
    assert _error(pdv[:8], pdv[8:]).reason == pdu.ABORT_INVALID_PARAMETER


# --- A-ASSOCIATE-RQ / AC ----------------------------------------------------------------------------------


def test_associate_rq_round_trip() -> None:
    contexts = [(1, CT_IMAGE, [EXPLICIT_LE, IMPLICIT_LE]), (3, MR_IMAGE, [JPEG_BASELINE]),
                (255, VERIFICATION, [IMPLICIT_LE])]
    raw = pdu.associate_rq("CALLED_AE_TITLE1", "ME", contexts, max_length=28672,
                           implementation_class_uid="1.2.3.4", implementation_version="X" * 20)
    assert raw[0] == pdu.A_ASSOCIATE_RQ and raw[1] == 0
    assert struct.unpack(">I", raw[2:6])[0] == len(raw) - 6
    # PS3.8 9.3.2 Table 9-11: protocol version, two reserved bytes, AE titles of 16 bytes space padded
    assert raw[6:10] == b"\x00\x01\x00\x00"
    assert raw[10:26] == b"CALLED_AE_TITLE1" and raw[26:42] == b"ME" + b" " * 14
    assert raw[42:74] == bytes(32)
    request = pdu.parse_associate_rq(raw[6:])
    assert request == pdu.AssociateRequest(
        protocol_version=1, ae_titles=b"CALLED_AE_TITLE1" + b"ME".ljust(16),
        application_context=pdu.APPLICATION_CONTEXT,
        contexts=[pdu.ProposedContext(cid, abstract, syntaxes) for cid, abstract, syntaxes in contexts],
        max_length=28672, other_user_items=set(),
    )
    assert pdu.calling_ae(request) == "ME"


def _subitem(item_type: int, value: bytes) -> bytes:
    return struct.pack(">BxH", item_type, len(value)) + value


def _hand_made_rq(user_items: bytes) -> bytes:
    """An A-ASSOCIATE-RQ body built from PS3.8 9.3.2 directly, with the given user information sub-items."""
    fixed = struct.pack(">HH", 1, 0) + b"SCP".ljust(16) + b"SCU".ljust(16) + bytes(32)
    context = bytes((1, 0, 0, 0)) + _subitem(0x30, CT_IMAGE.encode()) + _subitem(0x40, IMPLICIT_LE.encode())
    user = _subitem(0x51, struct.pack(">I", 0)) + _subitem(0x52, b"1.2.3\0") + user_items
    return fixed + _subitem(0x10, pdu.APPLICATION_CONTEXT.encode()) + _subitem(0x20, context) \
        + _subitem(0x50, user)


def test_associate_rq_reports_role_selection_and_user_identity_sub_items() -> None:
    # PS3.7 D.3.3.4: SCP/SCU Role Selection: UID length, SOP class UID, SCU role, SCP role
    role = _subitem(0x54, struct.pack(">H", len(CT_IMAGE)) + CT_IMAGE.encode() + b"\x01\x01")
    # PS3.7 D.3.3.7.1: User Identity: type 2 (username and passcode), positive response requested,
    # primary field length and value, secondary field length and value
    identity = _subitem(0x58, struct.pack(">BBH", 2, 1, 4) + b"user" + struct.pack(">H", 6) + b"secret")
    version = _subitem(0x55, b"VERSION")
    request = pdu.parse_associate_rq(_hand_made_rq(role + version + identity))
    assert request.other_user_items == {0x54, 0x58}
    assert request.max_length == 0
    assert request.contexts == [pdu.ProposedContext(1, CT_IMAGE, [IMPLICIT_LE])]
    assert request.ae_titles == b"SCP".ljust(16) + b"SCU".ljust(16)
    assert pdu.calling_ae(request) == "SCU"


def test_hand_made_rq_without_extra_sub_items_has_none() -> None:
    assert pdu.parse_associate_rq(_hand_made_rq(b"")).other_user_items == set()


@pytest.mark.parametrize("cut", [1, 3, 10])
def test_truncated_associate_rq_is_an_invalid_parameter(cut: int) -> None:
    """PS3.8 9.3.2: each item's length must fit the PDU; cutting the body leaves the last one too long."""
    body = _rq([(1, CT_IMAGE, [IMPLICIT_LE])])[6:]
    with pytest.raises(pdu.ProtocolError) as caught:
        pdu.parse_associate_rq(body[:-cut])
    assert caught.value.reason == pdu.ABORT_INVALID_PARAMETER


def test_associate_rq_shorter_than_its_fixed_fields_is_an_invalid_parameter() -> None:
    with pytest.raises(pdu.ProtocolError) as caught:
        pdu.parse_associate_rq(_rq([])[6:73])
    assert caught.value.reason == pdu.ABORT_INVALID_PARAMETER


def test_presentation_context_item_shorter_than_its_header_is_an_invalid_parameter() -> None:
    body = struct.pack(">HH", 1, 0) + bytes(64) + _subitem(0x20, b"\x01\x00\x00")
    with pytest.raises(pdu.ProtocolError) as caught:
        pdu.parse_associate_rq(body)
    assert caught.value.reason == pdu.ABORT_INVALID_PARAMETER


def test_associate_ac_round_trip_keeps_only_accepted_contexts() -> None:
    raw_rq = _rq([(1, CT_IMAGE, [EXPLICIT_LE, IMPLICIT_LE]), (3, MR_IMAGE, [IMPLICIT_LE]),
                  (5, SC_IMAGE, [JPEG_BASELINE]), (7, VERIFICATION, [IMPLICIT_LE])])
    request = pdu.parse_associate_rq(raw_rq[6:])
    results = [(1, pdu.ACCEPTANCE, EXPLICIT_LE), (3, pdu.PROVIDER_REJECTION, IMPLICIT_LE),
               (5, pdu.TRANSFER_SYNTAXES_NOT_SUPPORTED, IMPLICIT_LE), (7, pdu.ACCEPTANCE, IMPLICIT_LE)]
    raw = pdu.associate_ac(request, results, max_length=32768, implementation_class_uid="1.2.3.4",
                           implementation_version="V1")
    assert raw[0] == pdu.A_ASSOCIATE_AC and struct.unpack(">I", raw[2:6])[0] == len(raw) - 6
    # PS3.8 9.3.3 Table 9-17: the AE title fields are those of the request, returned as received
    assert raw[10:26] == b"STORESCP".ljust(16) and raw[26:42] == b"STORESCU".ljust(16)
    accept = pdu.parse_associate_ac(raw[6:])
    assert accept == pdu.AssociateAccept({1: EXPLICIT_LE, 7: IMPLICIT_LE}, max_length=32768)


def test_associate_ac_shorter_than_its_fixed_fields_is_an_invalid_parameter() -> None:
    with pytest.raises(pdu.ProtocolError):
        pdu.parse_associate_ac(bytes(67))


# --- P-DATA-TF fragments ----------------------------------------------------------------------------------


def _read_fragment(raw: bytes) -> tuple[int, int, bytes]:
    """(context id, control header, data) of a P-DATA-TF holding a single PDV, checking its lengths."""
    pdu_type, length = struct.unpack(">BxI", raw[:6])
    item_length, context_id, control = struct.unpack(">IBB", raw[6:12])
    assert pdu_type == pdu.P_DATA_TF and length == len(raw) - 6 and item_length == len(raw) - 10
    return context_id, control, raw[12:]


@pytest.mark.parametrize("control", [0x00, 0x01])
@pytest.mark.parametrize("size", [1, 99, 100, 101, 5000])
@pytest.mark.parametrize("max_length", [7, 8, 106, 1006, 16384])
def test_fragments_fit_the_peer_maximum_and_reassemble(control: int, size: int, max_length: int) -> None:
    """PS3.8 D.1: the maximum length limits the variable field of each P-DATA-TF (its length field); PS3.8
    E.2: bit 0 of the control header is command/data set, bit 1 is set on the last fragment only."""
    data = random.Random(size).randbytes(size)
    pieces = [_read_fragment(raw) for raw in pdu.fragments(3, control, data, max_length)]
    assert all(len(piece) <= max_length - 6 for _cid, _control, piece in pieces)
    assert len(pieces) == -(-size // (max_length - 6))  # no empty fragment after a full one
    assert b"".join(piece for _cid, _control, piece in pieces) == data
    assert [c for _cid, c, _piece in pieces] == [control] * (len(pieces) - 1) + [control | 0x02]
    assert {cid for cid, _control, _piece in pieces} == {3}


def test_fragments_pdu_length_field_never_exceeds_the_maximum() -> None:
    for raw in pdu.fragments(1, 0, bytes(1000), 106):
        assert struct.unpack(">I", raw[2:6])[0] <= 106
        assert len(raw) <= 106 + 6


def test_fragments_without_a_maximum_give_one_pdu() -> None:
    data = bytes(range(256)) * 300
    (only,) = pdu.fragments(1, 0x01, data, 0)
    assert _read_fragment(only) == (1, 0x03, data)


@pytest.mark.parametrize("max_length", [0, 7, 16384])
def test_fragments_of_empty_data_are_one_empty_last_fragment(max_length: int) -> None:
    (only,) = pdu.fragments(5, 0x00, b"", max_length)
    assert only == pdu.pdata_header(5, 0x02, 0)
    assert _read_fragment(only) == (5, 0x02, b"")


@pytest.mark.parametrize("max_length", [1, 5, 6])
def test_fragments_below_the_pdv_overhead_are_refused(max_length: int) -> None:
    """PS3.8 D.1 allows any maximum length value; one that leaves no room for data is refused loudly."""
    with pytest.raises(ValueError, match="no room"):
        list(pdu.fragments(1, 0x03, b"abc", max_length))


def test_fragments_of_one_byte_each() -> None:
    pieces = list(pdu.fragments(1, 0x01, b"abc", 7))
    assert [_read_fragment(p) for p in pieces] == [(1, 0x01, b"a"), (1, 0x01, b"b"), (1, 0x03, b"c")]


def test_pdata_header_layout() -> None:
    """PS3.8 9.3.5 Table 9-22 and 9.3.5.1 Table 9-23."""
    assert pdu.pdata_header(7, 0x03, 10) == b"\x04\x00" + struct.pack(">I", 16) + struct.pack(">I", 12) \
        + b"\x07\x03"


# --- A-ASSOCIATE-RJ, A-RELEASE, A-ABORT -------------------------------------------------------------------


def test_associate_rj_layout() -> None:
    """PS3.8 9.3.4 Table 9-21: type 03H, reserved, length 4, reserved, result, source, reason/diag."""
    raw = pdu.associate_rj(pdu.RJ_TRANSIENT, pdu.RJ_SOURCE_PRESENTATION, pdu.RJ_PRESENTATION_LOCAL_LIMIT)
    assert raw == bytes((0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2))


def test_release_rq_and_rp_layout() -> None:
    """PS3.8 9.3.6 Table 9-24 / 9.3.7 Table 9-25: type, reserved, length 4, four reserved bytes."""
    assert pdu.release_rq() == bytes((0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0))
    assert pdu.release_rp() == bytes((0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0))


def test_abort_layout() -> None:
    """PS3.8 9.3.8 Table 9-26: type 07H, reserved, length 4, two reserved bytes, source, reason/diag."""
    assert pdu.abort() == bytes((0x07, 0, 0, 0, 0, 4, 0, 0, 2, 0))
    assert pdu.abort(pdu.ABORT_SOURCE_PROVIDER, pdu.ABORT_INVALID_PARAMETER) == bytes(
        (0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6))
    assert pdu.abort(pdu.ABORT_SOURCE_USER) == bytes((0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0))


def test_control_pdus_built_here_parse_back() -> None:
    stream = pdu.associate_rj(1, 1, 1) + pdu.release_rp() + pdu.abort(2, 1)
    events = list(pdu.PduParser().feed(stream))
    assert events == [pdu.ControlPdu(pdu.A_ASSOCIATE_RJ, bytes((0, 1, 1, 1))),
                      pdu.ControlPdu(pdu.A_RELEASE_RP, bytes(4)),
                      pdu.ControlPdu(pdu.A_ABORT, bytes((0, 0, 2, 1)))]


# --- DIMSE command sets -----------------------------------------------------------------------------------


def _elements(raw: bytes) -> list[tuple[int, int, bytes]]:
    """(group, element, value) of an Implicit VR Little Endian command set, read independently of dimse."""
    found, at = [], 0
    while at < len(raw):
        group, element, length = struct.unpack_from("<HHI", raw, at)
        found.append((group, element, raw[at + 8 : at + 8 + length]))
        at += 8 + length
    assert at == len(raw)
    return found


def test_store_rq_round_trip() -> None:
    raw = dimse.store_rq(7, CT_IMAGE, "1.2.3.4.5", originator_ae="MOVESCU", originator_id=42)
    assert dimse.decode(raw) == dimse.Command(
        field=dimse.C_STORE_RQ, message_id=7, sop_class_uid=CT_IMAGE, sop_instance_uid="1.2.3.4.5",
        has_data_set=True, move_originator_ae="MOVESCU", move_originator_id=42, status=None,
    )


def test_store_rq_without_originator() -> None:
    command = dimse.decode(dimse.store_rq(1, CT_IMAGE, "1.2.3"))
    assert (command.move_originator_ae, command.move_originator_id) == ("", None)
    assert not any(element in (dimse.MOVE_ORIGINATOR_AE, dimse.MOVE_ORIGINATOR_ID)
                   for _group, element, _value in _elements(dimse.store_rq(1, CT_IMAGE, "1.2.3")))


def test_store_rq_encoding() -> None:
    """PS3.5 6.2: values of even length, UI padded with NUL, AE with a space; PS3.5 7.1: ascending tags;
    PS3.7 E.1: (0000,0000) CommandGroupLength is the byte count of the elements after it."""
    raw = dimse.store_rq(7, CT_IMAGE, "1.2.3.4.5", originator_ae="MOVESCU", originator_id=42, priority=2)
    elements = _elements(raw)
    assert {group for group, _element, _value in elements} == {0}
    tags = [element for _group, element, _value in elements]
    assert tags == sorted(tags) and tags[0] == 0x0000
    assert struct.unpack("<I", elements[0][2])[0] == len(raw) - 12
    values = {element: value for _group, element, value in elements}
    assert values[dimse.AFFECTED_SOP_CLASS] == CT_IMAGE.encode() + b"\0"  # 25 characters: one NUL
    assert values[dimse.AFFECTED_SOP_INSTANCE] == b"1.2.3.4.5\0"
    assert values[dimse.MOVE_ORIGINATOR_AE] == b"MOVESCU "
    assert values[dimse.COMMAND_FIELD] == b"\x01\x00"
    assert values[dimse.PRIORITY] == b"\x02\x00"
    assert values[dimse.DATA_SET_TYPE] == b"\x00\x00"
    assert all(len(value) % 2 == 0 for value in values.values())


def test_store_rsp_answers_the_request() -> None:
    request = dimse.decode(dimse.store_rq(9, CT_IMAGE, "1.2.3.4.5"))
    raw = dimse.store_rsp(request, 0xA900, "comment")
    assert dimse.decode(raw) == dimse.Command(
        field=dimse.C_STORE_RSP, message_id=9, sop_class_uid=CT_IMAGE, sop_instance_uid="1.2.3.4.5",
        has_data_set=False, status=0xA900,
    )
    values = {element: value for _group, element, value in _elements(raw)}
    assert dimse.MESSAGE_ID not in values  # PS3.7 9.3.1.2: a response carries MessageIDBeingRespondedTo
    assert values[dimse.RESPONDED_TO] == b"\x09\x00"
    assert values[dimse.ERROR_COMMENT] == b"comment "
    assert struct.unpack("<I", values[0x0000])[0] == len(raw) - 12


def test_store_rsp_error_comment_is_at_most_64_characters() -> None:
    """PS3.7 C.4: Error Comment is LO (PS3.5 6.2: at most 64 characters)."""
    request = dimse.decode(dimse.store_rq(1, CT_IMAGE, "1.2.3"))
    raw = dimse.store_rsp(request, 0xC000, "x" * 80)
    values = {element: value for _group, element, value in _elements(raw)}
    assert values[dimse.ERROR_COMMENT] == b"x" * 64


def test_store_rsp_success_has_no_error_comment() -> None:
    request = dimse.decode(dimse.store_rq(1, CT_IMAGE, "1.2.3"))
    raw = dimse.store_rsp(request, 0x0000)
    assert dimse.ERROR_COMMENT not in {element for _group, element, _value in _elements(raw)}
    assert dimse.decode(raw).status == 0


def test_echo_rsp_answers_an_echo_rq() -> None:
    """PS3.7 9.3.5: C-ECHO-RQ and C-ECHO-RSP, no data set, status Success."""
    echo_rq = dimse.encode([(dimse.AFFECTED_SOP_CLASS, VERIFICATION), (dimse.COMMAND_FIELD, dimse.C_ECHO_RQ),
                            (dimse.MESSAGE_ID, 5), (dimse.DATA_SET_TYPE, dimse.NO_DATA_SET)])
    request = dimse.decode(echo_rq)
    assert (request.field, request.message_id, request.has_data_set) == (dimse.C_ECHO_RQ, 5, False)
    raw = dimse.echo_rsp(request)
    assert dimse.decode(raw) == dimse.Command(
        field=dimse.C_ECHO_RSP, message_id=5, sop_class_uid=VERIFICATION, sop_instance_uid="",
        has_data_set=False, status=0,
    )
    assert struct.unpack("<I", _elements(raw)[0][2])[0] == len(raw) - 12


def test_decode_truncated_element_value() -> None:
    raw = dimse.store_rq(1, CT_IMAGE, "1.2.3")
    with pytest.raises(dimse.CommandError):
        dimse.decode(raw[:-1])


def test_decode_truncated_element_header() -> None:
    raw = dimse.store_rq(1, CT_IMAGE, "1.2.3")
    with pytest.raises(dimse.CommandError):
        dimse.decode(raw + struct.pack("<HH", 0, 0x1031))


def test_decode_element_outside_group_0000() -> None:
    """PS3.7 6.3.1: a command set holds group 0000 elements only."""
    raw = dimse.store_rq(1, CT_IMAGE, "1.2.3") + struct.pack("<HHI", 0x0008, 0x0018, 2) + b"1\0"
    with pytest.raises(dimse.CommandError):
        dimse.decode(raw)


def test_decode_without_command_field() -> None:
    """PS3.7 E.1: CommandField is required in every command set."""
    raw = dimse.encode([(dimse.AFFECTED_SOP_CLASS, CT_IMAGE), (dimse.MESSAGE_ID, 1),
                        (dimse.DATA_SET_TYPE, dimse.DATA_SET_PRESENT)])
    with pytest.raises(dimse.CommandError):
        dimse.decode(raw)


def test_decode_command_field_of_the_wrong_length() -> None:
    """PS3.7 E.1: CommandField is US, two bytes."""
    raw = dimse.encode([(dimse.AFFECTED_SOP_CLASS, CT_IMAGE), (dimse.COMMAND_FIELD, "AB12")])
    with pytest.raises(dimse.CommandError):
        dimse.decode(raw)


def test_pydicom_reads_the_command_sets_alike() -> None:
    raw = dimse.store_rq(7, CT_IMAGE, "1.2.3.4.5", originator_ae="MOVESCU", originator_id=42)
    ds = read_dataset(BytesIO(raw), is_implicit_VR=True, is_little_endian=True)
    assert ds.CommandGroupLength == len(raw) - 12
    assert ds.AffectedSOPClassUID == CT_IMAGE and ds.AffectedSOPInstanceUID == "1.2.3.4.5"
    assert (ds.CommandField, ds.MessageID, ds.CommandDataSetType) == (dimse.C_STORE_RQ, 7, 0)
    assert (ds.MoveOriginatorApplicationEntityTitle, ds.MoveOriginatorMessageID) == ("MOVESCU", 42)
    rsp = dimse.store_rsp(dimse.decode(raw), 0xB000, "coerced")
    ds = read_dataset(BytesIO(rsp), is_implicit_VR=True, is_little_endian=True)
    assert (ds.Status, ds.MessageIDBeingRespondedTo, ds.CommandField) == (0xB000, 7, dimse.C_STORE_RSP)
    assert ds.ErrorComment == "coerced" and ds.CommandGroupLength == len(rsp) - 12


def test_decode_reads_a_command_set_written_by_pydicom() -> None:
    ds = Dataset()
    ds.AffectedSOPClassUID = MR_IMAGE
    ds.CommandField = dimse.C_STORE_RQ
    ds.MessageID = 300
    ds.Priority = 0
    ds.CommandDataSetType = 1
    ds.AffectedSOPInstanceUID = "1.2.840.99.1"
    ds.MoveOriginatorApplicationEntityTitle = "QR"
    ds.MoveOriginatorMessageID = 12
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, True
    write_dataset(body, ds)
    raw = struct.pack("<HHII", 0, 0, 4, len(body.getvalue())) + body.getvalue()
    assert dimse.decode(raw) == dimse.Command(
        field=dimse.C_STORE_RQ, message_id=300, sop_class_uid=MR_IMAGE, sop_instance_uid="1.2.840.99.1",
        has_data_set=True, move_originator_ae="QR", move_originator_id=12,
    )

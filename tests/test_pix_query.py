"""ITI-9 PIX Query (QBP^Q23 / RSP^K23) over raw MLLP: every case of ITI TF-2a 3.9.4.2.2.6, and ITI-10 PIX
Update Notifications (ADT^A31) to subscribers (ITI TF-2a 3.10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from pix_helpers import (
    DOMAIN,
    KIS,
    RIS,
    Mllp,
    PixServer,
    adt,
    all_of,
    cx,
    err_codes,
    mllp_listener,
    msa_code,
    pix_query,
    running_pix,
    wait_until,
)
from pix_helpers import segment as seg

UNKNOWN = "1.2.276.0.76.3.1.99.404"


@pytest.fixture
def pix(tmp_path: Path) -> Iterator[PixServer]:
    with running_pix(f"sqlite:///{tmp_path / 'pix.sqlite'}", tmp_path / "data") as server:
        yield server


@pytest.fixture
def mllp(pix: PixServer) -> Iterator[Mllp]:
    with pix.peer() as peer:
        peer.send(adt("A01", [cx("4711"), cx("R-9", RIS)]))
        peer.send(adt("A01", cx("4712")))
        yield peer


def pid3(reply: bytes) -> list[str]:
    return seg(reply, "PID")[3].split("~")


def test_case_1_identifiers_of_all_domains(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("4711"), tag="T1", control="CTL9"))
    assert seg(reply, "MSH")[8] == "RSP^K23^RSP_K23"
    assert seg(reply, "MSA")[1:3] == ["AA", "CTL9"]
    assert seg(reply, "QAK")[1:3] == ["T1", "OK"]
    assert seg(reply, "QPD")[1:4] == ["IHE PIX Query", "T1", cx("4711")]
    # the queried identifier itself is not returned; no demographics
    assert pid3(reply) == [f"R-9^^^&{RIS}&ISO", f"XAD000000001^^^&{DOMAIN}&ISO"]
    assert seg(reply, "PID")[5] == "~^^^^^^S"


def test_case_1_what_domains_returned(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("4711"), [DOMAIN]))
    assert seg(reply, "QAK")[2] == "OK" and pid3(reply) == [f"XAD000000001^^^&{DOMAIN}&ISO"]


def test_case_1_by_xad_pid(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("XAD000000001", DOMAIN), [KIS, RIS]))
    assert pid3(reply) == [f"4711^^^&{KIS}&ISO", f"R-9^^^&{RIS}&ISO"]


def test_case_2_no_identifier_in_the_requested_domain(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("4712"), [RIS]))
    assert msa_code(reply) == "AA" and seg(reply, "QAK")[2] == "NF"
    assert all_of(reply, "PID") == [] and all_of(reply, "ERR") == []


def test_case_3_unknown_domain(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("4711", UNKNOWN)))
    assert msa_code(reply) == "AE" and seg(reply, "QAK")[2] == "AE"
    assert err_codes(reply) == [("QPD^1^3^1^4", "204")]
    assert all_of(reply, "PID") == []


def test_case_4_unknown_identifier(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("0000")))
    assert msa_code(reply) == "AE" and seg(reply, "QAK")[2] == "AE"
    assert err_codes(reply) == [("QPD^1^3^1^1", "204")]


def test_case_5_unknown_domains_returned(mllp: Mllp) -> None:
    reply = mllp.send(pix_query(cx("4711"), [DOMAIN, UNKNOWN, "9.9.9"]))
    assert msa_code(reply) == "AE"
    assert err_codes(reply) == [("QPD^1^4^2", "204"), ("QPD^1^4^3", "204")]


@pytest.mark.parametrize(
    ("change", "code", "location", "ack"),
    [
        (
            lambda m: m.replace(
                b"QPD|IHE PIX Query|Q1|4711^^^&" + KIS.encode() + b"&ISO|", b"QPD|IHE PIX Query|Q1||"
            ),
            "101",
            "QPD^1^3",
            "AE",
        ),
        (lambda m: m.replace(b"IHE PIX Query", b"IHE PDQ Query"), "103", "QPD^1^1", "AE"),
        (lambda m: m.replace(b"|Q1|4711", b"||4711"), "101", "QPD^1^2", "AE"),
        (lambda m: b"\r".join(s for s in m.split(b"\r") if not s.startswith(b"QPD")), "100", "QPD^1", "AE"),
        (lambda m: m.replace(b"|P|2.5", b"|P|2.3.1"), "203", "MSH^1^12", "AR"),
        (lambda m: m.replace(b"QBP^Q23", b"QBP^Q99"), "201", "MSH^1^9^^2", "AR"),
    ],
    ids=["no-qpd3", "wrong-query-name", "no-query-tag", "no-qpd", "version", "event"],
)
def test_malformed_queries(mllp: Mllp, change, code: str, location: str, ack: str) -> None:  # noqa: ANN001
    reply = mllp.send(change(pix_query(cx("4711"))))
    assert msa_code(reply) == ack and err_codes(reply) == [(location, code)]


def test_hl7apy_reads_our_answers_strictly(mllp: Mllp) -> None:
    # (hl7apy's QPD has fields 1-3 only, so strictly just answers to queries without QPD-4)
    for query in (pix_query(cx("4711")), pix_query(cx("0"))):
        theirs = parse_message(
            mllp.send(query).decode(), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True
        )
        assert theirs.validate()
        assert theirs.msh.msh_9.to_er7() == "RSP^K23^RSP_K23"
    theirs = parse_message(mllp.send(pix_query(cx("4712"), [RIS])).decode(), find_groups=True)
    assert theirs.qak.qak_2.value == "NF"


def test_update_notifications_to_subscribers(tmp_path: Path) -> None:
    with mllp_listener() as everything, mllp_listener() as radiology:
        subscribers = [
            f"127.0.0.1:{everything.port}",
            {"address": f"127.0.0.1:{radiology.port}", "domains": [RIS], "name": "ris"},
        ]
        with running_pix(f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path, subscribers=subscribers) as pix:
            with pix.peer() as mllp:
                mllp.send(adt("A01", cx("4711")))
                wait_until(lambda: len(everything.received) == 1)
                mllp.send(adt("A04", [cx("R-9", RIS), cx("4711")]))
                wait_until(lambda: len(everything.received) == 2 and len(radiology.received) == 1)
            first, second = (m.decode().split("\r") for m in everything.received)
            assert first[0].split("|")[8] == "ADT^A31^ADT_A05"
            assert first[2].split("|")[3] == f"4711^^^&{KIS}&ISO~XAD000000001^^^&{DOMAIN}&ISO"
            assert len(second[2].split("|")[3].split("~")) == 3
            # the radiology subscriber hears only of its own domain, and only once the patient has an ID there
            assert radiology.received[0].decode().split("\r")[2].split("|")[3] == f"R-9^^^&{RIS}&ISO"
            wait_until(lambda: {r.state for r in pix.outbox()} == {"delivered"})
            assert sorted(r.target for r in pix.outbox()) == ["ris", "subscriber-1", "subscriber-1"]

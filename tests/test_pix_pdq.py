"""ITI-21 Patient Demographics Query (QBP^Q22 / RSP^K22) over raw MLLP, on SQLite and PostgreSQL: exact,
wildcard and phonetic matching, What Domains Returned, the hit cap, continuation, character sets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
    msa_code,
    pdq_query,
    running_pix,
)
from pix_helpers import segment as seg

PEOPLE = [
    # (local id, name, birth date, sex, address)
    ("1", "MÜLLER^HANS", "19700101", "M", "Hauptstraße 1^^Köln^^50667^DE"),
    ("2", "MUELLER^HANNA", "19800202", "F", "Ring 2^^Berlin^^10115^DE"),
    ("3", "MÖLLER^PETRA", "19700101", "F", "Weg 3^^Köln^^50668^DE"),
    ("4", "MEIER^KARL", "19550505", "M", "Allee 4^^Bonn^^53111^DE"),
    ("5", "MAYER^KARL", "19550505", "M", "Platz 5^^Bonn^^53113^DE"),
    ("6", "ÖZTÜRK^AYSE", "19900303", "F", "Gasse 6^^Köln^^50670^DE"),
    ("7", "SMITH^ROBERT", "19600606", "M", "Street 7^^London^^N1^GB"),
]


@pytest.fixture
def pix(database_url: str, tmp_path: Path) -> Iterator[PixServer]:
    with running_pix(database_url, tmp_path / "data", pdq_max_hits=5) as server:
        yield server


@pytest.fixture
def mllp(pix: PixServer) -> Iterator[Mllp]:
    with pix.peer() as peer:
        for local, name, birth, sex, address in PEOPLE:
            ids = [cx(local)] if local != "6" else [cx(local), cx("R-6", RIS)]
            assert (
                msa_code(peer.send(adt("A01", ids, name=name, birth=birth, sex=sex, address=address))) == "AA"
            )
        yield peer


def names(reply: bytes, encoding: str = "utf-8") -> list[str]:
    """PID-5 of the hits, sorted (the order of hits depends on the database's collation)."""
    return sorted(pid[5] for pid in all_of(reply, "PID", encoding))


def test_exact_family_name_ignores_case(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.5.1.1^müller", tag="T7", control="CTL"))
    assert seg(reply, "MSH")[8] == "RSP^K22^RSP_K21" and seg(reply, "MSA")[1:3] == ["AA", "CTL"]
    assert seg(reply, "QAK")[1:3] == ["T7", "OK"] and seg(reply, "QAK")[4:7] == ["1", "1", "0"]
    (pid,) = all_of(reply, "PID")
    assert pid[1] == "1" and pid[5] == "MÜLLER^HANS" and pid[7:9] == ["19700101", "M"]
    assert pid[3] == f"1^^^&{KIS}&ISO~XAD000000001^^^&{DOMAIN}&ISO"
    assert pid[11] == "Hauptstraße 1^^Köln^^50667^DE"


def test_several_parameters_all_match(mllp: Mllp) -> None:
    assert names(
        mllp.send(pdq_query("@PID.5.1.1^MEIER", "@PID.5.2^KARL", "@PID.7^19550505", "@PID.8^M"))
    ) == ["MEIER^KARL"]
    assert names(mllp.send(pdq_query("@PID.7^19700101", "@PID.8^F"))) == ["MÖLLER^PETRA"]


def test_address(mllp: Mllp) -> None:
    assert names(mllp.send(pdq_query("@PID.11.3^köln", "@PID.8^F"))) == ["MÖLLER^PETRA", "ÖZTÜRK^AYSE"]
    assert names(mllp.send(pdq_query("@PID.11.5^5311*"))) == ["MAYER^KARL", "MEIER^KARL"]
    assert names(mllp.send(pdq_query("@PID.11.1.1^hauptstrasse 1"))) == ["MÜLLER^HANS"]


def test_wildcard(mllp: Mllp) -> None:
    assert names(mllp.send(pdq_query("@PID.5.1.1^M*LLER"))) == sorted(
        ["MÖLLER^PETRA", "MUELLER^HANNA", "MÜLLER^HANS"]
    )
    assert names(mllp.send(pdq_query("@PID.5.1.1^M?LLER"))) == []  # only * is a wildcard
    assert names(mllp.send(pdq_query("@PID.5.2^HANN*"))) == ["MUELLER^HANNA"]


def test_koelner_phonetik(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.5.1.1^Mueller", "@PHONETIC^KOELNER"))
    assert names(reply) == sorted(["MÖLLER^PETRA", "MUELLER^HANNA", "MÜLLER^HANS"])
    assert names(mllp.send(pdq_query("@PID.5.1.1^Maier", "@PHONETIC^KOELNER"))) == [
        "MAYER^KARL",
        "MEIER^KARL",
    ]
    assert names(mllp.send(pdq_query("@PID.5.1.1^Oeztuerk", "@PHONETIC^KOELNER"))) == ["ÖZTÜRK^AYSE"]


def test_soundex(mllp: Mllp) -> None:
    assert names(mllp.send(pdq_query("@PID.5.1.1^Smyth", "@PHONETIC^SOUNDEX"))) == ["SMITH^ROBERT"]
    assert names(mllp.send(pdq_query("@PID.5.2^Rupert", "@PHONETIC^SOUNDEX"))) == ["SMITH^ROBERT"]


def test_phonetic_matching_by_configuration(database_url: str, tmp_path: Path) -> None:
    with running_pix(database_url, tmp_path, pdq_matching="koelner") as pix, pix.peer() as mllp:
        mllp.send(adt("A01", cx("1"), name="MEIER^KARL"))
        assert names(mllp.send(pdq_query("@PID.5.1.1^Mayr"))) == ["MEIER^KARL"]
        assert names(mllp.send(pdq_query("@PID.5.1.1^Mayr", "@PHONETIC^EXACT"))) == []


def test_identifier_search(mllp: Mllp) -> None:
    assert names(mllp.send(pdq_query("@PID.3.1^R-6", f"@PID.3.4.2^{RIS}"))) == ["ÖZTÜRK^AYSE"]
    assert names(mllp.send(pdq_query("@PID.3.1^R-6", f"@PID.3.4.2^{KIS}"))) == []


def test_what_domains_returned(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.11.3^KÖLN", domains=[RIS]))
    # only patients with an identifier there, and only those identifiers
    (pid,) = all_of(reply, "PID")
    assert pid[3] == f"R-6^^^&{RIS}&ISO"


def test_unknown_domain_returned(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.5.1.1^MEIER", domains=[DOMAIN, "9.9.9"]))
    assert msa_code(reply) == "AE" and seg(reply, "QAK")[2] == "AE"
    assert err_codes(reply) == [("QPD^1^8^2", "204")] and all_of(reply, "PID") == []


def test_no_match(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.5.1.1^NIEMAND"))
    assert msa_code(reply) == "AA" and seg(reply, "QAK")[2] == "NF" and all_of(reply, "PID") == []


def test_more_hits_than_the_cap_asks_to_narrow_the_search(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.5.1.1^*"))
    assert msa_code(reply) == "AE" and seg(reply, "QAK")[2] == "AE" and all_of(reply, "PID") == []
    assert err_codes(reply) == [("QPD^1^3", "207")]
    assert seg(reply, "ERR")[5] == "TOO_MANY_MATCHES"
    # five is the cap: accepted
    assert len(all_of(mllp.send(pdq_query("@PID.5.1.1^M*")), "PID")) == 5


def test_continuation(mllp: Mllp) -> None:
    first = mllp.send(pdq_query("@PID.5.1.1^M*LLER", quantity=2, tag="C1"))
    assert len(names(first)) == 2 and seg(first, "QAK")[4:7] == ["3", "2", "1"]
    pointer = seg(first, "DSC")[1]
    assert seg(first, "DSC")[2] == "I"
    second = mllp.send(pdq_query("@PID.5.1.1^M*LLER", quantity=2, tag="C1", pointer=pointer))
    assert seg(second, "QAK")[4:7] == ["3", "1", "0"]
    assert sorted(names(first) + names(second)) == sorted(["MÖLLER^PETRA", "MUELLER^HANNA", "MÜLLER^HANS"])
    assert all_of(second, "DSC") == []
    # a pointer serves once
    again = mllp.send(pdq_query("@PID.5.1.1^M*LLER", quantity=2, tag="C1", pointer=pointer))
    assert msa_code(again) == "AE" and err_codes(again) == [("DSC^1^1", "204")]


def test_cancel(mllp: Mllp) -> None:
    first = mllp.send(pdq_query("@PID.5.1.1^M*LLER", quantity=1, tag="C2"))
    pointer = seg(first, "DSC")[1]
    cancel = (
        b"MSH|^~\\&|CONSUMER|CLINIC|PIX|DOMAIN|20240115120000||QCN^J01^QCN_J01|X1|P|2.5\r"
        b"QID|C2|IHE PDQ Query\r"
    )
    assert msa_code(mllp.send(cancel)) == "AA"
    reply = mllp.send(pdq_query("@PID.5.1.1^M*LLER", quantity=1, tag="C2", pointer=pointer))
    assert msa_code(reply) == "AE" and err_codes(reply) == [("DSC^1^1", "204")]


@pytest.mark.parametrize(
    ("params", "location", "code"),
    [
        (("@PID.99^X",), "QPD^1^3^1", "103"),
        (("@PID.5.1.1^",), "QPD^1^3^1", "101"),
        (("@PID.5.1.1^A", "@PHONETIC^METAPHONE"), "QPD^1^3^2", "103"),
        ((), "QPD^1^3", "101"),
    ],
    ids=["unknown-field", "no-value", "unknown-algorithm", "no-parameter"],
)
def test_bad_parameters(mllp: Mllp, params: tuple[str, ...], location: str, code: str) -> None:
    reply = mllp.send(pdq_query(*params))
    assert msa_code(reply) == "AE" and err_codes(reply) == [(location, code)]


def test_bad_quantity(mllp: Mllp) -> None:
    reply = mllp.send(pdq_query("@PID.5.1.1^MEIER").replace(b"RCP|I", b"RCP|I|ALL^RD"))
    assert msa_code(reply) == "AE" and err_codes(reply) == [("RCP^1^2", "102")]


def test_character_sets(mllp: Mllp) -> None:
    utf8 = mllp.send(pdq_query("@PID.5.1.1^ÖZTÜRK"))
    assert names(utf8) == ["ÖZTÜRK^AYSE"] and seg(utf8, "MSH")[17] == "UNICODE UTF-8"
    latin = mllp.send(pdq_query("@PID.5.1.1^ÖZTÜRK", charset="8859/1"))
    assert names(latin, "latin-1") == ["ÖZTÜRK^AYSE"] and seg(latin, "MSH", "latin-1")[17] == "8859/1"
    # ASCII cannot hold Ö: it travels as HL7 hex data of its UTF-8 bytes
    ascii_reply = mllp.send(pdq_query("@PID.5.1.1^\\XC396\\ZT\\XC39C\\RK", charset="ASCII"))
    assert names(ascii_reply, "ascii") == ["\\XC396\\ZT\\XC39C\\RK^AYSE"]


def test_hl7apy_reads_the_answer(mllp: Mllp) -> None:
    theirs = parse_message(mllp.send(pdq_query("@PID.5.1.1^M*LLER", quantity=2)).decode(), find_groups=True)
    assert theirs.msh.msh_9.to_er7() == "RSP^K22^RSP_K21"
    assert theirs.qak.qak_4.value == "3" and theirs.dsc.dsc_2.value == "I"

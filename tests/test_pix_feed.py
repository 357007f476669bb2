"""ITI-8 Patient Identity Feed into the PIX Manager over raw MLLP, on SQLite and PostgreSQL
(ITI TF-2a 3.8.4.1.3, 3.8.4.2.3): XAD-PIDs issued, local IDs linked, A08 updates, A40 merges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pix_helpers import (
    DOMAIN,
    KIS,
    RIS,
    Mllp,
    PixServer,
    adt,
    cx,
    err_codes,
    msa_code,
    pix_query,
    running_pix,
)
from pix_helpers import segment as seg

from pix.store import identifiers_of
from pix.tables import identifier, patient


@pytest.fixture
def pix(database_url: str, tmp_path: Path) -> Iterator[PixServer]:
    with running_pix(database_url, tmp_path / "data") as server:
        yield server


@pytest.fixture
def mllp(pix: PixServer) -> Iterator[Mllp]:
    with pix.peer() as peer:
        yield peer


def xad_of(mllp: Mllp, local: str, oid: str = KIS) -> str:
    """The XAD-PID the PIX Manager gives ``local`` (by PIX query)."""
    reply = mllp.send(pix_query(cx(local, oid), [DOMAIN]))
    assert seg(reply, "QAK")[2] == "OK", reply
    return seg(reply, "PID")[3].split("^")[0]


def patients(pix: PixServer) -> list:
    with pix.store.read() as conn:
        return list(conn.execute(patient.select().order_by(patient.c.id)))


def test_a01_issues_a_xad_pid(pix: PixServer, mllp: Mllp) -> None:
    ack = mllp.send(adt("A01", cx("4711")))
    assert msa_code(ack) == "AA" and seg(ack, "MSA")[2] == "C1"
    assert seg(ack, "MSH")[8].startswith("ACK^A01")
    (row,) = patients(pix)
    assert row.xad_pid == "XAD000000001" and row.status == "active"
    assert xad_of(mllp, "4711") == "XAD000000001"


@pytest.mark.parametrize("event", ["A04", "A05"])
@pytest.mark.parametrize("version", ["2.3.1", "2.5"])
def test_create_events_and_versions(pix: PixServer, mllp: Mllp, event: str, version: str) -> None:
    ack = mllp.send(adt(event, cx("1"), version=version))
    assert msa_code(ack) == "AA" and seg(ack, "MSH")[11] == version
    assert len(patients(pix)) == 1


def test_id_format_is_configurable(database_url: str, tmp_path: Path) -> None:
    with running_pix(database_url, tmp_path, id_format="KOELN-{n:05d}") as pix, pix.peer() as mllp:
        mllp.send(adt("A01", cx("1")))
        assert xad_of(mllp, "1") == "KOELN-00001"


def test_repeated_a01_keeps_the_patient(pix: PixServer, mllp: Mllp) -> None:
    for control in ("C1", "C2"):
        assert msa_code(mllp.send(adt("A01", cx("4711"), control=control))) == "AA"
    assert len(patients(pix)) == 1


def test_two_local_ids_of_one_person_are_linked(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("4711")))
    # the radiology system registers the patient with its own ID and the hospital's
    assert msa_code(mllp.send(adt("A04", [cx("R-9", RIS), cx("4711")]))) == "AA"
    assert len(patients(pix)) == 1
    assert xad_of(mllp, "R-9", RIS) == xad_of(mllp, "4711")


def test_a_message_with_the_domain_id_links_to_it(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("4711")))
    xad = xad_of(mllp, "4711")
    assert msa_code(mllp.send(adt("A01", [cx("R-9", RIS), cx(xad, DOMAIN)]))) == "AA"
    assert xad_of(mllp, "R-9", RIS) == xad and len(patients(pix)) == 1


def test_a_new_patient_with_a_domain_id_keeps_it(pix: PixServer, mllp: Mllp) -> None:
    assert msa_code(mllp.send(adt("A01", [cx("IHE-77", DOMAIN), cx("4711")]))) == "AA"
    assert [row.xad_pid for row in patients(pix)] == ["IHE-77"]
    assert xad_of(mllp, "4711") == "IHE-77"


def test_ids_of_two_patients_in_one_message(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("1")))
    mllp.send(adt("A01", cx("2")))
    ack = mllp.send(adt("A01", [cx("1"), cx("2")]))
    assert msa_code(ack) == "AE" and err_codes(ack) == [("PID^1^3^2", "205")]


def test_a_second_xad_pid_for_a_patient(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("1")))
    ack = mllp.send(adt("A01", [cx("1"), cx("OTHER", DOMAIN)]))
    assert msa_code(ack) == "AE" and err_codes(ack) == [("PID^1^3^2", "205")]


def test_a08_updates_demographics(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("4711")))
    assert msa_code(mllp.send(adt("A08", cx("4711"), name="MÜLLER-LÜDENSCHEIDT^HANS", sex="U"))) == "AA"
    (row,) = patients(pix)
    assert row.names == "MÜLLER-LÜDENSCHEIDT^HANS" and row.sex == "U" and row.family_koelner == "65752682"


def test_a08_of_an_unknown_patient(pix: PixServer, mllp: Mllp) -> None:
    ack = mllp.send(adt("A08", cx("4711")))
    assert msa_code(ack) == "AE" and err_codes(ack) == [("PID^1^3", "204")]
    assert patients(pix) == []


def test_identifier_without_assigning_authority(pix: PixServer, mllp: Mllp) -> None:
    ack = mllp.send(adt("A01", [cx("1"), "2"]))
    assert msa_code(ack) == "AE" and err_codes(ack) == [("PID^1^3^2^4", "101")]
    assert patients(pix) == []  # nothing of a rejected message is kept


def test_a40_merges_two_patients(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", [cx("1"), cx("R-1", RIS)]))
    mllp.send(adt("A01", cx("2")))
    survivor = xad_of(mllp, "2")
    assert msa_code(mllp.send(adt("A40", cx("2"), mrg=cx("1")))) == "AA"
    # the radiology ID of the subsumed patient now belongs to the survivor; the prior local ID is gone
    assert xad_of(mllp, "R-1", RIS) == survivor
    reply = mllp.send(pix_query(cx("1")))
    assert msa_code(reply) == "AE" and err_codes(reply) == [("QPD^1^3^1^1", "204")]
    gone = [row for row in patients(pix) if row.status == "merged"]
    assert len(gone) == 1 and gone[0].merged_into == survivor
    # a merged-away ID is never used again
    ack = mllp.send(adt("A01", cx("1")))
    assert msa_code(ack) == "AE" and err_codes(ack) == [("PID^1^3^1", "204")]


def test_a40_of_xad_pids(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("1")))
    mllp.send(adt("A01", cx("2")))
    first, second = xad_of(mllp, "1"), xad_of(mllp, "2")
    assert msa_code(mllp.send(adt("A40", cx(second, DOMAIN), mrg=cx(first, DOMAIN)))) == "AA"
    assert xad_of(mllp, "1") == second


def test_a40_within_one_patient_retires_the_prior_id(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", [cx("1"), cx("1b")]))
    assert msa_code(mllp.send(adt("A40", cx("1b"), mrg=cx("1")))) == "AA"
    with pix.store.read() as conn:
        (row,) = patients(pix)
        links = identifiers_of(pix.store, conn, [row.id])[row.id]
        assert sorted(link.id_number for link in links) == ["1b", row.xad_pid]
        assert (
            conn.execute(identifier.select().where(identifier.c.id_number == "1")).first().status == "retired"
        )


def test_a40_to_a_new_local_id_renames(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("1")))
    xad = xad_of(mllp, "1")
    assert msa_code(mllp.send(adt("A40", cx("NEW"), mrg=cx("1")))) == "AA"
    assert xad_of(mllp, "NEW") == xad


@pytest.mark.parametrize(
    ("pid3", "mrg", "location"),
    [
        (cx("2"), cx("UNKNOWN"), "MRG^1^1^1"),  # prior ID not known
        (cx("2", RIS), cx("1"), "PID^1^3"),  # no PID-3 identifier in MRG-1's domain
        (cx("1"), cx("1"), "MRG^1^1^1"),  # the same identifier
    ],
)
def test_a40_refused(pix: PixServer, mllp: Mllp, pid3: str, mrg: str, location: str) -> None:
    mllp.send(adt("A01", cx("1")))
    mllp.send(adt("A01", cx("2")))
    ack = mllp.send(adt("A40", pid3, mrg=mrg))
    assert msa_code(ack) == "AE" and err_codes(ack) == [(location, "204")]
    assert all(row.status == "active" for row in patients(pix))


def test_german_names_round_trip_in_8859_1(pix: PixServer, mllp: Mllp) -> None:
    message = adt("A01", cx("1"), name="ÖZTÜRK^JÜRGEN", charset="8859/1")
    ack = mllp.send(message)
    assert msa_code(ack) == "AA" and seg(ack, "MSH", "latin-1")[17] == "8859/1"
    (row,) = patients(pix)
    assert row.names == "ÖZTÜRK^JÜRGEN" and row.city == "KÖLN" and row.street == "HAUPTSTRASSE 1"


def test_many_messages_on_one_connection(pix: PixServer, mllp: Mllp) -> None:
    for n in range(50):
        assert msa_code(mllp.send(adt("A01", cx(str(n)), control=f"C{n}"))) == "AA"
    assert len(patients(pix)) == 50 and len({row.xad_pid for row in patients(pix)}) == 50


def test_an_identifier_sent_twice(pix: PixServer, mllp: Mllp) -> None:
    assert msa_code(mllp.send(adt("A01", [cx("1"), cx("1")]))) == "AA"
    assert len(patients(pix)) == 1


def test_a_new_xad_pid_never_repeats_one_brought_by_a_message(pix: PixServer, mllp: Mllp) -> None:
    mllp.send(adt("A01", cx("1")))  # row 1: XAD000000001
    mllp.send(adt("A01", [cx("2"), cx("XAD000000003", DOMAIN)]))  # row 2 brings the ID row 3 would get
    mllp.send(adt("A01", cx("3")))
    assert [row.xad_pid for row in patients(pix)] == ["XAD000000001", "XAD000000003", "XAD000000003-1"]

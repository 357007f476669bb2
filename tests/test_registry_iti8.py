"""ITI-8 Patient Identity Feed into a running registry over a raw MLLP socket, on SQLite and PostgreSQL
(ITI TF-2a 3.8.4.1.4, 3.8.4.2.4): what each message does to the registry and the ACK it gets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from registry_helpers import Mllp, RegistryServer, adt, running_registry, single_document
from sample_data import DOMAIN_OID

from registry import store as db
from registry.tables import DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET
from xds.ebrim import document_entry_from_ebrim
from xds.errors import ErrorCode
from xds.vocabulary import ResponseStatus

P1 = f"P1^^^&{DOMAIN_OID}&ISO"
P2 = f"P2^^^&{DOMAIN_OID}&ISO"
FOREIGN = "4711^^^&1.2.276.0.76.4.17.9999.1&ISO"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[RegistryServer]:
    with running_registry(database_url, tmp_path / "data") as server:
        yield server


@pytest.fixture
def mllp(registry: RegistryServer) -> Iterator[Mllp]:
    peer = Mllp(registry.mllp_port)
    yield peer
    peer.close()


def ack_code(ack: dict[str, list[str]]) -> str:
    return ack["MSA"][1]


def error_code(ack: dict[str, list[str]]) -> str:
    return ack["ERR"][3].split("^")[0]  # v2.5 ERR-3 (CWE.1, HL7 Table 0357)


def test_a01_makes_the_patient_known(registry: RegistryServer, mllp: Mllp) -> None:
    assert registry.register(single_document("1", P1)).status == ResponseStatus.FAILURE
    ack = mllp.send(adt("A01", P1))
    assert ack_code(ack) == "AA" and ack["MSA"][2] == "C1"
    assert ack["MSH"][8].startswith("ACK^A01") and ack["MSH"][11] == "2.5"
    assert registry.register(single_document("1", P1)).status == ResponseStatus.SUCCESS


@pytest.mark.parametrize("event", ["A04", "A05"])
def test_other_create_events(registry: RegistryServer, mllp: Mllp, event: str) -> None:
    assert ack_code(mllp.send(adt(event, P1))) == "AA"
    assert registry.register(single_document("2", P1)).status == ResponseStatus.SUCCESS


def test_repeated_a01_is_accepted(mllp: Mllp) -> None:
    # NIST feeds the same patient on every run and expects AA each time
    assert [ack_code(mllp.send(adt("A01", P1, control=f"C{i}"))) for i in range(3)] == ["AA"] * 3


def test_nist_style_version_23(registry: RegistryServer, mllp: Mllp) -> None:
    message = adt("A01", P1, version="2.3").replace(b"ADT^A01^ADT_A01", b"ADT^A01")
    assert ack_code(mllp.send(message)) == "AA"
    assert registry.register(single_document("3", P1)).status == ResponseStatus.SUCCESS


def test_domain_identifier_among_others(registry: RegistryServer, mllp: Mllp) -> None:
    assert ack_code(mllp.send(adt("A01", f"{FOREIGN}~{P1}"))) == "AA"
    with registry.store.read() as conn:
        assert db.get_patient(conn, P1) is not None
        assert db.get_patient(conn, FOREIGN) is None  # ITI TF-2a 3.8.4.1.4: other authorities ignored


def test_only_foreign_identifiers_are_refused(registry: RegistryServer, mllp: Mllp) -> None:
    ack = mllp.send(adt("A01", FOREIGN))
    assert (ack_code(ack), error_code(ack)) == ("AE", "204")
    assert ack["ERR"][2].startswith("PID^1^3")


def test_a08_changes_nothing(registry: RegistryServer, mllp: Mllp) -> None:
    # ITI TF-2a 3.8.4.1.4: the Document Registry acknowledges and ignores A08
    assert ack_code(mllp.send(adt("A08", P1))) == "AA"
    with registry.store.read() as conn:
        assert db.get_patient(conn, P1) is None


def test_unsupported_event_is_rejected(mllp: Mllp) -> None:
    ack = mllp.send(adt("A03", P1))
    assert (ack_code(ack), error_code(ack)) == ("AR", "201")


def test_garbage_then_a_good_message_on_one_connection(mllp: Mllp) -> None:
    assert ack_code(mllp.send(b"this is not HL7\r")) == "AR"
    assert ack_code(mllp.send(adt("A01", P1))) == "AA"


def test_a40_merges_the_subsumed_patients_objects(registry: RegistryServer, mllp: Mllp) -> None:
    for pid in (P1, P2):
        assert ack_code(mllp.send(adt("A01", pid))) == "AA"
    submission = single_document("4", P2)
    assert registry.register(submission).status == ResponseStatus.SUCCESS
    assert ack_code(mllp.send(adt("A40", P1, P2))) == "AA"
    (row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, submission.document_entries[0].unique_id)
    assert row.patient_id == P1
    entry = document_entry_from_ebrim(etree.fromstring(row.ebrim))
    assert (
        entry.patient_id.render() == P1
        and entry.source_patient_id == submission.document_entries[0].source_patient_id
    )
    (ss_row,) = registry.rows_by_unique_id(SUBMISSION_SET, submission.submission_sets[0].unique_id)
    assert ss_row.patient_id == P1
    with registry.store.read() as conn:
        merged = db.get_patient(conn, P2)
    assert (merged.status, merged.merged_into) == (db.MERGED, P1)
    # ITI TF-2a 3.8.4.2.4: the subsumed ID is no longer accepted
    response = registry.register(single_document("5", P2))
    assert [str(e.code) for e in response.errors] == [ErrorCode.XDS_UNKNOWN_PATIENT_ID]
    assert registry.register(single_document("5", P1)).status == ResponseStatus.SUCCESS
    assert registry.count(FOLDER) == 0


@pytest.mark.parametrize(
    ("feed", "merge"),
    [
        ([P1], (P1, P2)),  # subsumed ID unknown
        ([P2], (P1, P2)),  # surviving ID unknown
        ([P1], (P1, P1)),  # the same patient
        ([P1], (P1, FOREIGN)),  # subsumed ID of another authority
    ],
)
def test_a40_refused_without_change(
    registry: RegistryServer, mllp: Mllp, feed: list[str], merge: tuple[str, str]
) -> None:
    for pid in feed:
        assert ack_code(mllp.send(adt("A01", pid))) == "AA"
    ack = mllp.send(adt("A40", *merge))
    assert (ack_code(ack), error_code(ack)) == ("AE", "204")
    with registry.store.read() as conn:
        assert all(db.get_patient(conn, pid).status == db.ACTIVE for pid in feed)


def test_a40_of_an_already_merged_patient(registry: RegistryServer, mllp: Mllp) -> None:
    for pid in (P1, P2):
        mllp.send(adt("A01", pid))
    assert ack_code(mllp.send(adt("A40", P1, P2))) == "AA"
    assert ack_code(mllp.send(adt("A40", P1, P2))) == "AE"
    # a subsumed ID cannot come back with A01 either
    assert ack_code(mllp.send(adt("A01", P2))) == "AE"

"""Patient Identity Source: the PIX Manager feeds every new or changed XAD-PID to our running Document
Registry as ITI-8 (A01/A08/A40) over MLLP, through a persistent outbox (ITI TF-2a 3.8), on SQLite and
PostgreSQL, PIX and registry sharing one database as under ``xds up``."""

from __future__ import annotations

from pathlib import Path

from pix_helpers import (
    DOMAIN,
    KIS,
    adt,
    cx,
    msa_code,
    pix_query,
    registry_on,
    registry_patient,
    running_pix,
    wait_until,
)
from pix_helpers import segment as seg
from registry_helpers import free_port, running_registry, single_document

from pix.tables import DELIVERED, PENDING, REJECTED
from xds.vocabulary import ResponseStatus


def _xad(reply: bytes) -> str:
    return seg(reply, "PID")[3].split("^")[0]


def test_feed_reaches_the_registry(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path / "r") as registry:
        address = f"127.0.0.1:{registry.mllp_port}"
        with running_pix(database_url, tmp_path / "p", registry=address) as pix, pix.peer() as mllp:
            assert msa_code(mllp.send(adt("A01", cx("4711")))) == "AA"
            xad = _xad(mllp.send(pix_query(cx("4711"), [DOMAIN])))
            wait_until(lambda: [r.state for r in pix.outbox("registry")] == [DELIVERED])
            (row,) = pix.outbox("registry")
            assert row.event == "A01" and row.attempts == 1 and row.result.startswith("MSA|AA")
            # the registry knows the patient: a submission for the XAD-PID is accepted
            response = registry.register(single_document("1", f"{xad}^^^&{DOMAIN}&ISO"))
            assert response.status == ResponseStatus.SUCCESS
            # a second local ID of the same person changes no XAD-PID: nothing more for the registry
            assert msa_code(mllp.send(adt("A04", [cx("R-1", "1.2.3.4"), cx("4711")]))) == "AA"
            # new demographics: A08
            assert msa_code(mllp.send(adt("A08", cx("4711"), name="MÜLLER^JÜRGEN"))) == "AA"
            wait_until(lambda: [r.state for r in pix.outbox("registry")] == [DELIVERED] * 2)
            assert [r.event for r in pix.outbox("registry")] == ["A01", "A08"]


def test_merge_reaches_the_registry(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path / "r") as registry:
        address = f"127.0.0.1:{registry.mllp_port}"
        with running_pix(database_url, tmp_path / "p", registry=address) as pix, pix.peer() as mllp:
            mllp.send(adt("A01", cx("1")))
            mllp.send(adt("A01", cx("2")))
            first, second = (_xad(mllp.send(pix_query(cx(i), [DOMAIN]))) for i in ("1", "2"))
            assert msa_code(mllp.send(adt("A40", cx("2"), mrg=cx("1")))) == "AA"
            wait_until(lambda: [r.state for r in pix.outbox("registry")] == [DELIVERED] * 3)
            assert registry.register(single_document("2", f"{first}^^^&{DOMAIN}&ISO")).status == (
                ResponseStatus.FAILURE
            )
            assert registry.register(single_document("3", f"{second}^^^&{DOMAIN}&ISO")).status == (
                ResponseStatus.SUCCESS
            )


def test_a_registry_that_is_down_gets_the_feed_later_in_order(database_url: str, tmp_path: Path) -> None:
    port = free_port()  # nobody listens here yet
    with running_pix(database_url, tmp_path / "p", registry=f"127.0.0.1:{port}") as pix, pix.peer() as mllp:
        for n in ("1", "2", "3"):
            assert msa_code(mllp.send(adt("A01", cx(n, KIS), control=f"C{n}"))) == "AA"
        # the merge only works at the registry if it comes after both A01s
        assert msa_code(mllp.send(adt("A40", cx("2"), mrg=cx("1")))) == "AA"
        xads = [_xad(mllp.send(pix_query(cx(n), [DOMAIN]))) for n in ("2", "3")]
        wait_until(lambda: any(r.attempts > 0 for r in pix.outbox("registry")))
        assert {r.state for r in pix.outbox("registry")} == {PENDING}
        with registry_on(database_url, tmp_path / "r", port) as registry_store:
            wait_until(lambda: {r.state for r in pix.outbox("registry")} == {DELIVERED})
            rows = pix.outbox("registry")
            assert [r.event for r in rows] == ["A01", "A01", "A01", "A40"]
            assert len({r.control_id for r in rows}) == 4
            survivor = registry_patient(registry_store, xads[0])
            assert survivor is not None and survivor.status == "active"
            assert registry_patient(registry_store, xads[1]).status == "active"
            merged = [r for r in rows if r.event == "A40"][0]
            assert merged.result.startswith("MSA|AA")


def test_a_rejected_message_does_not_block_the_queue(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path / "r") as registry:
        address = f"127.0.0.1:{registry.mllp_port}"
        # a PIX Manager of another affinity domain: the registry refuses its XAD-PIDs (AE 204)
        other = {"domain_oid": "1.2.276.0.76.3.1.99.999"}
        with running_pix(database_url, tmp_path / "p", registry=address, settings=other) as pix:
            with pix.peer() as mllp:
                for n in ("1", "2"):
                    assert msa_code(mllp.send(adt("A01", cx(n)))) == "AA"
            wait_until(lambda: {r.state for r in pix.outbox("registry")} == {REJECTED})
            rows = pix.outbox("registry")
            assert len(rows) == 2 and all("ERR" in r.result and "|204^" in r.result for r in rows)

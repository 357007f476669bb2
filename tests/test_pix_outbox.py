"""The outbox of the Patient Identity Source and of ITI-10: retries, rejections, order, and persistence
across a restart of the PIX Manager (ITI TF-2a 3.8: the registry gets every XAD-PID, in order)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from pix_helpers import KIS, RIS, adt, cx, mllp_listener, msa_code, running_pix, wait_until
from registry_helpers import free_port

from pix import outbox as pix_outbox
from pix.config import pix_config
from pix.identity_source import adt as adt_message
from pix.model import Demographics
from pix.tables import DELIVERED, PENDING, REJECTED
from xds.config import Settings


def control_ids(messages: list[bytes]) -> list[str]:
    return [m.split(b"\r")[0].split(b"|")[9].decode() for m in messages]


def test_a_transient_failure_is_retried_with_the_same_message(tmp_path: Path) -> None:
    # HL7 v2.5 2.9.2.2: AR 207 (application internal error) means "try again later"
    with mllp_listener(answers=["AR:207"]) as registry:
        address = f"127.0.0.1:{registry.port}"
        with running_pix(f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path, registry=address) as pix:
            with pix.peer() as mllp:
                assert msa_code(mllp.send(adt("A01", cx("1"), control="C1"))) == "AA"
                assert msa_code(mllp.send(adt("A01", cx("2"), control="C2"))) == "AA"
            wait_until(lambda: {r.state for r in pix.outbox()} == {DELIVERED})
            first, second = pix.outbox()
            assert first.attempts == 2 and second.attempts == 1
            assert control_ids(registry.received) == [first.control_id, first.control_id, second.control_id]


def test_a_rejected_message_is_kept_and_the_queue_moves_on(tmp_path: Path) -> None:
    with mllp_listener(answers=["AE:204"]) as registry:
        address = f"127.0.0.1:{registry.port}"
        with running_pix(f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path, registry=address) as pix:
            with pix.peer() as mllp:
                mllp.send(adt("A01", cx("1")))
                mllp.send(adt("A01", cx("2")))
            wait_until(lambda: [r.state for r in pix.outbox()] == [REJECTED, DELIVERED])
            assert "204" in pix.outbox()[0].result and len(registry.received) == 2


def test_the_outbox_survives_a_restart(tmp_path: Path) -> None:
    url, port = f"sqlite:///{tmp_path / 'p.sqlite'}", free_port()
    with running_pix(url, tmp_path, registry=f"127.0.0.1:{port}") as pix, pix.peer() as mllp:
        for n in ("1", "2", "3"):
            assert msa_code(mllp.send(adt("A01", cx(n)))) == "AA"
        wait_until(lambda: all(r.attempts > 0 for r in pix.outbox()[:1]))
        queued = [r.control_id for r in pix.outbox()]
        assert {r.state for r in pix.outbox()} == {PENDING}
    # the PIX Manager stopped; the registry comes up; the PIX Manager starts again
    with (
        mllp_listener(port=port) as registry,
        running_pix(url, tmp_path, registry=f"127.0.0.1:{port}") as pix,
    ):
        wait_until(lambda: {r.state for r in pix.outbox()} == {DELIVERED})
        assert control_ids(registry.received) == queued


def test_a_merge_is_notified_to_subscribers(tmp_path: Path) -> None:
    with mllp_listener() as subscriber:
        with (
            running_pix(
                f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path, subscribers=[f"127.0.0.1:{subscriber.port}"]
            ) as pix,
            pix.peer() as mllp,
        ):
            mllp.send(adt("A01", [cx("1"), cx("R-1", RIS)]))
            mllp.send(adt("A01", cx("2")))
            assert msa_code(mllp.send(adt("A40", cx("2"), mrg=cx("1")))) == "AA"
            wait_until(lambda: len(subscriber.received) == 3)
        pid = subscriber.received[2].decode().split("\r")[2].split("|")
        ids = pid[3].split("~")
        # the survivor: its own IDs and the radiology ID of the merged patient; not the retired ones
        assert f"2^^^&{KIS}&ISO" in ids and f"R-1^^^&{RIS}&ISO" in ids and f"1^^^&{KIS}&ISO" not in ids
        assert len([i for i in ids if i.startswith("XAD")]) == 1


def test_delivered_messages_are_purged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pix_outbox, "_PURGE_INTERVAL", 0.0)
    with mllp_listener() as registry:
        address = f"127.0.0.1:{registry.port}"
        with (
            running_pix(
                f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path, registry=address, outbox_keep_days=0
            ) as pix,
            pix.peer() as mllp,
        ):
            mllp.send(adt("A01", cx("1")))
            wait_until(lambda: len(registry.received) == 1)
            wait_until(lambda: pix.outbox() == [])  # once its second has passed


@pytest.mark.parametrize(
    ("event", "structure"), [("A01", "ADT_A01"), ("A08", "ADT_A01"), ("A40", "ADT_A39"), ("A31", "ADT_A05")]
)
def test_hl7apy_reads_what_we_send_strictly(event: str, structure: str) -> None:
    config = pix_config(Settings())
    demographics = Demographics(("ÖZTÜRK^AYŞE",), "19800101", "F", ("Weg 1^^Köln^^50667^DE",))
    prior = "XAD000000001^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO" if event == "A40" else None
    _control, message = adt_message(config, event, [cx("1"), cx("XAD2", RIS)], demographics, "REG", prior)
    theirs = parse_message(message.decode(), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert theirs.validate()
    assert theirs.msh.msh_9.to_er7() == f"ADT^{event}^{structure}"
    pid = theirs.adt_a39_patient.pid if event == "A40" else theirs.pid
    assert pid.pid_5.to_er7() == "ÖZTÜRK^AYŞE"

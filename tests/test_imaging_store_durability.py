"""The instance store's index and durability rules, and our Storage SCU's handling of a failed message:
a file gone behind the index's back leaves it when its study is published; a study's last_received only
moves forward; an association on which a C-STORE failed is aborted, not used again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imaging_helpers import imaging_settings, running_source, storescu, write_study

import imaging_source.store as store_module
from imaging_source import pdu
from imaging_source.instance_meta import InstanceMeta
from imaging_source.store import InstanceStore
from imaging_source.store_scu import AssociationFailed, StoreScu

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def test_a_missing_file_leaves_the_index_when_its_study_is_made_durable(tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=3)
    with running_source(imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")) as src:
        assert storescu(src.port, *study.files).returncode == 0
        held = src.store.find_instances(study_uid=study.study_uid)
        held[1].path.unlink()  # an operator cleaning up by hand
        kept = src.store.make_durable(held)
        assert [i.sop_instance_uid for i in kept] == [held[0].sop_instance_uid, held[2].sop_instance_uid]
        assert len(src.store.find_instances(study_uid=study.study_uid)) == 2


def test_last_received_moves_forward_whatever_the_clock_says(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers: the one that read the clock first may commit second (PostgreSQL row lock). The study's
    last_received still moves forward, so a manifest built between them leaves the study due."""
    study = write_study(tmp_path / "in", slices=2)
    store = InstanceStore(database_url, tmp_path / "data")
    try:
        clock = iter([1000.0, 900.0])
        monkeypatch.setattr(store_module.time, "time", lambda: next(clock))
        for path in study.files:
            assert store.add(path, InstanceMeta.read(path), move=False, durable=False)
        row = store.study(study.study_uid)
        assert row is not None and row.last_received > 1000.0
    finally:
        store.close()


@pytest.fixture
def slow_scp() -> Iterator[tuple[int, list[int]]]:
    """A Storage SCP that accepts CT Image Storage, reads one C-STORE and never answers it; it records the
    types of the PDUs that come after."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[int] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            parser = pdu.PduParser()
            events = []
            while not events:
                events = list(parser.feed(conn.recv(65536)))
            request = pdu.parse_associate_rq(events[0].body)  # type: ignore[union-attr]
            conn.sendall(pdu.associate_ac(request, [(1, pdu.ACCEPTANCE, EXPLICIT_LE)], max_length=16384,
                                          implementation_class_uid="1.2.3", implementation_version="SLOW"))
            while data := conn.recv(65536):
                seen.extend(e.pdu_type for e in parser.feed(data) if isinstance(e, pdu.ControlPdu))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        server.close()
        thread.join(timeout=10)


def test_an_association_a_c_store_failed_on_is_aborted_and_not_used_again(
    slow_scp: tuple[int, list[int]], tmp_path: Path
) -> None:
    port, seen = slow_scp
    study = write_study(tmp_path / "in", slices=2)
    scu = StoreScu.open("127.0.0.1", port, called_ae="SLOW", calling_ae="ME",
                        contexts=[(CT_IMAGE, [EXPLICIT_LE])], timeout=10)
    scu.sock.settimeout(0.5)
    uid = InstanceMeta.read(study.files[0]).sop_instance_uid
    with pytest.raises(OSError):  # no answer in time
        scu.send(study.files[0], CT_IMAGE, uid, EXPLICIT_LE, message_id=1)
    # PS3.8 7.3: the half-done exchange ends the association with an A-ABORT; nothing else goes out on it
    with pytest.raises(AssociationFailed, match="aborted"):
        scu.send(study.files[1], CT_IMAGE, uid, EXPLICIT_LE, message_id=2)
    scu.release()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == [pdu.A_ABORT]

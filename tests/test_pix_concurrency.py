"""Many connections feeding at once, on SQLite and PostgreSQL: every feed is acknowledged, stored once,
and gets its own XAD-PID; concurrent feeds of one new identifier make one patient (group commit)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from pix_helpers import Mllp, adt, cx, msa_code, running_pix

from pix.tables import identifier, patient


def at_once(port: int, work: Callable[[Mllp, int], list[str]], threads: int = 8) -> list[str]:
    barrier = threading.Barrier(threads)
    results: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        with Mllp(port) as peer:
            barrier.wait()
            codes = work(peer, index)
        with lock:
            results.extend(codes)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def test_eight_connections_feeding_new_patients(database_url: str, tmp_path: Path) -> None:
    with running_pix(database_url, tmp_path) as pix:
        codes = at_once(
            pix.port,
            lambda peer, i: [
                msa_code(peer.send(adt("A01", cx(f"{i}-{n}"), control=f"{i}-{n}"))) for n in range(20)
            ],
        )
        assert codes == ["AA"] * 160
        with pix.store.read() as conn:
            xads = [row.xad_pid for row in conn.execute(patient.select())]
            assert len(xads) == len(set(xads)) == 160
            assert len(list(conn.execute(identifier.select()))) == 320


def test_eight_connections_feeding_the_same_new_patient(database_url: str, tmp_path: Path) -> None:
    with running_pix(database_url, tmp_path) as pix:
        codes = at_once(pix.port, lambda peer, i: [msa_code(peer.send(adt("A01", cx("SAME"))))])
        assert codes == ["AA"] * 8
        with pix.store.read() as conn:
            assert len(list(conn.execute(patient.select()))) == 1

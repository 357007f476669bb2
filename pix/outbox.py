"""Delivery of the outbox: ITI-8 to the registry and ITI-10 to the subscribers, in order, until acknowledged.

One worker per peer sends that peer's pending messages in the order they were queued, over one MLLP
connection, and settles each by its ACK: AA -> delivered; AE, or AR for anything but a transient failure
(HL7 v2.5 Table 0357 code 207) -> rejected (logged, kept with the ACK, and the queue moves on: resending
would be refused again); no answer, a closed connection or AR 207 -> the same message again after
``retry_seconds``. A message is settled only after its ACK arrived, so a registry that was down gets
everything later, in order. Outcomes are stored in groups of up to ``_FLUSH`` (one transaction each, not
one per message); a crash between an ACK and its record sends those messages again, as does a lost ACK:
MSH-10 stays the same on every attempt, so a receiver can recognise a repeated message. Delivered
messages are kept ``outbox_keep_days`` (default 30; rejected ones until removed by hand), then purged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

import anyio.to_thread
from sqlalchemy import Row

from pix import store as db
from pix.config import Peer, PixConfig
from pix.tables import DELIVERED, REJECTED
from xds.hl7v2 import ErrorCondition, Hl7Error, split_message
from xds.mllp import AsyncMllpClient, MllpError

log = logging.getLogger(__name__)

_BATCH = 100
# outcomes stored per transaction: a crash between an ACK and its record re-sends at most this many
_FLUSH = 20
_PURGE_INTERVAL = 3600.0  # seconds between purges of delivered messages


def ack_outcome(reply: bytes) -> tuple[str, str]:
    """(MSA-1, the MSA and ERR segments as text) of an ACK; MSA-1 "" when the reply is no ACK."""
    try:
        message = split_message(reply)
    except Hl7Error:
        return "", reply[:200].decode("latin-1")
    msa = message.find("MSA")
    summary = "\r".join("|".join((s.name, *s.fields)) for s in message.segments if s.name in ("MSA", "ERR"))
    return (msa[0].value(1) if msa else ""), summary


def _transient(code: str, summary: str) -> bool:
    # HL7 v2.5 2.9.2.2: AR for reasons unrelated to the content (system down, internal error) -> try again
    return code == "" or (
        code in ("AR", "CR") and f"{ErrorCondition.APPLICATION_INTERNAL_ERROR.value}^" in summary
    )


class _Worker:
    def __init__(self, store: db.PixStore, peer: Peer, config: PixConfig) -> None:
        self.store = store
        self.peer = peer
        self.config = config
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.client = AsyncMllpClient(
            peer.host, peer.port, timeout=config.send_timeout, ssl=config.client_tls
        )
        self._purged = -_PURGE_INTERVAL

    async def run(self) -> None:
        while True:
            self.wakeup.clear()
            try:
                rows = await anyio.to_thread.run_sync(self._pending)
            except Exception:  # database unavailable: try later
                log.exception("outbox of %s not readable", self.peer.name)
                rows = []
            if not rows:
                await self._purge()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.config.retry_seconds)
                continue
            outcomes: list[tuple[int, str | None, str]] = []
            try:
                for row in rows:
                    outcome = await self._deliver(row)
                    outcomes.append(outcome)
                    if outcome[1] is None:  # not settled: the same message again, later
                        break
                    if len(outcomes) >= _FLUSH:
                        await self._record(outcomes)
                        outcomes = []
            finally:
                await self._record(outcomes)
            if outcomes and outcomes[-1][1] is None:
                await asyncio.sleep(self.config.retry_seconds)

    async def _purge(self) -> None:
        """Delete delivered messages older than ``outbox_keep_days`` (at most once an hour)."""
        now = time.monotonic()
        if self.config.outbox_keep_days is None or now - self._purged < _PURGE_INTERVAL:
            return
        self._purged = now
        cutoff = (datetime.now(UTC) - timedelta(days=self.config.outbox_keep_days)).strftime("%Y%m%d%H%M%S")

        def purge() -> int:
            with self.store.write() as conn:
                return db.purge_delivered(conn, self.peer.name, cutoff)

        try:
            removed = await anyio.to_thread.run_sync(purge)
        except Exception:
            log.exception("outbox of %s not purged", self.peer.name)
            return
        if removed:
            log.info(
                "outbox of %s: %d delivered message(s) older than %s purged", self.peer.name, removed, cutoff
            )

    def _pending(self) -> list[Row]:
        with self.store.read() as conn:
            return db.pending(conn, self.peer.name, _BATCH)

    async def _deliver(self, row: Row) -> tuple[int, str | None, str]:
        """(seq, new state: delivered, rejected or None to try again later, what the peer said)."""
        try:
            reply = await self.client.send(row.message)
        except (OSError, MllpError, TimeoutError) as exc:
            log.info(
                "%s at %s:%d not reachable (%s); retrying in %s s",
                self.peer.name,
                self.peer.host,
                self.peer.port,
                exc,
                self.config.retry_seconds,
            )
            return row.seq, None, f"not delivered: {exc}"
        code, summary = ack_outcome(reply)
        if code in ("AA", "CA"):
            return row.seq, DELIVERED, summary
        if _transient(code, summary):
            await self.client.close()
            return row.seq, None, summary
        log.warning("%s rejected %s %s: %s", self.peer.name, row.event, row.control_id, summary)
        return row.seq, REJECTED, summary

    async def _record(self, outcomes: list[tuple[int, str | None, str]]) -> None:
        """Store the outcomes of a run of deliveries in one transaction."""
        if not outcomes:
            return

        def write() -> None:
            with self.store.write() as conn:
                for seq, state, result in outcomes:
                    if state is None:
                        db.count_attempt(conn, seq, result)
                    else:
                        db.settle(conn, seq, state, result)

        await anyio.to_thread.run_sync(write)


class Outbox:
    """The delivery workers of all peers; ``wake`` them when a transaction queued something."""

    def __init__(self, store: db.PixStore, config: PixConfig) -> None:
        self._store = store
        self._config = config
        self._workers: dict[str, _Worker] = {}

    async def start(self) -> None:
        for peer in self._config.peers:
            worker = _Worker(self._store, peer, self._config)
            worker.task = asyncio.create_task(worker.run(), name=f"pix-outbox-{peer.name}")
            self._workers[peer.name] = worker

    async def stop(self) -> None:
        workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            if worker.task is not None:
                worker.task.cancel()
        for worker in workers:
            if worker.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker.task
            await worker.client.close()

    def wake(self, targets: set[str]) -> None:
        for target in targets:
            worker = self._workers.get(target)
            if worker is not None:
                worker.wakeup.set()

"""Group commit: the write jobs of concurrent threads share one transaction, each in its own savepoint.

Every feed is a short write transaction; with many connections feeding at once, most of the time would go
to taking turns for the database's write lock and to commits (an fsync each on PostgreSQL). Here the
thread that finds the writer free becomes the leader: it takes every job queued so far, runs each in a
SAVEPOINT of one transaction (a job that fails is rolled back alone and gets its exception), commits once
and hands out the results. A lone job runs without a savepoint. A job is reported done only after the
commit, so an ACK never announces a change that a failed commit lost.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

_ATTEMPTS = 3  # a job that collides with another process's insert (IntegrityError) runs again


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    result: Any = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    def __init__(self, begin: Callable[[], Any], on_failure: Callable[[], None] = lambda: None) -> None:
        self._begin = begin  # opens a write transaction: a context manager yielding a Connection
        self._on_failure = on_failure  # after a rollback (e.g. drop caches)
        self._leader = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: deque[_Job] = deque()

    def run(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work(conn)`` in a committed write transaction; its result, or its exception."""
        job = _Job(work)
        with self._queue_lock:
            self._queue.append(job)
        with self._leader:
            if not job.done:
                with self._queue_lock:
                    batch = list(self._queue)
                    self._queue.clear()
                self._execute(batch)
        if job.error is not None:
            raise job.error
        return job.result

    def _execute(self, batch: list[_Job]) -> None:
        try:
            with self._begin() as conn:
                if len(batch) == 1:
                    batch[0].result = batch[0].work(conn)
                else:
                    for job in batch:
                        self._in_savepoint(conn, job)
        except BaseException as exc:
            self._on_failure()
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done = True

    def _in_savepoint(self, conn: Connection, job: _Job) -> None:
        for attempt in range(1, _ATTEMPTS + 1):
            savepoint = conn.begin_nested()
            try:
                job.result = job.work(conn)
            except IntegrityError as exc:
                savepoint.rollback()
                self._on_failure()
                if attempt == _ATTEMPTS:
                    job.error = exc
                continue
            except Exception as exc:
                if conn.invalidated:
                    raise  # the connection is gone: every job of the batch gets this error (_execute)
                savepoint.rollback()
                self._on_failure()
                job.error = exc
                return
            savepoint.commit()
            return

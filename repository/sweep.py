"""Start-up recovery and settling of unknown outcomes (the issue's "crash between storing and registering").

At start-up, before the endpoint takes requests: the repository's scratch folders (tmp/, spool/) are emptied
and every 'pending' blob -- stored, but its registration never confirmed -- is handed to the sweeper. The
sweeper runs in the background (the registry may be this very process, not serving yet) and asks the
registry with ITI-18 GetDocuments by uniqueId: registered there -> the blob is made visible; not there -> its
file and row are removed. While the registry cannot be reached it tries again, waiting longer each time.
ITI-41 handlers hand it blobs whose ITI-42 outcome they could not learn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import anyio.to_thread

from repository.registry_link import RegistryLink, RegistryUnavailable
from repository.store import BlobStore

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self, store: BlobStore, registry: RegistryLink, *, first_retry: float = 0.5, max_retry: float = 30.0
    ) -> None:
        self.store = store
        self.registry = registry
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._unsettled: set[str] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, unique_ids: Iterable[str]) -> None:
        ids = set(unique_ids)
        if ids:
            self._unsettled |= ids
            self._idle.clear()
            self._wake.set()

    @property
    def unsettled(self) -> frozenset[str]:
        return frozenset(self._unsettled)

    async def start(self) -> None:
        """Clear the scratch folders, collect the pending blobs, start settling them in the background."""
        removed = await anyio.to_thread.run_sync(self.store.folders.sweep_scratch)
        pending = await anyio.to_thread.run_sync(self.store.pending)
        if removed or pending:
            log.warning("repository start-up: %d scratch files removed, %d to settle", removed, len(pending))
        self._idle.set()
        self.add(blob.unique_id for blob in pending)
        self._task = asyncio.create_task(self._run(), name="repository-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def _run(self) -> None:
        delay = self.first_retry
        while True:
            await self._wake.wait()
            self._wake.clear()
            ids = set(self._unsettled)
            if not ids:
                self._idle.set()
                continue
            try:
                await self.settle(ids)
            except RegistryUnavailable as exc:
                log.warning("repository sweeper: registry not available (%s); retry in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry)
                self._wake.set()
                continue
            except Exception:
                log.exception("repository sweeper: cannot settle %d blobs; retry in %.1f s", len(ids), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry)
                self._wake.set()
                continue
            delay = self.first_retry
            self._unsettled -= ids
            if self._unsettled:
                self._wake.set()
            else:
                self._idle.set()

    async def settle(self, unique_ids: set[str]) -> None:
        found = await self.registry.registered(unique_ids)
        # registered at the registry: the bytes are here (stored before the ITI-42 was sent), make them
        # visible; unknown to the registry: it never accepted them, so they go
        await anyio.to_thread.run_sync(self.store.mark_registered, found & unique_ids)
        await anyio.to_thread.run_sync(self.store.discard, unique_ids - found)
        if found or unique_ids - found:
            log.info("repository sweeper: %d registered, %d removed", len(found), len(unique_ids - found))

"""A progress line on stderr for long transfers (``xds retrieve``, ``xds images``), drawn only on a terminal.

One line rewritten with ``\\r``, at most ten times a second; scripts and pipes see nothing of it. Bytes are
counted as they arrive from the network by ``CountingTransport``, an httpx transport that wraps the body
stream of every response.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TextIO

import httpx


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class ProgressFactory(Protocol):
    def __call__(
        self, label: str, total: int | None = ..., unit: str = ..., total_bytes: int | None = ...
    ) -> Progress | None: ...


class Progress:
    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "files",
        total_bytes: int | None = None,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label, self.total, self.unit, self.total_bytes = label, total, unit, total_bytes
        self.done = 0
        self.bytes = 0
        self._lock = threading.Lock()  # C-STORE handlers report from pynetdicom's threads
        self._drawn = 0.0
        self._width = 0

    def advance(self, items: int = 1) -> None:
        with self._lock:
            self.done += items
        self._draw()

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
        self._draw()

    def _text(self) -> str:
        count = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        size = _size(self.bytes) + (f"/{_size(self.total_bytes)}" if self.total_bytes else "")
        percent = ""
        if self.total_bytes:
            percent = f" {min(100, 100 * self.bytes // max(self.total_bytes, 1))}%"
        elif self.total:
            percent = f" {min(100, 100 * self.done // self.total)}%"
        return f"{self.label}: {count} {self.unit}, {size}{percent}"

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        text = self._text()
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        """The final figures, and the line ended, so that what follows starts on its own line."""
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Counted(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, on_bytes: Callable[[int], None]) -> None:
        self._stream = stream
        self._on_bytes = on_bytes

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._on_bytes(len(chunk))
            yield chunk

    def close(self) -> None:
        self._stream.close()


class CountingTransport(httpx.BaseTransport):
    """``httpx.HTTPTransport`` whose response bodies report their size as they are read."""

    def __init__(self, on_bytes: Callable[[int], None], **options: object) -> None:
        self._inner = httpx.HTTPTransport(**options)  # type: ignore[arg-type]
        self._on_bytes = on_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.stream = _Counted(response.stream, self._on_bytes)  # type: ignore[arg-type]
        return response

    def close(self) -> None:
        self._inner.close()


def http_client(timeout: float, progress: Progress | None) -> httpx.Client:
    """An httpx client whose downloads count into ``progress`` (a plain client without one)."""
    if progress is None or not progress.enabled:
        return httpx.Client(timeout=timeout)
    return httpx.Client(timeout=timeout, transport=CountingTransport(progress.add_bytes))


def terminal_progress(
    label: str, total: int | None = None, unit: str = "files", total_bytes: int | None = None
) -> Progress | None:
    """A progress line when a person is watching (stdout and stderr are terminals), else None."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        return None
    return Progress(label, total, unit=unit, total_bytes=total_bytes, enabled=True)

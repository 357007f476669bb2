"""What a fetch brings back: the file of each SOP Instance UID that arrived, and why the others did not."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from consumer.imaging.manifest import InstanceRef


@dataclass
class Fetched:
    files: dict[str, Path] = field(default_factory=dict)  # SOP Instance UID -> file (PS3.10)
    errors: dict[str, str] = field(default_factory=dict)  # SOP Instance UID (or "") -> reason

    def merge(self, other: Fetched) -> None:
        self.files.update(other.files)
        for uid, why in other.errors.items():
            if uid not in self.files:
                self.errors[uid] = why


def by_series(refs: Iterable[InstanceRef]) -> Iterator[tuple[tuple[str, str], list[InstanceRef]]]:
    """References grouped by (study, series), in manifest order."""
    ordered = sorted(refs, key=lambda r: (r.study_uid, r.series_uid))
    for key, group in groupby(ordered, key=lambda r: (r.study_uid, r.series_uid)):
        yield key, list(group)


def chunks(items: Sequence[InstanceRef], size: int) -> Iterator[Sequence[InstanceRef]]:
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + size]

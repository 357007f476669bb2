"""``xds publish PATH``: import DICOM files, a folder, a DICOMDIR (patient CD) or a ZIP, and publish the KOS
manifest of every study touched (RAD-68), without a running DICOM listener."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from imaging_source.config import ImagingConfig
from imaging_source.intake import ImportReport, Intake, import_path
from imaging_source.rad68 import Publisher, PublishResult
from imaging_source.store import InstanceStore
from xds.config import Settings


@dataclass
class PublishReport:
    imported: ImportReport
    results: list[PublishResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)


async def _publish(publisher: Publisher, studies: list[str]) -> list[PublishResult]:
    try:
        # force: a study that was already complete here is published again only if it changed, except
        # when it never was published (its manifest state decides)
        return [
            await publisher.publish(uid, force=publisher.store.published_manifest(uid) is None)
            for uid in studies
        ]
    finally:
        await publisher.close()


def publish_path(settings: Settings, path: Path) -> PublishReport:
    """Import ``path`` into the Imaging Document Source's store and publish the touched studies."""
    config = ImagingConfig.from_settings(settings)
    store = InstanceStore(config.database_url, config.data_dir)
    try:
        with tempfile.TemporaryDirectory(dir=store.tmp) as scratch:
            report = import_path(Intake(store), Path(path), Path(scratch))
        results = asyncio.run(_publish(Publisher(store, config), sorted(report.studies)))
        return PublishReport(report, results)
    finally:
        store.close()

"""``xds publish PATH``: import DICOM files, a folder, a DICOMDIR or a ZIP into the Imaging Document Source
and publish each touched study's KOS manifest (RAD-68)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from xds.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="import DICOM (files, folder, DICOMDIR, ZIP) and publish KOS (RAD-68)")
    p.add_argument("path", type=Path, help="a DICOM file, a folder, a DICOMDIR or a ZIP")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--config", type=Path, help="TOML configuration file")


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    from imaging_source.publish import publish_path

    if not args.path.exists():
        print(f"xds: {args.path}: no such file or folder", file=sys.stderr)
        return 2
    report = publish_path(settings, args.path)
    if args.json:
        print(json.dumps({
            "stored": report.imported.stored,
            "skipped": [{"file": f, "why": why} for f, why in report.imported.skipped],
            "studies": [asdict(r) for r in report.results],
        }, indent=2))
    else:
        print(f"{report.imported.stored} instances stored, {len(report.imported.skipped)} files skipped")
        for file, why in report.imported.skipped:
            print(f"  skipped {file}: {why}")
        for r in report.results:
            replaced = f" (replaces {r.replaced})" if r.replaced else ""
            print(f"  study {r.study_uid}: {r.status}{replaced}" + "".join(f"\n    {e}" for e in r.errors))
    return 0 if report.ok else 1

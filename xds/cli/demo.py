"""``xds demo``: load a demo patient (ITI-8), a PDF report (ITI-41) and a synthetic CT study (C-STORE, then
RAD-68) into a running domain, and print three commands to try."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from xds.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="load a demo patient, a PDF report and a CT study into a running domain")
    p.add_argument("--slices", type=int, default=24, help="images per series of the CT study (2 series)")
    p.add_argument("--size", type=int, default=256, help="rows and columns of each image")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the domain's /health")
    p.add_argument("--json", action="store_true")
    p.add_argument("--config", type=Path, help="TOML configuration file")


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.command import run

    def action() -> int:
        return demo(settings, slices=args.slices, size=args.size, wait=args.wait, as_json=args.json,
                    config=args.config)

    return run(action) if args.slices > 0 and args.size > 0 else _bad()


def _bad() -> int:
    print("xds: --slices and --size must be positive", file=sys.stderr)
    return 2


def demo(
    settings: Settings, *, slices: int = 24, size: int = 256, wait: float = 30.0, as_json: bool = False,
    config: Path | None = None,
) -> int:
    from consumer.demo import commands, load_demo

    result = load_demo(settings, slices=slices, size=size, wait=wait,
                       say=(lambda _text: None) if as_json else print)
    tries = commands(settings, result, config)
    if as_json:
        print(json.dumps({**asdict(result), "commands": tries}, indent=2))
    else:
        for note in result.notes:
            print(f"note: {note}")
        print("\nTry:\n" + "\n".join(f"  {c}" for c in tries))
    sys.stdout.flush()
    return 0

"""Argument parsing and dispatch of the ``xds`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from xds import __version__
from xds.cli import audit, certs, demo, feed, images, publish, query, retrieve, submit
from xds.config import ConfigError, load_settings

ACTORS = ("registry", "repository", "imaging-source", "pix", "audit")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xds", description="IHE XDS.b / XDS-I.b affinity domain")
    parser.add_argument("--version", action="version", version=f"xds {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run every available actor in one process")
    up.add_argument("--config", type=Path, help="TOML configuration file")
    up.add_argument("--demo", action="store_true", help="load the demo data (xds demo) once it runs")

    serve = sub.add_parser("serve", help="run one actor")
    serve.add_argument("actor", choices=ACTORS)
    serve.add_argument("--config", type=Path)

    validate = sub.add_parser("validate", help="check an ebRIM 3.0 request against the transaction's rules")
    validate.add_argument(
        "file", type=Path, help="SubmitObjectsRequest, ProvideAndRegister... or AdhocQueryRequest",
    )
    validate.add_argument(
        "--transaction", default="ITI-42", choices=("ITI-41", "ITI-42", "RAD-68", "ITI-18"),
        help="the transaction whose rules apply (default ITI-42)",
    )
    validate.add_argument("--config", type=Path)

    for command in (feed, submit, query, retrieve, publish, images, demo, certs, audit):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"xds: configuration: {exc}", file=sys.stderr)
        return 2
    if args.command == "up":
        from xds.cli.up import run_up

        return run_up(settings, demo=args.demo)
    if args.command == "serve":
        from xds.cli.up import run_up

        return run_up(settings, only=args.actor)
    if args.command == "validate":
        from xds.cli.validate import run_validate

        return run_validate(args.file, args.transaction, settings)
    if args.command == "feed":
        return feed.run_feed(args, settings)
    if args.command == "submit":
        return submit.run_submit(args, settings)
    if args.command == "query":
        return query.run_query(args, settings)
    if args.command == "retrieve":
        return retrieve.run_retrieve(args, settings)
    if args.command == "images":
        return images.run_images(args, settings)
    if args.command == "demo":
        return demo.run_demo(args, settings)
    if args.command == "publish":
        return publish.run_publish(args, settings)
    if args.command == "certs":
        return certs.run_certs(args, settings)
    if args.command == "audit":
        return audit.run_audit(args, settings)
    return 2  # argparse enforces a known command


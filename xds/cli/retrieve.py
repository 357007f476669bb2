"""``xds retrieve UNIQUE_ID... --out DIR``: ITI-43 Retrieve Document Set into a folder (ITI TF-2b 3.43)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xds.cli.query import add_endpoint_options
from xds.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retrieve", help="ITI-43 Retrieve Document Set into a folder")
    p.add_argument("unique_ids", nargs="+", metavar="UNIQUE_ID", help="document uniqueIds")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for <uniqueId><ext> files")
    p.add_argument(
        "--repository-unique-id", metavar="OID",
        help="repository of documents the registry does not know (default: the configured one)",
    )
    p.add_argument(
        "--no-verify", action="store_true",
        help="do not look the documents up in the registry to check their size and hash",
    )
    p.add_argument("--config", type=Path, help="TOML configuration file")
    add_endpoint_options(p)


def run_retrieve(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.command import OK, XDS_FAILURE, make_client, run, warn
    from consumer.output import error_dict, jsonable, table

    def action() -> int:
        with make_client(args, settings) as client:
            result = client.retrieve(
                args.unique_ids, args.out, repository_unique_id=args.repository_unique_id,
                verify=not args.no_verify,
            )
        if args.json:
            body = {"files": jsonable(result.files), "errors": [error_dict(e) for e in result.errors]}
            print(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            rows = [(f.unique_id, f.mime_type, f.size, "yes" if f.verified else "no", f.path)
                    for f in result.files]
            print(table(("uniqueId", "mimeType", "size", "verified", "file"), rows))
        warn(result.errors)
        # a PartialSuccess (ITI TF-2b 3.43.4.2.3) is not a success for a script waiting for every file
        return XDS_FAILURE if result.errors else OK

    return run(action)

"""``xds feed``: ITI-8 Patient Identity Feed (ADT A01, or A40 with --merge) over MLLP (ITI TF-2a 3.8)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xds.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feed", help="ITI-8 Patient Identity Feed (A01; A40 with --merge)")
    p.add_argument("--pid", action="append", required=True, metavar="CX",
                   help="patient identifier ID^^^&OID&ISO; repeat for several local IDs")
    p.add_argument("--name", required=True, help="patient name as HL7 XPN, e.g. DOE^JANE")
    p.add_argument("--birth", default="", metavar="YYYYMMDD")
    p.add_argument("--sex", default="", help="F, M, O, U, A or N")
    p.add_argument("--merge", metavar="CX", help="prior identifier merged into --pid (ADT A40)")
    p.add_argument("--to", metavar="HOST:PORT",
                   help="receiver (default: the PIX Manager's MLLP port, else the registry's)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--json", action="store_true")
    p.add_argument("--config", type=Path, help="TOML configuration file")


def _targets(args: argparse.Namespace, settings: Settings) -> list[tuple[str, int]]:
    if args.to:
        host, sep, port = args.to.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"--to {args.to!r} is not HOST:PORT")
        return [(host, int(port))]
    # a Patient Identity Source feeds the PIX Manager; without one the registry takes ITI-8 itself
    return [(settings.http_host, settings.pix_mllp_port), (settings.http_host, settings.registry_mllp_port)]


def run_feed(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.command import OK, run
    from consumer.feed import build_adt, send_feed

    def action() -> int:
        message, control = build_adt(args.pid, args.name, args.birth, args.sex, args.merge)
        targets = _targets(args, settings)
        for n, (host, port) in enumerate(targets, start=1):
            try:
                ack = send_feed(host, port, message, timeout=args.timeout)
            except ConnectionRefusedError:
                if n < len(targets):
                    continue
                tried = " or ".join(f"{h}:{p}" for h, p in targets)
                raise ConnectionRefusedError(f"nothing listens on {tried}") from None
            event = "A40" if args.merge else "A01"
            if args.json:
                to = f"{host}:{port}"
                print(json.dumps({"ack": ack.code, "control_id": control, "event": event, "to": to}))
            else:
                print(f"ADT^{event} {control} accepted by {host}:{port} ({ack.code})")
            return OK
        return OK

    return run(action)

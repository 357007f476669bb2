"""``xds certs DIR``: a demo CA and node certificates for a test domain (xds.certs), and the settings
that use them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xds.certs import DEFAULT_HOSTS, make_demo_domain
from xds.config import Settings

DEFAULT_NODES = ("node",)


def add_parser(sub: argparse._SubParsersAction) -> None:
    certs = sub.add_parser("certs", help="create a demo CA and node certificates (ATNA, mutual TLS)")
    certs.add_argument("folder", type=Path, help="where to write ca.pem, NODE.pem and NODE-key.pem")
    certs.add_argument("--node", action="append", dest="nodes", help="node name (repeatable; default: node)")
    certs.add_argument(
        "--host", action="append", dest="hosts",
        help=f"host name or IP address the certificates are valid for (repeatable; default: {DEFAULT_HOSTS})",
    )
    certs.add_argument("--config", type=Path)


def run_certs(args: argparse.Namespace, _settings: Settings) -> int:
    folder: Path = args.folder
    if (folder / "ca.pem").exists():
        print(f"xds: {folder / 'ca.pem'} exists; not overwriting a CA", file=sys.stderr)
        return 2
    nodes = tuple(args.nodes or DEFAULT_NODES)
    for path in make_demo_domain(folder, nodes, tuple(args.hosts or DEFAULT_HOSTS)):
        print(f"  {path}")
    node, ca = folder.resolve() / nodes[0], folder.resolve() / "ca.pem"
    print("settings for the first node (TOML; or XDS_TLS_CERT, XDS_TLS_KEY, XDS_TLS_CA):")
    print(f'  tls_cert = "{node}.pem"\n  tls_key = "{node}-key.pem"\n  tls_ca = "{ca}"')
    return 0

"""What ATNA's mutual TLS (ITI-19) costs: ITI-18 queries/s and ITI-43 MB/s against two real ``xds serve``
processes in the same run, one with TLS settings (certificates from xds.certs) and one without.

Run: ``.venv/bin/python bench/tls.py [--queries 300] [--size-mib 64] [--retrieves 5]``

Both processes run registry and repository (``XDS_ACTORS=registry,repository``) on the same data folder
(SQLite in WAL mode, one blob store), so they answer from identical data: the patient is fed over MLLP and one
document of SIZE and one small one are submitted (ITI-41) through the plain process -- a repository with TLS
cannot reach its registry yet (the repository's ITI-42 client speaks plain HTTP without a certificate).
Then, with our SoapClient (httpx), against each process in turn:
- ITI-18 FindDocuments for the patient, QUERIES times on one kept-alive connection, and QUERIES/10 times on
  a new connection each (so every query pays the TCP and, with TLS, the full mutual handshake);
- ITI-43 of the large document RETRIEVES times (the MTOM part is spooled to disk by the client).
Printed: the figures of both processes side by side and the TLS/plain ratio. No assertions: a figure.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cli_helpers import start_xds, stop_xds, xds_env  # noqa: E402
from registry_helpers import adt, free_port  # noqa: E402
from repository_helpers import pnr  # noqa: E402
from sample_data import PATIENT_ID, find_documents_query  # noqa: E402

from xds.certs import make_demo_domain  # noqa: E402
from xds.ebrim import (  # noqa: E402
    adhoc_query_request_to_ebrim,
    adhoc_query_response_from_ebrim,
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
    retrieve_request_to_ebrim,
)
from xds.mllp import MllpClient  # noqa: E402
from xds.model import DocumentRequest, RetrieveDocumentSetRequest  # noqa: E402
from xds.soap import SoapClient  # noqa: E402
from xds.tls import TlsConfig  # noqa: E402
from xds.transactions import Transaction  # noqa: E402
from xds.vocabulary import ResponseStatus  # noqa: E402

REPOSITORY_UID = "1.3.6.1.4.1.21367.2011.2.5.1"  # the default repositoryUniqueId of `xds up`


class Node:
    """One ``xds serve``-like process (registry + repository) and a client for it."""

    def __init__(self, name: str, folder: Path, tls: TlsConfig | None, client_tls: TlsConfig | None) -> None:
        self.name = name
        self.mllp_port = free_port()
        env = {**xds_env(folder), "XDS_ACTORS": "registry,repository",
               "XDS_REGISTRY_MLLP_PORT": str(self.mllp_port),
               "XDS_DATA_DIR": str(folder / "data")}
        if tls is not None:
            env |= {"XDS_TLS_CERT": str(tls.cert), "XDS_TLS_KEY": str(tls.key), "XDS_TLS_CA": str(tls.ca)}
        self.client_context: ssl.SSLContext | None = client_tls.client_context() if client_tls else None
        self.proc, self.url = start_xds(["up"], env, tls=self.client_context)
        self.spool = folder / f"client-spool-{name}"
        self.spool.mkdir()

    def client(self, *, keep_alive: bool = True) -> SoapClient:
        # without keep-alive every request opens a new connection (and, with TLS, does the full handshake)
        limits = httpx.Limits(max_keepalive_connections=None if keep_alive else 0)
        http = httpx.Client(timeout=300, verify=self.client_context or True, limits=limits)
        return SoapClient(spool_dir=self.spool, http=http)

    def load(self, large: bytes) -> str:
        with MllpClient("localhost", self.mllp_port, ssl=self.client_context, timeout=30) as mllp:
            assert b"MSA|AA" in mllp.send(adt("A01", PATIENT_ID))
        request = pnr("91", large, b"small report")
        with self.client() as client:
            body, parts = pnr_to_ebrim_with_parts(request, xop=True)
            reply = client.call(self.url + "/xds/repository", Transaction.ITI_41, body, parts)
            answer = registry_response_from_ebrim(reply.body)
            assert answer.status == ResponseStatus.SUCCESS, answer
        return request.submission.document_entries[0].unique_id

    def stop(self) -> None:
        stop_xds(self.proc)


def handshake(node: Node) -> str:
    """Protocol and cipher suite the TLS node negotiates with our client context."""
    address = urlsplit(node.url)
    assert node.client_context is not None and address.hostname and address.port
    raw = socket.create_connection((address.hostname, address.port))
    with node.client_context.wrap_socket(raw, server_hostname=address.hostname) as tls:
        return f"{tls.version()} {tls.cipher()[0]}"


def rate(n: int, run: Callable[[], None]) -> float:
    start = time.perf_counter()
    for _ in range(n):
        run()
    return n / (time.perf_counter() - start)


def queries_per_second(node: Node, n: int, *, keep_alive: bool) -> float:
    query = adhoc_query_request_to_ebrim(find_documents_query())
    url = node.url + "/xds/registry"

    def one(client: SoapClient) -> None:
        reply = client.call(url, Transaction.ITI_18, query)
        assert len(adhoc_query_response_from_ebrim(reply.body).document_entries) == 2

    with node.client(keep_alive=keep_alive) as client:
        one(client)  # warm-up (and, kept alive, the connection) before the clock starts
        return rate(n, lambda: one(client))


def retrieve_mb_per_second(node: Node, unique_id: str, size: int, n: int) -> float:
    wanted = RetrieveDocumentSetRequest((DocumentRequest(REPOSITORY_UID, unique_id),))
    request = retrieve_request_to_ebrim(wanted)
    seconds = []
    with node.client() as client:
        client.call(node.url + "/xds/repository", Transaction.ITI_43, request).discard()  # warm-up
        for _ in range(n):
            start = time.perf_counter()
            reply = client.call(node.url + "/xds/repository", Transaction.ITI_43, request)
            seconds.append(time.perf_counter() - start)
            assert sum(a.size for a in reply.attachments.values()) == size
            reply.discard()
    return size / statistics.median(seconds) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--retrieves", type=int, default=5)
    args = parser.parse_args()
    size = args.size_mib << 20
    large = os.urandom(1 << 20) * args.size_mib
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        folder = Path(tmp)
        make_demo_domain(folder / "pki", ("node", "client"))

        def config(name: str) -> TlsConfig:
            pki = folder / "pki"
            return TlsConfig(pki / f"{name}.pem", pki / f"{name}-key.pem", pki / "ca.pem")

        nodes = [Node("plain", folder, None, None)]
        try:
            unique_id = nodes[0].load(large)
            nodes.append(Node("tls", folder, config("node"), config("client")))
            negotiated = handshake(nodes[1])
            figures: dict[str, dict[str, float]] = {}
            for node in nodes:
                fresh = max(1, args.queries // 10)
                figures[node.name] = {
                    "ITI-18 queries/s (kept-alive connection)":
                        queries_per_second(node, args.queries, keep_alive=True),
                    "ITI-18 queries/s (new connection each)":
                        queries_per_second(node, fresh, keep_alive=False),
                    f"ITI-43 MB/s ({args.size_mib} MiB document)":
                        retrieve_mb_per_second(node, unique_id, size, args.retrieves),
                }
        finally:
            for node in nodes:
                node.stop()
    print(f"bench/tls.py: {args.queries} queries, {args.retrieves} retrieves of {args.size_mib} MiB, "
          f"registry+repository per process; TLS: {negotiated}, mutual (xds.tls)")
    print(f"{'':48s} {'plain':>10s} {'TLS':>10s} {'TLS/plain':>10s}")
    for figure in figures["plain"]:
        plain, tls = figures["plain"][figure], figures["tls"][figure]
        print(f"{figure:48s} {plain:10.1f} {tls:10.1f} {tls / plain:10.2f}")


if __name__ == "__main__":
    main()

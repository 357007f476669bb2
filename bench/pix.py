"""PIX Manager benchmark: ITI-8 feeds/s and ITI-9 PIX queries/s over MLLP, against an MLLP echo baseline.

Run: ``.venv/bin/python bench/pix.py [--feeds 3000] [--queries 3000] [--connections 8]
[--database-url URL | --postgres] [--data-dir DIR] [--with-registry [--separate-databases]]``

The PIX Manager runs as in production, a separate ``xds serve pix`` process (SQLite in a temporary data
directory unless ``--database-url``); this process sends with blocking ``MllpClient``s, one thread per
connection. Every feed is an ADT^A01 for a new patient (a new master patient, its XAD-PID, the links and,
with ``--with-registry``, an outbox row for the registry, which then runs as ``xds serve registry`` and
receives the feed while we measure; the time until the outbox is drained is reported too). Queries ask
for the identifiers of patients fed before. The baseline is an MLLP echo server (``xds.mllp.MllpServer``
whose handler returns the message) in its own process, the same messages, the same run: what framing,
sockets and the asyncio loop cost on this machine without any PIX work.

Target (2-core machine): >= 500 feeds/s. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xds.mllp import MllpClient, MllpServer  # noqa: E402

DOMAIN = "1.3.6.1.4.1.21367.2005.13.20.1000"
LOCAL = "1.2.276.0.76.3.1.99.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def feed(n: int) -> bytes:
    return (
        f"MSH|^~\\&|KIS|HOSPITAL|PIX|DOMAIN|20240115120000||ADT^A01^ADT_A01|F{n}|P|2.5||||||UNICODE UTF-8\r"
        f"EVN|A01|20240115120000\r"
        f"PID|||B{n}^^^&{LOCAL}&ISO||MÜLLER^HANS{n}||19700101|M|||Hauptstraße {n}^^Köln^^50667^DE\r"
        f"PV1||I\r"
    ).encode()


def query(n: int) -> bytes:
    return (
        f"MSH|^~\\&|CONSUMER|CLINIC|PIX|DOMAIN|20240115120000||QBP^Q23^QBP_Q21|Q{n}|P|2.5\r"
        f"QPD|IHE PIX Query|T{n}|B{n}^^^&{LOCAL}&ISO|^^^&{DOMAIN}&ISO\r"
        f"RCP|I\r"
    ).encode()


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read().decode() if process.stdout else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def run(
    port: int, messages: list[bytes], connections: int, check: Callable[[bytes], bool]
) -> dict[str, float]:
    """Send ``messages`` over ``connections`` persistent connections; rate and latency percentiles."""
    chunks = [messages[i::connections] for i in range(connections)]
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(connections + 1)

    def worker(chunk: list[bytes]) -> None:
        mine: list[float] = []
        bad = 0
        with MllpClient("127.0.0.1", port, timeout=60) as client:
            barrier.wait()
            for message in chunk:
                start = time.perf_counter()
                reply = client.send(message)
                mine.append(time.perf_counter() - start)
                bad += not check(reply)
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rate": len(messages) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "failures": failures[0],
    }


def accepted(reply: bytes) -> bool:
    return b"\rMSA|AA|" in reply


def echo_server(port: int) -> None:
    async def echo(message: bytes, _peer: str | None) -> bytes:
        return message

    async def main() -> None:
        server = MllpServer(echo, "127.0.0.1", port)
        await server.start()
        await asyncio.Event().wait()

    asyncio.run(main())


def xds_serve(actor: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "xds"), "serve", actor],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def outbox_pending(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM pix_outbox WHERE state = 'pending'")).scalar_one()
    engine.dispose()
    return int(count)


def line(name: str, figures: dict[str, float], baseline: dict[str, float] | None = None) -> str:
    ratio = f"  ({figures['rate'] / baseline['rate'] * 100:5.1f} % of echo)" if baseline else ""
    return (
        f"  {name:<34} {figures['rate']:8.0f} msg/s   p50 {figures['p50']:6.2f} ms"
        f"   p99 {figures['p99']:6.2f} ms   failures {int(figures['failures'])}{ratio}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL cluster (tests/pg_cluster)"
    )
    parser.add_argument(
        "--data-dir", default=None, help="where the temporary SQLite database goes (default: TMPDIR)"
    )
    parser.add_argument("--with-registry", action="store_true")
    parser.add_argument(
        "--separate-databases", action="store_true", help="the registry on its own SQLite file"
    )
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        echo_server(args.echo_server)
        return 0

    if args.postgres and not args.database_url:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_cluster import PostgresCluster

        with PostgresCluster() as cluster:
            args.database_url = cluster.create_database("bench_pix")
            return bench(args)
    return bench(args)


def bench(args: argparse.Namespace) -> int:
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-pix-", dir=args.data_dir) as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/xds.sqlite"
        echo_port, pix_port, registry_port = free_port(), free_port(), free_port()
        env = {
            "XDS_DATA_DIR": tmp,
            "XDS_DATABASE_URL": database_url,
            "XDS_HTTP_PORT": str(free_port()),
            "XDS_PIX_MLLP_PORT": str(pix_port),
            "XDS_REGISTRY_MLLP_PORT": str(registry_port),
            # a venv installed before pix/ existed does not know the package yet (make install fixes that)
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        }
        config = Path(tmp) / "xds.toml"
        config.write_text("" if args.with_registry else '[pix]\nregistry = ""\n')
        try:
            echo = subprocess.Popen([sys.executable, __file__, "--echo-server", str(echo_port)])
            processes.append(echo)
            if args.with_registry:
                registry_env = {**env, "XDS_HTTP_PORT": str(free_port())}
                if args.separate_databases:
                    registry_env["XDS_DATABASE_URL"] = f"sqlite:///{tmp}/registry.sqlite"
                registry = xds_serve("registry", registry_env)
                processes.append(registry)
                wait_for_port(registry_port, registry)
            pix = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "xds"), "serve", "pix", "--config", str(config)],
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            processes.append(pix)
            wait_for_port(echo_port, echo)  # type: ignore[arg-type]
            wait_for_port(pix_port, pix)

            n, c = args.feeds, args.connections
            half = n // 2
            feeds_one = [feed(i) for i in range(half)]
            feeds_many = [feed(i) for i in range(half, n)]
            queries = [query(i % n) for i in range(args.queries)]
            where = database_url.split(":")[0] if args.database_url else f"sqlite in {tmp}"
            print(
                f"PIX Manager benchmark: {n} ITI-8 feeds, {args.queries} ITI-9 queries, database {where}, "
                f"registry feed {'on' if args.with_registry else 'off'}, load {os.getloadavg()[0]:.1f}"
            )
            echo_one = run(echo_port, feeds_one, 1, lambda r: r.startswith(b"MSH"))
            echo_many = run(echo_port, feeds_many, c, lambda r: r.startswith(b"MSH"))
            print(line("MLLP echo, 1 connection", echo_one))
            print(line(f"MLLP echo, {c} connections", echo_many))
            started = time.perf_counter()
            one = run(pix_port, feeds_one, 1, accepted)
            print(line("ITI-8 feed, 1 connection", one, echo_one))
            many = run(pix_port, feeds_many, c, accepted)
            print(line(f"ITI-8 feed, {c} connections", many, echo_many))
            q_one = run(pix_port, queries, 1, accepted)
            print(line("ITI-9 PIX query, 1 connection", q_one, echo_one))
            q_many = run(pix_port, queries, c, accepted)
            print(line(f"ITI-9 PIX query, {c} connections", q_many, echo_many))
            if args.with_registry:
                while outbox_pending(database_url):
                    time.sleep(0.2)
                drained = time.perf_counter() - started
                print(
                    f"  registry feed: {n} A01 delivered from the outbox {drained:.1f} s after the first "
                    f"feed ({n / drained:.0f}/s end to end, while the queries ran too)"
                )
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Document Registry benchmark: ITI-42 registrations/s and ITI-18 FindDocuments latency at scale, PostgreSQL.

Run: ``.venv/bin/python bench/registry.py [--n 100000] [--register 2000] [--queries 500] [--clients 8]
[--per-patient 10] [--database-url postgresql+psycopg://...] [--keep] [--workers 2] [--server xds|uvicorn]``

N synthetic submissions (SubmissionSet + 1 DocumentEntry + HasMember, the registry's own ebRIM bytes and
attribute rows, and their patients) are COPYed into PostgreSQL (bench/registry_load.py; a throwaway
cluster from tests/pg_cluster.py unless ``--database-url``). Then the registry runs as in production, a
separate ``xds serve registry`` process, and this process measures over HTTP. The load generator shares
the machine's cores with the registry and PostgreSQL, so it spends little: its requests are built before
a run and sent on kept-alive http.client connections (LeanHttp); only the parsed FindDocuments rows use
our SOAP client, which parses each answer.

- ITI-42 Register Document Set-b, one document per submission for known patients, CLIENTS concurrent
  clients: registrations/s, p50/p99 latency, failures (any answer but Success);
- ITI-18 FindDocuments (LeafClass, Approved) of patients holding 50 documents: sequential p50/p99 and
  queries/s, and queries/s with CLIENTS concurrent clients (every answer must hold the 50 entries); and the
  same query timed to the answer's last byte with the entries counted in the bytes, the registry's share
  without our client's XML parsing (the target is judged on this one: an answer is delivered when its last
  byte arrived; what a client then spends parsing it is the client's);
- the baseline: GET /health round trips to the same server in the same run (sequential p50/p99 and
  req/s, and CLIENTS concurrent), i.e. what HTTP + the server loop cost on this machine without the
  registry's work, so the figures can be compared across machines.

Each row also shows the CPU milliseconds per call spent by the registry process, PostgreSQL (when it runs
on this machine) and this client, read from /proc, and the summary line how much CPU went elsewhere
(other processes, kernel): a busy machine shows there. ``--server uvicorn`` runs the registry service on
``uvicorn.run`` (binding its own port) instead of ``xds serve registry``, to compare the two.

Targets (2-core machine): >= 200 registrations/s, FindDocuments p50 <= 15 ms at 1 000 000 documents.
Figures only, no assertions. With ``--keep`` the database (and a throwaway cluster) stay; pass its URL
as ``--database-url`` to measure again without loading (the loaded N is then reused).
"""

from __future__ import annotations

import argparse
import copy
import http.client
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

# the project root before bench/: this file's name would otherwise shadow the registry package
BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR.parent / "tests"), str(BENCH_DIR)]

import httpx  # noqa: E402
import psycopg  # noqa: E402
from lxml import etree  # noqa: E402
from registry_load import (  # noqa: E402
    QUERY_DOCUMENTS,
    ROOT_DIR,
    Layout,
    LoadResult,
    drop_loaded,
    load_submissions,
    loaded_layout,
    pid,
    raw_url,
    server_version,
)

from xds.ebrim import (  # noqa: E402
    adhoc_query_request_to_ebrim,
    registry_response_from_ebrim,
    submit_objects_to_ebrim,
)
from xds.ebrim.xml import rim  # noqa: E402
from xds.model import AdhocQueryRequest, QueryParameter  # noqa: E402
from xds.soap import SoapClient, build_envelope  # noqa: E402
from xds.soap.addressing import UNDERSTOOD_HEADERS, new_message_id, request_headers  # noqa: E402
from xds.soap.envelope import parse_envelope  # noqa: E402
from xds.soap.xmlparser import parse_xml  # noqa: E402
from xds.transactions import Transaction  # noqa: E402
from xds.vocabulary import ResponseStatus, Status, StoredQuery  # noqa: E402

REGISTRY_PATH = "/xds/registry"
EXTRINSIC_OBJECT = rim("ExtrinsicObject")
REGISTRY_OBJECT_LIST = rim("RegistryObjectList")
TARGET_REGISTRATIONS = 200.0
TARGET_FIND_P50_MS = 15.0
TARGET_N = 1_000_000
WARMUP = 30


# --- measuring --------------------------------------------------------------------------------------------


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process from /proc, None when it is gone or there is no /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat; 0 without /proc."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


@dataclass
class CpuMeter:
    """CPU seconds used by this process, the registry process, the PostgreSQL server (postmaster and its
    children, when it runs on this machine) and the whole machine, to tell where the time went and
    whether other processes disturbed the figures."""

    registry_pid: int
    postmaster_pid: int | None

    def sample(self) -> dict[str, float]:
        times = os.times()
        registry = postgres = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            stat = _proc_stat(int(entry.name))
            if stat is None:
                continue
            # the registry process and its HTTP workers; the postmaster and its backends
            if self.registry_pid in (stat[0], int(entry.name)):
                registry += stat[1]
            elif self.postmaster_pid is not None and self.postmaster_pid in (stat[0], int(entry.name)):
                postgres += stat[1]
        return {
            "client": times.user + times.system,
            "registry": registry,
            "postgres": postgres,
            "machine": _busy_seconds(),
        }


def postmaster_pid(url: str) -> int | None:
    """The postmaster of the server at ``url`` (our backend's parent), if it runs on this machine."""
    with psycopg.connect(raw_url(url)) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    backend = _proc_stat(int(row[0])) if row else None
    if backend is None:
        return None
    try:
        comm = Path(f"/proc/{backend[0]}/comm").read_text().strip()
    except OSError:
        return None
    return backend[0] if comm.startswith("postgres") else None


@dataclass
class Run:
    """Latencies (ms), outcome and CPU use of ``total`` calls made by ``clients`` clients."""

    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    first_failure: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # seconds, CpuMeter's keys

    def cpu_ms_per_call(self, key: str) -> float:
        return self.cpu.get(key, math.nan) * 1000 / self.calls if self.calls else math.nan

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        if p == 50:
            return statistics.median(ordered)
        return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * p / 100) - 1)]


Call = Callable[[Any, int], str | None]  # (client, call number) -> None, or why the call failed


@dataclass
class Bench:
    """What every measurement needs: the stop flag (Ctrl-C) and the CPU meter."""

    stop: threading.Event
    meter: CpuMeter


def run_clients(
    name: str, clients: int, total: int, make: Callable[[], Any], call: Call, bench: Bench
) -> Run:
    """``total`` calls spread over ``clients`` threads, each with its own client (kept-alive connection)."""
    run = Run(name, clients)
    counter = iter(range(total))
    lock = threading.Lock()
    own = [make() for _ in range(clients)]

    def work(client: Any) -> None:
        try:
            while not bench.stop.is_set():
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                t0 = time.perf_counter()
                try:
                    problem = call(client, n)
                except Exception as exc:  # noqa: BLE001 - a failed call is a figure, not a crash
                    problem = f"{exc.__class__.__name__}: {exc}"
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    run.latencies.append(elapsed)
                    if problem is not None:
                        run.failures += 1
                        run.first_failure = run.first_failure or problem
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(client,), daemon=True) for client in own]
    before = bench.meter.sample()
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # a timeout keeps Ctrl-C deliverable
    run.seconds = time.perf_counter() - t0
    after = bench.meter.sample()
    run.cpu = {key: after[key] - before[key] for key in before}
    return run


# --- the registry process ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --server uvicorn: the registry service on uvicorn, which binds the port itself
UVICORN_SERVER = """
import uvicorn
from xds.config import load_settings
from xds.runtime import load_actor, services_app
settings = load_settings()
settings.spool_dir.mkdir(parents=True, exist_ok=True)
app = services_app([load_actor("registry", settings)])
uvicorn.run(app, host="127.0.0.1", port=settings.http_port, log_level="warning", lifespan="on")
"""


@contextmanager
def registry_process(database_url: str, server: str, workers: int) -> Iterator[tuple[str, int]]:
    """The registry in a process of its own on free ports: ``xds serve registry`` (server "xds", with
    ``workers`` HTTP processes) or the registry service on ``uvicorn.run`` (server "uvicorn"); yields its
    base URL and process id."""
    data_dir = Path(tempfile.mkdtemp(prefix="xds-bench-registry-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDS_")}
    env |= {
        "XDS_DATABASE_URL": database_url,
        "XDS_HTTP_PORT": str(port),
        "XDS_REGISTRY_MLLP_PORT": str(free_port()),
        "XDS_DATA_DIR": str(data_dir),
        "XDS_HTTP_WORKERS": str(workers),
    }
    script = Path(sys.executable).with_name("xds")
    if server == "uvicorn":
        command = [sys.executable, "-c", UVICORN_SERVER]
    elif script.exists():
        command = [str(script), "serve", "registry"]
    else:
        command = [sys.executable, "-m", "xds.cli", "serve", "registry"]
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log:
        # its own session: a Ctrl-C in the terminal reaches only us, and we stop it below
        process = subprocess.Popen(
            command, env=env, cwd=ROOT_DIR, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # the first start on an older load migrates its schema
        while True:
            if process.poll() is not None:
                log = log_path.read_text(errors="replace")
                raise RuntimeError(f"the registry process exited ({process.returncode}):\n{log}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the registry process did not answer /health:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            print(f"the registry process ended by itself (exit {process.returncode}); its log:\n{tail}")
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the transactions -------------------------------------------------------------------------------------


class LeanHttp:
    """One kept-alive HTTP/1.1 connection on the standard library's http.client (TCP_NODELAY set), which
    costs the client a tenth of httpx's CPU per call: the load generator shares the machine's cores with
    the registry and PostgreSQL, so what it spends is taken from them."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        self.connection.request(method, path, body, headers or {})
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def soap_request(url: str, transaction: Transaction, body: etree._Element) -> tuple[bytes, dict[str, str]]:
    """A whole SOAP 1.2 request of ``transaction`` as bytes, with its HTTP headers (built before a run)."""
    action = transaction.info.action
    envelope = build_envelope(copy.deepcopy(body), request_headers(action, url, new_message_id()))
    return envelope, {"content-type": f'application/soap+xml; action="{action}"'}


def find_documents_body(patient: str) -> etree._Element:
    request = AdhocQueryRequest(
        query_id=StoredQuery.FIND_DOCUMENTS,
        parameters=(
            QueryParameter("$XDSDocumentEntryPatientId", (f"'{patient}'",)),
            QueryParameter("$XDSDocumentEntryStatus", (f"('{Status.APPROVED}')",)),
        ),
    )
    return adhoc_query_request_to_ebrim(request)


def registration_bodies(layout: Layout, count: int) -> list[etree._Element]:
    """``count`` ITI-42 requests (tests/registry_helpers.single_document) for loaded patients that are not
    among the 50-document query patients; uniqueIds are new in every run."""
    from registry_helpers import single_document

    rnd = random.Random(3)
    run = int(time.time())
    patients = range(layout.query_patients, layout.patients)
    return [
        submit_objects_to_ebrim(single_document(f"{run}.{n + 1}", pid(rnd.choice(patients))))
        for n in range(count)
    ]


def register_call(url: str, bodies: list[etree._Element]) -> Call:
    """ITI-42 with the requests built beforehand and sent on LeanHttp; the RegistryResponse is decoded."""
    path = urlsplit(url).path
    requests = [soap_request(url, Transaction.ITI_42, body) for body in bodies]

    def call(client: LeanHttp, n: int) -> str | None:
        status, answer = client.request("POST", path, *requests[n])
        if status != 200:
            return f"HTTP {status}"
        envelope = parse_envelope(parse_xml(answer, max_bytes=len(answer)), UNDERSTOOD_HEADERS)
        response = registry_response_from_ebrim(envelope.body)
        if response.status != ResponseStatus.SUCCESS:
            errors = "; ".join(f"{e.code}: {e.context}" for e in response.errors)
            return f"{response.status}: {errors}"
        return None

    return call


def find_call(url: str, bodies: list[etree._Element]) -> Call:
    def call(client: SoapClient, n: int) -> str | None:
        body = client.call(url, Transaction.ITI_18, bodies[n]).body
        objects = body.find(REGISTRY_OBJECT_LIST)
        found = 0 if objects is None else sum(1 for el in objects if el.tag == EXTRINSIC_OBJECT)
        if body.get("status") != ResponseStatus.SUCCESS or found != QUERY_DOCUMENTS:
            return f"{body.get('status')} with {found} DocumentEntries"
        return None

    return call


def find_bytes_call(url: str, bodies: list[etree._Element]) -> Call:
    """FindDocuments with the answer read to its last byte and only counted in the bytes, not parsed: the
    registry's share of the latency, without what our client's XML parsing adds."""
    path = urlsplit(url).path
    requests = [soap_request(url, Transaction.ITI_18, body) for body in bodies]

    def call(client: LeanHttp, n: int) -> str | None:
        status, answer = client.request("POST", path, *requests[n])
        found = answer.count(b"<rim:ExtrinsicObject ")
        if status != 200 or found != QUERY_DOCUMENTS:
            return f"HTTP {status} with {found} DocumentEntries"
        return None

    return call


def health_call() -> Call:
    def call(client: LeanHttp, _n: int) -> str | None:
        status, _ = client.request("GET", "/health")
        return None if status == 200 else f"HTTP {status}"

    return call


def query_bodies(layout: Layout, count: int, seed: int) -> list[etree._Element]:
    rnd = random.Random(seed)
    return [find_documents_body(pid(rnd.randrange(layout.query_patients))) for _ in range(count)]


def measure(base: str, layout: Layout, args: argparse.Namespace, bench: Bench) -> list[Run]:
    """Warm up, then the baseline, FindDocuments and ITI-42 runs, in this order."""
    url = base + REGISTRY_PATH
    clients = args.clients

    def soap() -> SoapClient:
        return SoapClient(timeout=60)

    def http() -> LeanHttp:
        return LeanHttp(base)

    # warm-up: connections, the server's first imports and statement caches, PostgreSQL's buffers
    run_clients("warm-up", clients, WARMUP * clients, http, health_call(), bench)
    warm_queries = query_bodies(layout, WARMUP * clients, 1)
    run_clients("warm-up", clients, WARMUP * clients, soap, find_call(url, warm_queries), bench)
    sequential, concurrent = args.queries, args.queries * 2
    runs = [
        run_clients("baseline GET /health", 1, sequential, http, health_call(), bench),
        run_clients(f"baseline GET /health, {clients} clients", clients, concurrent, http,
                    health_call(), bench),
        run_clients("ITI-18 FindDocuments (50 entries)", 1, sequential, soap,
                    find_call(url, query_bodies(layout, sequential, 2)), bench),
        run_clients("  the same, to the last byte, not parsed", 1, sequential, http,
                    find_bytes_call(url, query_bodies(layout, sequential, 4)), bench),
        run_clients(f"ITI-18 FindDocuments, {clients} clients", clients, concurrent, soap,
                    find_call(url, query_bodies(layout, concurrent, 3)), bench),
    ]
    bodies = registration_bodies(layout, args.register)
    runs.append(
        run_clients(f"ITI-42 register 1 document, {clients} clients", clients, args.register, http,
                    register_call(url, bodies), bench)
    )
    return runs


# --- output -----------------------------------------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def cpu_check() -> float:
    """Milliseconds a fixed pure-Python loop takes on this process's core, the machine's speed at the
    time (a shared virtual machine's can change by half from one minute to the next): printed before and
    after the measurements, to compare runs."""
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return (time.perf_counter() - t0) * 1000


def report(runs: list[Run], load: LoadResult, version: str, args: argparse.Namespace,
           speed: tuple[float, float]) -> None:
    layout = load.layout
    how = "reused from an earlier --keep run" if load.reused else f"COPY-loaded in {load.seconds:.0f} s"
    if args.server == "xds":
        process = f"xds serve registry, {args.workers} HTTP process{'es' if args.workers > 1 else ''}"
    else:
        process = "the registry service on uvicorn.run, one process"
    print()
    print(
        f"Document Registry: N = {_count(layout.documents)} submissions (1 DocumentEntry each), "
        f"{_count(layout.patients)} patients; {how}"
    )
    print(f"PostgreSQL {version}; {os.cpu_count()} CPUs; registry: {process}")
    print(
        f"CPU check (a fixed Python loop, lower is faster): {speed[0]:.0f} ms before, {speed[1]:.0f} ms"
        " after the measurements"
    )
    print(
        f"{'':42s} {'calls':>6s} {'p50 ms':>7s} {'p99 ms':>7s} {'per s':>7s} {'failed':>6s}"
        f"   CPU ms/call: {'registry':>8s} {'pg':>5s} {'client':>6s}"
    )
    for run in runs:
        print(
            f"{run.name:42s} {run.calls:6d} {run.percentile(50):7.2f} {run.percentile(99):7.2f} "
            f"{run.per_second:7.1f} {run.failures:6d}   {'':13s}{run.cpu_ms_per_call('registry'):8.2f} "
            f"{run.cpu_ms_per_call('postgres'):5.2f} {run.cpu_ms_per_call('client'):6.2f}"
        )
    for run in runs:
        if run.failures:
            print(f"  {run.name}: first failure: {run.first_failure[:300]}")
    health, _, find, find_bytes, _, register = runs
    wall = sum(r.seconds for r in runs)
    other = sum(r.cpu["machine"] - r.cpu["client"] - r.cpu["registry"] - r.cpu["postgres"] for r in runs)
    print(
        f"FindDocuments p50 = {find.percentile(50) / health.percentile(50):.1f} x the /health round trip, "
        f"ITI-42 p50 = {register.percentile(50) / health.percentile(50):.1f} x. CPU outside client, registry "
        f"and PostgreSQL (other processes, kernel): {max(0.0, 100 * other / wall):.0f}% of one CPU"
    )

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(
        f"target ITI-42 >= {TARGET_REGISTRATIONS:.0f} registrations/s: "
        f"{verdict(register.per_second >= TARGET_REGISTRATIONS and not register.failures)} "
        f"({register.per_second:.1f}/s, {register.failures} failed)"
    )
    n = layout.documents
    at = "" if n >= TARGET_N else f"; the target is for N = 1 000 000, not {_count(n)}"
    print(
        f"target FindDocuments p50 <= {TARGET_FIND_P50_MS:.0f} ms, answer complete at the client: "
        f"{verdict(find_bytes.percentile(50) <= TARGET_FIND_P50_MS and not find_bytes.failures)} "
        f"({find_bytes.percentile(50):.2f} ms; {find.percentile(50):.2f} ms once our client parsed it{at})"
    )


# --- main -------------------------------------------------------------------------------------------------


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def prepare(url: str, args: argparse.Namespace) -> tuple[LoadResult, bool]:
    """Load N submissions, or reuse an earlier load; also whether this run loaded (and may drop) them."""
    earlier = loaded_layout(url)
    if earlier is not None:
        print(f"the database holds an earlier load of N = {earlier.documents}: reusing it (--n ignored)")
        return LoadResult(earlier, 0.0, reused=True), False
    layout = Layout.for_documents(args.n, args.per_patient)
    print(f"loading N = {layout.documents} submissions for {layout.patients} patients ...", flush=True)
    return load_submissions(url, layout), True


def bench(url: str, args: argparse.Namespace, stack: ExitStack) -> None:
    load, loaded = prepare(url, args)
    if loaded and args.database_url and not args.keep:
        stack.callback(drop_loaded, url)
    print(f"loaded in {load.seconds:.1f} s; starting the registry process", flush=True)
    base, pid_ = stack.enter_context(registry_process(url, args.server, args.workers))
    stop = threading.Event()
    stack.callback(stop.set)  # first thing on the way out: the client threads end
    before = cpu_check()
    runs = measure(base, load.layout, args, Bench(stop, CpuMeter(pid_, postmaster_pid(url))))
    report(runs, load, server_version(url), args, (before, cpu_check()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="submissions to load (default 100000)")
    parser.add_argument("--register", type=int, default=2000, help="ITI-42 registrations (default 2000)")
    parser.add_argument("--queries", type=int, default=500, help="sequential FindDocuments (default 500)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--per-patient", type=int, default=10, help="documents of the other patients")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument(
        "--server", choices=("xds", "uvicorn"), default="xds",
        help="xds: `xds serve registry` as in production (default); uvicorn: the registry service on "
        "uvicorn.run binding its own port",
    )
    parser.add_argument(
        "--workers", type=int, default=2,
        help="HTTP processes of `xds serve registry` (XDS_HTTP_WORKERS; default 2, one per core)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the loaded data (and the cluster)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    t0 = time.perf_counter()
    with ExitStack() as stack:
        try:
            if args.database_url:
                bench(args.database_url, args, stack)
            else:
                from pg_cluster import PostgresCluster

                cluster = PostgresCluster()
                cluster.start()
                if args.keep:
                    print(f"keeping the cluster: {cluster.url}; to end it: {cluster.pg_ctl} -D "
                          f"{cluster.data_dir} stop (as postgres when run as root), rm -r {cluster.root}")
                else:
                    stack.callback(cluster.stop)
                bench(cluster.url, args, stack)
        except KeyboardInterrupt:
            print("interrupted: stopping the registry and the database", file=sys.stderr)
            raise SystemExit(130) from None
    print(f"total run time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""ITI-41 then ITI-43 of one large document through a real ``xds up`` process (registry + repository), against
a same-run baseline of a raw streaming HTTP upload and download of the same file.

Run: ``.venv/bin/python bench/repository.py [--size-mib 1024] [--dir DIR]``

- The document is a file of SIZE (random 1 MiB block repeated), generated once in DIR.
- ITI-41: our SoapClient streams it as MTOM to ``POST /xds/repository``; the server spools it, hashes it,
  moves it into the blob store (fsync), forwards ITI-42 to its registry and answers.
- ITI-43: the same client retrieves it; the reply's MTOM part is spooled to disk (SHA-1 checked).
- Baseline: the same file PUT (streamed, written, fsynced) to and GET (streamed from the file) from a
  minimal Starlette app of the same stack (uvicorn, TCP_NODELAY, one process, files in the same folder),
  with an httpx client that streams from and to disk. Our shared HTTP app has no raw-upload route, so the
  baseline runs in its own server process of the same kind (bench/repository.py --baseline-server).

Printed: MB/s each way for both, and the peak RSS of server and client during each phase (psutil samples
every 20 ms). Targets (issue 4): peak RSS under 150 MB on both sides, at least 50% of baseline throughput.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))

from xds.ebrim import (  # noqa: E402
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
    retrieve_request_to_ebrim,
    retrieve_response_from_ebrim,
)
from xds.hl7v2 import CX, XCN  # noqa: E402
from xds.model import (  # noqa: E402
    Association,
    Attachment,
    Code,
    Document,
    DocumentEntry,
    DocumentRequest,
    ProvideAndRegisterRequest,
    RetrieveDocumentSetRequest,
    Submission,
    SubmissionSet,
)
from xds.soap import SoapClient  # noqa: E402
from xds.transactions import Transaction  # noqa: E402
from xds.vocabulary import AssociationType, ResponseStatus, SubmissionSetStatus  # noqa: E402

MIB = 1 << 20
CHUNK = 1 << 20
DOMAIN = "1.3.6.1.4.1.21367.2005.13.20.1000"
PATIENT = f"BENCH-1^^^&{DOMAIN}&ISO"
REPOSITORY_ID = "1.3.6.1.4.1.21367.2011.2.5.1"
ROOT = "1.2.276.0.7230010.3.1.88"


# --- the baseline server ----------------------------------------------------------------------------------


def baseline_server(port: int, folder: Path) -> None:
    """PUT /blob streams the body to a file (fsync); GET /blob streams the file back."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    target = folder / "baseline-upload.bin"

    async def blob(request: Request) -> Response:
        if request.method == "PUT":
            with target.open("wb") as fh:
                async for chunk in request.stream():
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            return Response(status_code=204)
        return FileResponse(target, media_type="application/octet-stream")

    async def health(_request: Request) -> Response:
        return Response("ok")

    app = Starlette(routes=[Route("/blob", blob, methods=["GET", "PUT"]), Route("/health", health)])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


# --- measuring ----------------------------------------------------------------------------------------------


class PeakRss:
    """Samples the RSS of processes every 20 ms while a phase runs."""

    def __init__(self, **processes: psutil.Process) -> None:
        self.processes = processes
        self.peak = dict.fromkeys(processes, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, process in self.processes.items():
                with suppress(psutil.Error):
                    self.peak[name] = max(self.peak[name], process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Result:
    name: str
    seconds: float
    size: int
    server_rss: int
    client_rss: int

    @property
    def mb_per_s(self) -> float:
        return self.size / 1e6 / self.seconds


def measure(name: str, size: int, server: psutil.Process, work: Callable[[], None]) -> Result:
    with PeakRss(server=server, client=psutil.Process()) as rss:
        started = time.perf_counter()
        work()
        seconds = time.perf_counter() - started
    return Result(name, seconds, size, rss.peak["server"], rss.peak["client"])


# --- set-up ------------------------------------------------------------------------------------------


def make_document(path: Path, size: int) -> str:
    block = os.urandom(CHUNK)
    digest = hashlib.sha1()
    with path.open("wb") as fh:
        left = size
        while left:
            piece = block[: min(left, CHUNK)]
            fh.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def server(command: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[psutil.Process]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT_DIR, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(health, process)
        yield psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def feed_patient(port: int) -> None:
    """ITI-8 ADT^A01 over MLLP to the registry's feed."""
    message = (
        f"MSH|^~\\&|BENCH|BENCH|XDS|REGISTRY|20240101000000||ADT^A01^ADT_A01|B1|P|2.5\r"
        f"EVN|A01|20240101000000\rPID|||{PATIENT}||BENCH^MARK||19700101|F\r"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"\x0b" + message + b"\x1c\r")
        answer = b""
        while b"\x1c\r" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    if b"MSA|AA" not in answer:
        raise SystemExit(f"patient feed refused: {answer!r}")


def pnr_request(document: Attachment) -> ProvideAndRegisterRequest:
    cx = CX.parse(PATIENT)
    author = XCN.parse("^Bench^Mark")
    entry = DocumentEntry(
        entry_uuid="Document01",
        unique_id=f"{ROOT}.4.{int(time.time())}",
        patient_id=cx,
        mime_type="application/octet-stream",
        class_code=Code("BEF", "1.3.6.1.4.1.19376.3.276.1.5.8", "Befundbericht"),
        type_code=Code("BILD", "1.3.6.1.4.1.19376.3.276.1.5.9", "Ergebnisse bildgebender Diagnostik"),
        format_code=Code("urn:ihe-d:mime", "1.3.6.1.4.1.19376.3.276.1.5.6", "durch MIME Type beschrieben"),
        healthcare_facility_type_code=Code("KHS", "1.3.6.1.4.1.19376.3.276.1.5.2", "Krankenhaus"),
        practice_setting_code=Code("RADI", "1.3.6.1.4.1.19376.3.276.1.5.4", "Radiologie"),
        confidentiality_codes=(Code("N", "2.16.840.1.113883.5.25", "normal"),),
        creation_time="20240115103000",
        language_code="de-DE",
        source_patient_id=CX.parse("4711^^^&1.2.276.0.76.4.17.9999.1&ISO"),
        title="Bench document",
        legal_authenticator=author,
    )
    ss = SubmissionSet(
        entry_uuid="SubmissionSet01",
        unique_id=f"{ROOT}.2.{int(time.time())}",
        source_id="1.2.276.0.7230010.3.1.1",
        patient_id=cx,
        submission_time="20240115110000",
        content_type_code=Code("1", "1.3.6.1.4.1.19376.3.276.1.5.12", "Patientenkontakt"),
    )
    member = Association(
        "Assoc01", AssociationType.HAS_MEMBER, "SubmissionSet01", "Document01",
        submission_set_status=SubmissionSetStatus.ORIGINAL,
    )  # fmt: skip
    submission = Submission(submission_sets=(ss,), document_entries=(entry,), associations=(member,))
    return ProvideAndRegisterRequest(submission, (Document("Document01", document),))


# --- phases ------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path) -> list[Result]:
    size = args.size_mib * MIB
    source = work / "document.bin"
    print(f"writing a {args.size_mib} MiB document to {source} ...", flush=True)
    sha1 = make_document(source, size)
    data_dir = work / "xds-data"
    http_port, mllp_port, baseline_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "XDS_DATA_DIR": str(data_dir),
        "XDS_HTTP_PORT": str(http_port),
        "XDS_REGISTRY_MLLP_PORT": str(mllp_port),
        "XDS_ACTORS": "registry,repository",
        "XDS_REPOSITORY_UNIQUE_ID": REPOSITORY_ID,
    }
    results: list[Result] = []
    base = f"http://127.0.0.1:{http_port}"
    xds = [sys.executable, "-m", "xds.cli", "up"]
    with server(xds, env, base + "/health", work / "xds.log") as xds_process:
        feed_patient(mllp_port)
        request = pnr_request(Attachment.from_file(source, "application/octet-stream"))
        unique_id = request.submission.document_entries[0].unique_id
        with SoapClient(spool_dir=work / "client-spool", timeout=3600) as client:

            def iti41() -> None:
                body, parts = pnr_to_ebrim_with_parts(request)
                reply = client.call(base + "/xds/repository", Transaction.ITI_41, body, parts)
                response = registry_response_from_ebrim(reply.body)
                if response.status != ResponseStatus.SUCCESS:
                    raise SystemExit(f"ITI-41 failed: {response.errors}")

            def iti43() -> None:
                body = retrieve_request_to_ebrim(
                    RetrieveDocumentSetRequest((DocumentRequest(REPOSITORY_ID, unique_id),))
                )
                reply = client.call(base + "/xds/repository", Transaction.ITI_43, body)
                try:
                    (document,) = retrieve_response_from_ebrim(reply.body, reply.attachments).documents
                    if (document.content.sha1, document.content.size) != (sha1, size):
                        raise SystemExit("ITI-43 returned other bytes")
                finally:
                    reply.discard()

            results.append(measure("ITI-41 upload (MTOM)", size, xds_process, iti41))
            results.append(measure("ITI-43 download (MTOM)", size, xds_process, iti43))

    baseline_dir = work / "baseline"
    baseline_dir.mkdir()
    command = [sys.executable, __file__, "--baseline-server", str(baseline_port), "--dir", str(baseline_dir)]
    blob = f"http://127.0.0.1:{baseline_port}/blob"
    health = f"http://127.0.0.1:{baseline_port}/health"
    with server(command, dict(os.environ), health, work / "baseline.log") as baseline_process, httpx.Client(
        timeout=3600
    ) as http:

        def upload() -> None:
            def chunks() -> Iterator[bytes]:
                with source.open("rb") as fh:
                    while chunk := fh.read(64 * 1024):
                        yield chunk

            http.put(blob, content=chunks()).raise_for_status()

        def download() -> None:
            with http.stream("GET", blob) as response, (work / "baseline-download.bin").open("wb") as fh:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    fh.write(chunk)

        results.append(measure("baseline upload (raw HTTP)", size, baseline_process, upload))
        results.append(measure("baseline download (raw HTTP)", size, baseline_process, download))
    return results


def report(results: list[Result]) -> None:
    mb = 1e6
    print(f"\n{'phase':<30} {'MB/s':>8} {'seconds':>8} {'server peak RSS':>16} {'client peak RSS':>16}")
    for r in results:
        print(
            f"{r.name:<30} {r.mb_per_s:>8.1f} {r.seconds:>8.2f} {r.server_rss / mb:>13.1f} MB"
            f" {r.client_rss / mb:>13.1f} MB"
        )
    ours, base = {r.name.split()[1]: r for r in results[:2]}, {r.name.split()[1]: r for r in results[2:]}
    print()
    for way in ("upload", "download"):
        share = ours[way].mb_per_s / base[way].mb_per_s
        verdict = "ok" if share >= 0.5 else "MISSED"
        print(f"{way}: {share:.0%} of baseline throughput (target >= 50%): {verdict}")
    worst_server = max(r.server_rss for r in results[:2]) / mb
    worst_client = max(r.client_rss for r in results[:2]) / mb
    for side, value in (("server", worst_server), ("client", worst_client)):
        print(f"peak RSS {side}: {value:.1f} MB (target < 150 MB): {'ok' if value < 150 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        baseline_server(args.baseline_server, args.dir)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-repository-", dir=args.dir))
    try:
        report(run(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

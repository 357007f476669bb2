"""Imaging Document Source throughput against the same-run dcmtk baseline (issue 6).

Run: ``.venv/bin/python bench/imaging.py [--slices 200] [--size 512] [--repeat 3] [--dir DIR]``

A synthetic CT study (SLICES x SIZE x SIZE, 16 bit, Explicit VR Little Endian) is generated once; then,
against
``xds serve imaging-source`` in its own process (SQLite, data in DIR):
- baseline: dcmtk storescu -> dcmtk storescp with TCP_NODELAY=1 (dcmtk's switch), the same files
- C-STORE intake: storescu -> our SCP
- C-MOVE: movescu asks our SCP to send the study to a dcmtk storescp
- RAD-69: the request sent with httpx and the MTOM response streamed to disk as it comes (what the source
  delivers, measured like WADO-RS); then again through our SoapClient, which parses the MTOM package and
  spools each instance to its own file (the consumer's share is in that figure too)
- WADO-RS: httpx streams GET /dicomweb/studies/{uid} to disk
Each path runs REPEAT times (intake with as many studies of the same size: a study sent again meets only
duplicates). Printed: the median run's MB/s of each path, its ratio to the baseline's median run (target
>= 0.5), the slowest and fastest run, and the server's peak RSS per phase (psutil samples every 20 ms; flat
memory means it does not grow with the study). A single run of half a second is at the mercy of whatever
else the two cores do; the median of three is not.

Two more references show what pynetdicom itself allows on this machine (the source served both paths with
it until its own Upper Layer took them over, imaging_source.store_scp / store_scu; TLS still goes through it):
- pynetdicom floor, C-STORE SCP: storescu -> a pynetdicom AE in this process whose handler only deletes the
  received file (what intake would reach if storing cost nothing)
- pynetdicom floor, C-STORE SCU: a pynetdicom association sends the files to dcmtk storescp (what a C-MOVE's
  sub-operations would reach if finding and reading the instances cost nothing)
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))
sys.path.insert(0, str(ROOT_DIR / "tests"))

from imaging_helpers import write_study  # noqa: E402

from xds.ebrim import imaging_retrieve_request_to_ebrim, retrieve_response_from_ebrim  # noqa: E402
from xds.model import (  # noqa: E402
    DocumentRequest,
    RetrieveImagingDocumentSetRequest,
    SeriesRequest,
    StudyRequest,
)
from xds.soap import SoapClient, build_envelope, new_message_id  # noqa: E402
from xds.soap.addressing import request_headers  # noqa: E402
from xds.transactions import Transaction  # noqa: E402

DCMTK = Path("/usr/bin")
# dcmtk leaves Nagle on unless TCP_NODELAY=1 is in its environment (measured: 15x slower without it)
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}
SOURCE_UID = "1.2.826.0.1.3680043.10.543.77"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


@contextmanager
def storescp(folder: Path, port: int) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(DCMTK / "storescp"), "-aet", "DEST", "-od", str(folder), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=DCMTK_ENV,
    )
    try:
        wait_port(port, process, "storescp")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def check(run: subprocess.CompletedProcess) -> None:
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])


def nodelay(event) -> None:  # noqa: ANN001 - a pynetdicom Event
    event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def pynetdicom_scp_floor(files: list[str]) -> float:
    """Seconds for storescu to send ``files`` to a pynetdicom C-STORE SCP that stores nothing."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, _config, evt

    _config.STORE_RECV_CHUNKED_DATASET = True  # as imaging_source.listener

    def discard(event) -> int:  # noqa: ANN001
        os.unlink(event.dataset_path)
        return 0

    ae = AE("FLOOR")
    ae.maximum_pdu_size = 0
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    handlers = [(evt.EVT_CONN_OPEN, nodelay), (evt.EVT_C_STORE, discard)]
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    try:
        port = str(server.server_address[1])
        command = [str(DCMTK / "storescu"), "-aec", "FLOOR", "127.0.0.1", port, *files]
        return timed(lambda: check(subprocess.run(command, capture_output=True, text=True, env=DCMTK_ENV)))
    finally:
        server.shutdown()


def pynetdicom_scu_floor(files: list[str], folder: Path) -> float:
    """Seconds for one pynetdicom association to send ``files`` (from the files) to dcmtk storescp."""
    from pydicom import dcmread
    from pynetdicom import AE, _config, build_context, evt

    _config.STORE_SEND_CHUNKED_DATASET = True  # as imaging_source.send
    first = dcmread(files[0], stop_before_pixels=True)
    ae = AE("FLOOR")
    context = build_context(first.SOPClassUID, [first.file_meta.TransferSyntaxUID])
    port = free_port()
    with storescp(folder, port):
        assoc = ae.associate(
            "127.0.0.1", port, [context], ae_title="DEST", evt_handlers=[(evt.EVT_CONN_OPEN, nodelay)]
        )
        if not assoc.is_established:
            raise RuntimeError("storescp refused the association")

        def send() -> None:
            for path in files:
                if assoc.send_c_store(Path(path)).Status != 0:
                    raise RuntimeError(f"storescp refused {path}")

        try:
            return timed(send)
        finally:
            assoc.release()


def settled(action: Callable[[], None], received: Path | None = None) -> float:
    """Seconds of ``action``, started with an empty ``received`` folder (storescp then creates its files;
    overwriting them costs more: ext4 writes a file truncated and rewritten back at once) and nothing left
    to write back, so that no run pays for the disk writes of the one before it."""
    if received is not None:
        for path in received.iterdir():
            path.unlink()
    os.sync()
    return timed(action)


def repeated(times: int, action: Callable[[], None], received: Path | None = None) -> list[float]:
    return [settled(action, received) for _ in range(times)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (the median is compared)")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-imaging-"))
    shutil.rmtree(work / "server", ignore_errors=True)
    # one study per intake run (a study sent again would only meet duplicates), the same size each
    studies = [
        write_study(work / f"study-{n}", slices=args.slices, rows=args.size, columns=args.size)
        for n in range(args.repeat)
    ]
    study = studies[0]
    files = [str(p) for p in study.files]
    megabytes = sum(p.stat().st_size for p in study.files) / 1e6
    size = f"{args.slices} slices {args.size}x{args.size}, {megabytes:.1f} MB"
    print(f"study: {size}, {args.repeat} runs per path")

    def storescu(port: int, ae_title: str, paths: list[str]) -> None:
        command = [str(DCMTK / "storescu"), "-aec", ae_title, "127.0.0.1", str(port), *paths]
        check(subprocess.run(command, capture_output=True, text=True, env=DCMTK_ENV))

    base_port = free_port()
    with storescp(work / "baseline", base_port):
        baseline = repeated(args.repeat, lambda: storescu(base_port, "DEST", files), work / "baseline")
    shutil.rmtree(work / "baseline")
    floors = [
        ("pynetdicom floor, C-STORE SCP", [pynetdicom_scp_floor(files)]),
        ("pynetdicom floor, C-STORE SCU", [pynetdicom_scu_floor(files, work / "floor")]),
    ]
    shutil.rmtree(work / "floor")

    http_port, dicom_port, dest_port = free_port(), free_port(), free_port()
    config = work / "xds.toml"
    config.write_text(f'[imaging]\nstudy_idle_seconds = 0\nsource_unique_id = "{SOURCE_UID}"\n')
    env = {
        **os.environ,
        "XDS_DATA_DIR": str(work / "server"),
        "XDS_HTTP_PORT": str(http_port),
        "XDS_DICOM_PORT": str(dicom_port),
        "XDS_DICOM_DESTINATIONS": f"DEST@127.0.0.1:{dest_port}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "xds.cli", "serve", "imaging-source", "--config", str(config)],
        env=env,
        cwd=ROOT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results: list[tuple[str, list[float], int]] = []
    try:
        wait_port(http_port, server, "xds serve imaging-source")
        wait_port(dicom_port, server, "the DICOM listener")
        with PeakRss(server.pid) as rss:
            seconds = [settled(lambda s=s: storescu(dicom_port, "XDSI_SOURCE", [str(p) for p in s.files]))
                       for s in studies]
        results.append(("C-STORE intake (storescu -> us)", seconds, rss.peak))

        move = [
            str(DCMTK / "movescu"), "-S", "-aec", "XDSI_SOURCE", "-aem", "DEST",
            "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study.study_uid}",
            "127.0.0.1", str(dicom_port),
        ]
        with storescp(work / "moved", dest_port), PeakRss(server.pid) as rss:
            seconds = repeated(
                args.repeat,
                lambda: check(subprocess.run(move, capture_output=True, text=True, env=DCMTK_ENV)),
                work / "moved",
            )
        results.append(("C-MOVE (us -> storescp)", seconds, rss.peak))

        from pydicom import dcmread

        by_series: dict[str, list[DocumentRequest]] = {}
        for path in study.files:
            ds = dcmread(path, stop_before_pixels=True)
            by_series.setdefault(str(ds.SeriesInstanceUID), []).append(
                DocumentRequest(SOURCE_UID, str(ds.SOPInstanceUID))
            )
        request = RetrieveImagingDocumentSetRequest(
            (StudyRequest(study.study_uid, tuple(SeriesRequest(s, tuple(d)) for s, d in by_series.items())),),
            ("1.2.840.10008.1.2.1",),
        )
        body = imaging_retrieve_request_to_ebrim(request)
        spool = work / "client-spool"
        spool.mkdir(exist_ok=True)

        url = f"http://127.0.0.1:{http_port}/xds/imaging"
        action = Transaction.RAD_69.info.action

        def rad69_wire() -> None:
            # the SOAP 1.2 request as SoapClient sends it (no attachments: a plain SOAP body); the response
            # is written to disk as it arrives, MTOM package and all
            envelope = build_envelope(body, request_headers(action, url, new_message_id()))
            headers = {"content-type": f'application/soap+xml; charset=UTF-8; action="{action}"'}
            with (
                httpx.stream("POST", url, content=envelope, headers=headers, timeout=600) as response,
                (work / "rad69.out").open("wb") as out,
            ):
                if response.status_code != 200:
                    raise RuntimeError(f"RAD-69 answered HTTP {response.status_code}")
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
            if (work / "rad69.out").stat().st_size < megabytes * 1e6:
                raise RuntimeError("the RAD-69 response is shorter than the study")

        def rad69() -> None:
            with SoapClient(spool_dir=spool) as client:
                reply = client.call(url, Transaction.RAD_69, body)
                response = retrieve_response_from_ebrim(reply.body, reply.attachments)
                assert len(response.documents) == len(files), response.response
                reply.discard()

        with PeakRss(server.pid) as rss:
            seconds = repeated(args.repeat, rad69_wire)
        results.append(("RAD-69 (MTOM response to disk)", seconds, rss.peak))
        with PeakRss(server.pid) as rss:
            seconds = repeated(args.repeat, rad69)
        results.append(("RAD-69 via SoapClient (parse, spool)", seconds, rss.peak))

        def wado_rs() -> None:
            with (
                httpx.stream(
                    "GET", f"http://127.0.0.1:{http_port}/dicomweb/studies/{study.study_uid}", timeout=600
                ) as response,
                (work / "wado-rs.out").open("wb") as out,
            ):
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)

        with PeakRss(server.pid) as rss:
            seconds = repeated(args.repeat, wado_rs)
        results.append(("WADO-RS study", seconds, rss.peak))
    finally:
        server.terminate()
        server.wait(timeout=60)

    # each path's median run against the baseline's median run; the range shows how much runs differ
    base_rate = megabytes / statistics.median(baseline)

    def line(name: str, runs: list[float], ratio: float, rss: str) -> None:
        low, high = megabytes / max(runs), megabytes / min(runs)
        rate = megabytes / statistics.median(runs)
        print(f"{name:38s} {rate:8.1f} {ratio:11.2f} {f'{low:.0f}-{high:.0f}':>12s} {rss:>16s}")

    print(f"{'path':38s} {'MB/s':>8s} {'x baseline':>11s} {'runs MB/s':>12s} {'server peak RSS':>16s}")
    line("baseline storescu -> storescp (dcmtk)", baseline, 1.0, "-")
    for name, runs in floors:
        line(name, runs, megabytes / statistics.median(runs) / base_rate, "-")
    for name, runs, peak in results:
        line(name, runs, megabytes / statistics.median(runs) / base_rate, f"{peak / 1e6:13.0f} MB")
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

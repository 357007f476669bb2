"""Throughput and memory of the MTOM parser + spooler against plainly writing the same bytes to disk.

Run: ``.venv/bin/python bench/mtom.py [--size-mib 1024] [--dir DIR] [--no-fsync]``

An MTOM message with one attachment of SIZE is generated on the fly (never held in memory) and fed in
64 KiB chunks through ``MultipartParser`` + ``PartSpooler`` into a temporary directory; the baseline
writes the same chunks to a file in the same directory. Both runs fsync their file (or neither, with
``--no-fsync``), and each runs in its own subprocess so that the peak RSS printed belongs to that run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xds.mtom import MultipartParser, PartSpooler  # noqa: E402

CHUNK = 64 * 1024
BOUNDARY = "MIMEBoundary_bench0123456789abcdef0123456789abcdef"
START = "root.message@bench"
CID = "document-1@bench"
ROOT = (
    b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    b'<soap:Body><Document><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" '
    b'href="cid:document-1@bench"/></Document></soap:Body></soap:Envelope>'
)


def message_chunks(size: int) -> Iterator[bytes]:
    """The message in CHUNK-sized pieces; the attachment repeats one random 64 KiB block."""
    head = (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{START}>\r\n\r\n"
        ).encode()
        + ROOT
        + (
            f"\r\n--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{CID}>\r\n\r\n"
        ).encode()
    )
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = os.urandom(CHUNK)
    first = CHUNK - len(head)  # attachment bytes in the first chunk
    # every later full chunk holds the same bytes: the block rotated by `first`
    middle = block[first:] + block[:first]
    if size <= first:
        yield head + block[:size] + tail
        return
    yield head + block[:first]
    remaining = size - first
    while remaining >= CHUNK:
        yield middle
        remaining -= CHUNK
    yield middle[:remaining] + tail


def run_parse(size: int, directory: Path, fsync: bool) -> dict[str, float]:
    started = time.perf_counter()
    parser = MultipartParser(BOUNDARY.encode())
    spooler = PartSpooler(directory, start=f"<{START}>")
    total = 0
    for chunk in message_chunks(size):
        total += len(chunk)
        spooler.handle(parser.feed(chunk))
    spooler.handle(parser.close())
    message = spooler.finish()
    attachment = message.attachments[CID]
    assert attachment.path is not None and attachment.size == size
    if fsync:
        fd = os.open(attachment.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    seconds = time.perf_counter() - started
    message.discard()
    return {"seconds": seconds, "bytes": total}


def run_copy(size: int, directory: Path, fsync: bool) -> dict[str, float]:
    started = time.perf_counter()
    path = directory / "baseline.bin"
    total = 0
    with path.open("wb") as fh:
        for chunk in message_chunks(size):
            total += len(chunk)
            fh.write(chunk)
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())
    seconds = time.perf_counter() - started
    path.unlink()
    return {"seconds": seconds, "bytes": total}


def child(args: argparse.Namespace) -> None:
    run = run_parse if args.child == "parse" else run_copy
    result = run(args.size_mib << 20, Path(args.dir), not args.no_fsync)
    result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def spawn(kind: str, args: argparse.Namespace, directory: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--size-mib", str(args.size_mib)]
    command += ["--dir", str(directory)]
    if args.no_fsync:
        command.append("--no-fsync")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--dir", help="where to create the temporary directory (default: the system temp dir)")
    ap.add_argument("--no-fsync", action="store_true", help="fsync neither run")
    ap.add_argument("--child", choices=["parse", "copy"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-mtom-", dir=args.dir))
    try:
        copy = spawn("copy", args, directory)
        parse = spawn("parse", args, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    mb = copy["bytes"] / 1e6
    copy_rate, parse_rate = mb / copy["seconds"], mb / parse["seconds"]
    print(
        f"message: {args.size_mib} MiB attachment, {copy['bytes']} bytes in {CHUNK // 1024} KiB chunks, "
        f"fsync={'no' if args.no_fsync else 'yes'}, dir={directory.parent}"
    )
    print(
        f"baseline write : {copy_rate:8.1f} MB/s  ({copy['seconds']:.2f} s, peak RSS "
        f"{copy['max_rss_kib'] / 1024:.1f} MiB)"
    )
    print(
        f"parse + spool  : {parse_rate:8.1f} MB/s  ({parse['seconds']:.2f} s, peak RSS "
        f"{parse['max_rss_kib'] / 1024:.1f} MiB)"
    )
    print(f"ratio parse/baseline: {parse_rate / copy_rate:.2f}  (target >= 0.50; peak RSS target < 100 MB)")


if __name__ == "__main__":
    main()

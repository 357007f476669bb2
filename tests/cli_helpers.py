"""The ``xds`` command as a subprocess: its environment on free ports, started until /health answers."""

import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

XDS = [sys.executable, "-m", "xds.cli"]


def xds_env(tmp_path: Path) -> dict[str, str]:
    names = ("HTTP", "REGISTRY_MLLP", "PIX_MLLP", "DICOM", "AUDIT_TLS", "AUDIT_UDP")
    ports = {f"XDS_{name}_PORT": "0" for name in names}
    return {**os.environ, "XDS_DATA_DIR": str(tmp_path / "data"), **ports}


def start_xds(
    args: list[str], env: dict[str, str], tls: ssl.SSLContext | None = None
) -> tuple[subprocess.Popen, str]:
    """Start ``xds ARGS``; the process and its base URL once /health answers (over TLS with ``tls``)."""
    proc = subprocess.Popen(XDS + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    url = None
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"GET\s+(https?://\S+)/health", line)
        if match:
            url = match.group(1)
        elif not line and proc.poll() is not None:
            break
    if url is None:
        proc.kill()
        raise AssertionError(proc.stderr.read())
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2, verify=tls or True).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("no answer on /health")


def stop_xds(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=40)

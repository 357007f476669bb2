"""A registry and a repository on loopback ports for the consumer tests, and a ``consumer.Client`` for them.

The servers are the real actors (tests/repository_helpers.running_domain: the repository forwards ITI-42
to the registry over HTTP); the sample patient is made known through the registry's store, as the feed does.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from repository_helpers import REPOSITORY_ID, Domain, running_domain
from sample_data import PATIENT_ID

from consumer import Client, SubmitOptions, SubmitResult


@contextmanager
def consumer_domain(database_url: str, tmp_path: Path) -> Iterator[tuple[Domain, Client]]:
    with running_domain(database_url, tmp_path) as domain, Client(
        domain.registry.url, domain.repository.url, repository_unique_id=REPOSITORY_ID
    ) as client:
        yield domain, client


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def submit_text(client: Client, folder: Path, name: str, data: bytes, **options: object) -> SubmitResult:
    """ITI-41 of one file for the sample patient."""
    values: dict[str, object] = {"patient_id": PATIENT_ID} | options
    return client.submit([write(folder, name, data)], SubmitOptions(**values))  # type: ignore[arg-type]


# --- `xds up` with every actor, for the imaging consumer and end-to-end tests ---
DOMAIN_OID = "1.3.6.1.4.1.21367.2005.13.20.1000"


def xad_pid(number: str) -> str:
    return f"{number}^^^&{DOMAIN_OID}&ISO"


@dataclass
class UpDomain:
    env: dict[str, str]  # what `xds` commands need to reach this domain
    base: str  # http://127.0.0.1:port
    dicom_port: int
    consumer_port: int
    tmp: Path


@contextmanager
def xds_up_domain(tmp: Path) -> Iterator[UpDomain]:
    """``xds up`` as a subprocess with all actors (registry, repository, pix, imaging-source, audit) on free
    ports; DICOM, MLLP and the consumer's C-MOVE port fixed so that clients know them."""
    from cli_helpers import start_xds, stop_xds
    from registry_helpers import free_port

    ports = {name: str(free_port()) for name in (
        "HTTP", "PIX_MLLP", "REGISTRY_MLLP", "DICOM", "AUDIT_TLS", "AUDIT_UDP", "CONSUMER_DICOM"
    )}
    env = {
        **os.environ,
        "XDS_DATA_DIR": str(tmp / "data"),
        **{f"XDS_{name}_PORT": port for name, port in ports.items()},
    }
    env.pop("XDS_ACTORS", None)
    proc, base = start_xds(["up"], env)
    try:
        yield UpDomain(env, base, int(ports["DICOM"]), int(ports["CONSUMER_DICOM"]), tmp)
    finally:
        stop_xds(proc)


def run_xds(
    env: dict[str, str], *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    from cli_helpers import XDS

    return subprocess.run(
        XDS + list(args), env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def submit_when_known(env: dict[str, str], *args: str) -> dict:
    """``xds submit --json``; the PIX Manager forwards a new patient to the registry from its outbox, so the
    first submission may meet XDSUnknownPatientId for a moment (polling, not a timing assertion)."""
    deadline = time.monotonic() + 30
    while True:
        result = run_xds(env, "submit", *args, "--json")
        waiting = "XDSUnknownPatientId" in result.stderr and time.monotonic() < deadline
        if result.returncode == 0 or not waiting:
            return json.loads(ok(result).stdout)
        time.sleep(0.2)

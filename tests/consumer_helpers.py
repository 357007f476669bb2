"""A registry and a repository on loopback ports for the consumer tests, and a ``consumer.Client`` for them.

The servers are the real actors (tests/repository_helpers.running_domain: the repository forwards ITI-42
to the registry over HTTP); the sample patient is made known through the registry's store, as the feed does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

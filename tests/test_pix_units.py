"""The PIX Manager's pure parts: phonetic codes, configuration, and its schema against its migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pix import koelner, pix_config, soundex
from pix.migrations_info import VERSION_TABLE
from pix.store import PixStore
from pix.tables import metadata
from registry.store import RegistryStore
from xds.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Müller-Lüdenscheidt", "65752682"),  # the example of Postel's algorithm
        ("Breschnew", "17863"),
        ("Wikipedia", "3412"),
        ("Müller", "657"),
        ("Mueller", "657"),
        ("Möller", "657"),
        ("Meier", "67"),
        ("Mayr", "67"),
        ("Öztürk", "08274"),
        ("Oeztuerk", "08274"),
        ("Christoph", "47823"),
        ("Xaver", "4837"),
        ("", ""),
        ("123", ""),
    ],
)
def test_koelner(name: str, code: str) -> None:
    assert koelner(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Robert", "R163"),
        ("Rupert", "R163"),
        ("Rubin", "R150"),
        ("Ashcraft", "A261"),
        ("Tymczak", "T522"),
        ("Pfister", "P236"),
        ("Honeyman", "H555"),
        ("Müller", "M460"),
        ("Lee", "L000"),
        ("", ""),
    ],
)
def test_soundex(name: str, code: str) -> None:
    assert soundex(name) == code


def test_configuration_defaults() -> None:
    config = pix_config(Settings())
    assert config.port == 2575 and config.domain_oid == Settings().domain_oid
    assert config.registry is not None and (config.registry.host, config.registry.port) == ("127.0.0.1", 2576)
    assert config.id_format.format(n=7) == "XAD000000007" and config.subscribers == ()


def test_configuration_section_and_prefixed_keys() -> None:
    extra = {
        "pix": {
            "id_format": "P{n}",
            "pdq_max_hits": "20",
            "subscribers": ["h1:1", {"address": "h2:2", "domains": ["1.2"]}],
        },
        "pdq_matching": "koelner",
        "pix_registry": "",
    }
    config = pix_config(Settings(extra=extra))
    assert config.id_format == "P{n}" and config.pdq_max_hits == 20 and config.pdq_matching == "koelner"
    assert config.registry is None
    assert [(s.name, s.port, s.domains) for s in config.subscribers] == [
        ("subscriber-1", 1, ()),
        ("subscriber-2", 2, ("1.2",)),
    ]


@pytest.mark.parametrize(
    "section",
    [
        {"id_format": "{x}"},
        {"pdq_matching": "metaphone"},
        {"pdq_max_hits": 0},
        {"subscribers": ["nohost"]},
        {"typo": 1},
        {"retry_seconds": "soon"},
        {"retry_seconds": 0},
        {"worker_threads": 0},
    ],
)
def test_bad_configuration(section: dict) -> None:
    with pytest.raises(ConfigError):
        pix_config(Settings(extra={"pix": section}))


def test_schema_matches_the_tables(database_url: str) -> None:
    store = PixStore.open(database_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()


def test_shares_a_database_with_the_registry(database_url: str, tmp_path: Path) -> None:
    # xds up: one database, each actor with its own Alembic version table; either may migrate first
    for opener in (PixStore.open, RegistryStore.open, PixStore.open):
        opener(database_url).close()
    store = PixStore.open(database_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {"alembic_version", VERSION_TABLE, "pix_patient", "patient"} <= tables
    finally:
        store.close()

"""One configuration: a TOML file, every value overridable by an ``XDS_*`` environment variable.

Precedence: defaults < TOML file < environment. Keys in the TOML file are the field names below
(``http_port = 8080``); the environment variable is ``XDS_`` + the upper-cased name (``XDS_HTTP_PORT``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# The connectathon test domain: NIST test messages carry patient IDs of this assigning authority
CONNECTATHON_DOMAIN_OID = "1.3.6.1.4.1.21367.2005.13.20.1000"
CODE_VALIDATION_MODES = ("reject", "warn", "ignore")


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class DicomDestination:
    ae_title: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> DicomDestination:
        """``AE@host:port`` (DESIGN.md: XDS_DICOM_DESTINATIONS)."""
        ae, sep, address = text.strip().partition("@")
        host, colon, port = address.rpartition(":")
        if not (sep and colon and ae and host and port.isdigit()) or len(ae) > 16:
            raise ConfigError(f"dicom_destinations: {text!r} is not AE@host:port")
        return cls(ae, host, int(port))


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("xds-data")
    database_url: str = ""  # empty: sqlite:///<data_dir>/xds.sqlite
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # processes that serve HTTP on the one port (the first also runs the MLLP/DICOM listeners); more than
    # one uses more cores for SOAP work, meant for PostgreSQL
    http_workers: int = 1
    pix_mllp_port: int = 2575
    registry_mllp_port: int = 2576
    dicom_port: int = 11112
    dicom_ae_title: str = "XDSI_SOURCE"
    domain_oid: str = CONNECTATHON_DOMAIN_OID
    repository_unique_id: str = "1.3.6.1.4.1.21367.2011.2.5.1"
    home_community_id: str = ""
    dicom_destinations: tuple[DicomDestination, ...] = ()
    code_validation: str = "warn"
    value_sets_file: str = ""  # empty: the shipped IHE-DE value sets
    max_xml_bytes: int = 16 * 1024 * 1024
    spool_memory_threshold: int = 1024 * 1024
    # ITI-18: the most objects one answer may hold before XDSTooManyResults (LeafClass / ObjectRef)
    query_max_leaf_class: int = 5000
    query_max_object_refs: int = 100_000
    registry_url: str = ""  # empty: the registry of this process
    # PIX Manager (pix/config.py reads these and its [pix] TOML table): new XAD-PIDs from this pattern of
    # the sequence number n, PDQ's hit cap and default name matching (exact | koelner | soundex)
    pix_id_format: str = "XAD{n:09d}"
    pdq_max_hits: int = 100
    pdq_matching: str = "exact"
    # ATNA node authentication (xds.tls): this node's certificate and key, and the CA bundle it trusts
    # for peers; all three set -> mutual TLS on every interface, none -> plain TCP
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    # ITI-20: where this node sends its audit records, "tls://host:port" (RFC 5425) or "udp://host:port"
    # (RFC 5426); empty: records are kept in the node's outbox until one is configured
    audit_repository: str = ""
    audit_source_id: str = ""  # AuditSourceID of this node; empty: its host name
    # the built-in Audit Record Repository (`xds serve audit`): syslog over TLS (TCP without TLS settings)
    # and over UDP
    audit_tls_port: int = 6514
    audit_udp_port: int = 5514
    actors: tuple[str, ...] = ("registry", "repository", "pix", "imaging-source", "audit")
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'xds.sqlite'}"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"


_FIELDS = {f.name: f for f in fields(Settings) if f.name != "extra"}


def _coerce(name: str, value: Any) -> Any:
    default = getattr(Settings(), name)
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, Path):
            return Path(value)
        if name == "dicom_destinations":
            items = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
            return tuple(DicomDestination.parse(v) for v in items)
        if isinstance(default, tuple):
            items = value if isinstance(value, list) else str(value).split(",")
            return tuple(str(v).strip() for v in items if str(v).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {value!r} is not a valid value ({exc})") from exc


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        for key, value in raw.items():
            if key in _FIELDS:
                values[key] = _coerce(key, value)
            else:
                extra[key] = value  # actor sections ([registry], [pix] ...) are read by their actors
    for name in _FIELDS:
        env_value = environ.get("XDS_" + name.upper())
        if env_value is not None:
            values[name] = _coerce(name, env_value)
    settings = replace(Settings(), **values, extra=extra)
    if settings.code_validation not in CODE_VALIDATION_MODES:
        raise ConfigError(
            f"code_validation: {settings.code_validation!r} is not one of {CODE_VALIDATION_MODES}"
        )
    if any((settings.tls_cert, settings.tls_key, settings.tls_ca)) and not all(
        (settings.tls_cert, settings.tls_key, settings.tls_ca)
    ):
        raise ConfigError("tls_cert, tls_key and tls_ca are set together or not at all")
    if settings.http_workers < 1:
        raise ConfigError(f"http_workers: {settings.http_workers} is not a number of processes (1 or more)")
    return settings

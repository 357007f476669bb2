"""The PIX Manager's configuration, read from ``Settings`` and its ``[pix]`` TOML section.

``Settings`` has the shared values (domain OID, ports, database); the keys below live in ``settings.extra``,
either in a ``[pix]`` table (``id_format = "XAD{n:09d}"``) or at the top level with a ``pix_`` prefix
(``pix_id_format = ...``; ``pdq_max_hits`` and ``pdq_matching`` as they are). Unknown keys of the section are
refused, so a typo does not go unnoticed. Should ``Settings`` get fields of those top-level names, they are
read too (with their ``XDS_*`` environment variables).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from xds.config import ConfigError, Settings
from xds.hl7v2 import HD
from xds.tls import client_context, server_context

MATCHING_MODES = ("exact", "koelner", "soundex")
REGISTRY_TARGET = "registry"


@dataclass(frozen=True, slots=True)
class Peer:
    """Where the outbox delivers: the registry, or an ITI-10 subscriber (PIX Consumer)."""

    name: str
    host: str
    port: int
    domains: tuple[str, ...] = ()  # ITI-10: the domains (OIDs or namespaces) the subscriber cares about

    @classmethod
    def parse(cls, name: str, value: Any) -> Peer:
        """``"host:port"`` or ``{address = "host:port", domains = [...], name = ...}``."""
        domains: tuple[str, ...] = ()
        if isinstance(value, Mapping):
            name = str(value.get("name", name))
            domains = tuple(str(d) for d in value.get("domains", ()))
            value = value.get("address", "")
        host, colon, port = str(value).strip().rpartition(":")
        if not (colon and host and port.isdigit()):
            raise ConfigError(f"pix: {value!r} is not host:port")
        return cls(name, host, int(port), domains)


@dataclass(frozen=True, slots=True)
class PixConfig:
    domain_oid: str
    host: str = "127.0.0.1"
    port: int = 2575
    # new XAD-PIDs: a str.format pattern of the sequence number n
    id_format: str = "XAD{n:09d}"
    pdq_max_hits: int = 100
    pdq_matching: str = "exact"  # default name matching of PDQ; a query may ask for another
    registry: Peer | None = None  # None: no Patient Identity Feed to a registry
    subscribers: tuple[Peer, ...] = ()
    known_domains: tuple[HD, ...] = ()  # domains to know before any feed, e.g. "KIS&1.2.3&ISO"
    retry_seconds: float = 5.0
    send_timeout: float = 10.0
    max_message_bytes: int = 1024 * 1024
    idle_timeout: float | None = 600.0
    application: str = "XDS_PIX"  # MSH-3 of what we send
    facility: str = ""
    continuation_seconds: float = 600.0  # how long a PDQ continuation pointer stays valid
    worker_threads: int = 8  # threads handling messages (database work)
    outbox_keep_days: float | None = 30.0  # delivered outbox messages are purged after this; None: kept
    # ATNA (xds.tls): the listener's and the outbox's TLS contexts; None: plain TCP
    server_tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def peers(self) -> tuple[Peer, ...]:
        return ((self.registry,) if self.registry else ()) + self.subscribers


_SIMPLE = {
    "id_format",
    "pdq_max_hits",
    "pdq_matching",
    "retry_seconds",
    "send_timeout",
    "max_message_bytes",
    "idle_timeout",
    "application",
    "facility",
    "continuation_seconds",
    "worker_threads",
    "outbox_keep_days",
}
_KEYS = _SIMPLE | {"registry", "subscribers", "known_domains"}


def _top_level_name(key: str) -> str:
    return key if key.startswith("pdq_") else "pix_" + key


def _section(settings: Settings) -> dict[str, Any]:
    """The PIX keys. Precedence: a top-level ``pix_<key>`` (``pdq_<key>``) < the ``[pix]`` table < a
    ``Settings`` field of the top-level name once one exists (so ``XDS_*`` environment variables win)."""
    section: dict[str, Any] = {}
    raw = settings.extra.get("pix", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("pix: must be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(f"pix: unknown key(s) {sorted(unknown)}")
    defaults = Settings()
    for key in sorted(_KEYS):
        name = _top_level_name(key)
        if name in settings.extra:
            section[key] = settings.extra[name]
        if key in raw:
            section[key] = raw[key]
        if hasattr(settings, name) and getattr(settings, name) != getattr(defaults, name):
            section[key] = getattr(settings, name)
    return section


def _coerce(name: str, value: Any) -> Any:
    default = next(f.default for f in fields(PixConfig) if f.name == name)
    try:
        if name == "idle_timeout":
            return None if value in (None, "", 0) else float(value)
        if name == "outbox_keep_days":
            return None if value in (None, "") else float(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, int):
            return int(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"pix.{name}: {value!r} is not valid ({exc})") from exc


def pix_config(settings: Settings) -> PixConfig:
    section = _section(settings)
    values: dict[str, Any] = {k: _coerce(k, v) for k, v in section.items() if k in _SIMPLE}
    # DESIGN "Fixed interface": the registry receives ITI-8 on registry_mllp_port of this host by default
    # (port 0: the registry binds a port of the system's choosing, unknown here; no feed then)
    default = f"{settings.http_host}:{settings.registry_mllp_port}" if settings.registry_mllp_port else ""
    registry_value = section.get("registry", default)
    registry = Peer.parse(REGISTRY_TARGET, registry_value) if registry_value else None
    subscribers_raw = section.get("subscribers", [])
    if isinstance(subscribers_raw, str):
        subscribers_raw = [s for s in subscribers_raw.split(",") if s.strip()]
    subscribers = tuple(Peer.parse(f"subscriber-{i}", s) for i, s in enumerate(subscribers_raw, start=1))
    names = [p.name for p in subscribers]
    if REGISTRY_TARGET in names or len(set(names)) != len(names):
        raise ConfigError("pix.subscribers: names must be unique and not 'registry'")
    known = tuple(HD.parse_subcomponents(str(d)) for d in section.get("known_domains", []))
    config = PixConfig(
        domain_oid=settings.domain_oid,
        host=settings.http_host,
        port=settings.pix_mllp_port,
        registry=registry,
        subscribers=subscribers,
        known_domains=known,
        server_tls=server_context(settings),
        client_tls=client_context(settings),
        **values,
    )
    if config.pdq_matching not in MATCHING_MODES:
        raise ConfigError(f"pix.pdq_matching: {config.pdq_matching!r} is not one of {MATCHING_MODES}")
    try:
        config.id_format.format(n=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"pix.id_format: {config.id_format!r} is no format of n ({exc})") from exc
    for name in ("pdq_max_hits", "worker_threads", "max_message_bytes"):
        if getattr(config, name) < 1:
            raise ConfigError(f"pix.{name}: must be at least 1")
    if config.retry_seconds <= 0 or config.send_timeout <= 0:
        raise ConfigError("pix.retry_seconds and pix.send_timeout must be positive")
    return config

"""Where the Imaging Document Consumer fetches from and where it receives C-MOVEs.

The consumer's own DICOM AE (the C-MOVE destination it opens while ``xds images --via cmove`` runs) is set
in a ``[consumer]`` TOML table or by environment:
  ae_title    XDS_CONSUMER_AE_TITLE     [XDS_CONSUMER]
  dicom_port  XDS_CONSUMER_DICOM_PORT   [11113]
  dicom_host  XDS_CONSUMER_DICOM_HOST   address the source connects to, and we listen on [127.0.0.1]
``xds up`` adds this AE to the Imaging Document Source's C-MOVE destinations (``with_consumer_destination``),
so a domain started by ``xds up`` answers a C-MOVE to it (DESIGN.md: XDS_DICOM_DESTINATIONS).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from xds.config import ConfigError, DicomDestination, Settings
from xds.runtime import local_host, local_url

DEFAULT_AE_TITLE = "XDS_CONSUMER"
DEFAULT_PORT = 11113


def _section(settings: Settings) -> Mapping[str, Any]:
    section = settings.extra.get("consumer", {}) or {}
    if not isinstance(section, Mapping):
        raise ConfigError("consumer: expected a TOML table [consumer]")
    return section


def receiver(settings: Settings, environ: Mapping[str, str] | None = None) -> DicomDestination:
    """The consumer's own AE: title, the host the source sends to, the port we listen on."""
    environ = os.environ if environ is None else environ
    section = _section(settings)

    def value(key: str, default: object) -> str:
        return str(environ.get("XDS_CONSUMER_" + key.upper()) or section.get(key) or default)

    ae = value("ae_title", DEFAULT_AE_TITLE)
    port = value("dicom_port", DEFAULT_PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"consumer.dicom_port: {port!r} is not a port")
    if not ae or len(ae) > 16:
        raise ConfigError(f"consumer.ae_title: {ae!r} is not an AE title (1 to 16 characters)")
    return DicomDestination(ae, value("dicom_host", "127.0.0.1"), int(port))


def with_consumer_destination(settings: Settings) -> Settings:
    """``settings`` with the consumer's receiving AE among the C-MOVE destinations (unless one of that AE
    title is configured already)."""
    mine = receiver(settings)
    if any(d.ae_title == mine.ae_title for d in settings.dicom_destinations):
        return settings
    return replace(settings, dicom_destinations=(*settings.dicom_destinations, mine))


@dataclass(frozen=True)
class Sources:
    """How to reach Imaging Document Sources: RetrieveLocationUID -> HTTP base URL (RAD-69 at
    ``/xds/imaging``, WADO-URI at ``/wado``, WADO-RS at ``/dicomweb``) and RetrieveAETitle -> DICOM address.
    ``default_url`` serves a RetrieveLocationUID not in the table."""

    default_url: str
    urls: Mapping[str, str] = field(default_factory=dict)
    dicom: Mapping[str, DicomDestination] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, url: str | None = None, dicom: Sequence[str] = ()
    ) -> Sources:
        """The domain's own source (this settings' HTTP port and DICOM AE), plus ``dicom`` entries
        ``AE@host:port``; ``url`` replaces the default base URL."""
        host = local_host(settings)
        base = url or local_url(settings)
        own = DicomDestination(settings.dicom_ae_title, host, settings.dicom_port)
        table = {own.ae_title: own}
        for text in dicom:
            entry = DicomDestination.parse(text)
            table[entry.ae_title] = entry
        return cls(base.rstrip("/"), {}, table)

    def base_url(self, location_uid: str) -> str:
        return self.urls.get(location_uid, self.default_url).rstrip("/")

    def address(self, ae_title: str) -> DicomDestination | None:
        return self.dicom.get(ae_title.strip())

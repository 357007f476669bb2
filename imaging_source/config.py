"""The Imaging Document Source's configuration: the shared Settings plus its ``[imaging]`` TOML section.

Keys of ``[imaging]`` (all optional; defaults in brackets):
  source_unique_id      RetrieveLocationUID of the KOS and RepositoryUniqueId of RAD-69 [DEFAULT_SOURCE_UID]
  study_idle_seconds    a study is complete when no instance arrived for this long; 0: only `xds publish` [60]
  repository_url        ITI-41 endpoint the manifests go to [the repository of this process]
  wado_base_url         base URL of this process's HTTP port, for links [http://host:port]
  facility_type_code    healthcareFacilityTypeCode "code^scheme^display" [KHS, IHE-DE]
  practice_setting_code practiceSettingCode "code^scheme^display" [RADI, IHE-DE]
  patient_id_domains    table issuer-of-patient-ID -> assigning authority OID of the XAD-PID (no PIX
                        Manager configured: the local ID is the domain's ID under that authority) [{}]
  local_issuer_oid      assigning authority of PatientIDs that name no issuer [domain_oid]
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imaging_source.vocabulary import DEFAULT_FACILITY, DEFAULT_PRACTICE, DEFAULT_SOURCE_UID
from xds.config import ConfigError, DicomDestination, Settings
from xds.model import Code
from xds.runtime import local_url
from xds.tls import client_context

REPOSITORY_PATH = "/xds/repository"


def _code(text: str | None, default: tuple[str, str, str], key: str) -> Code:
    if not text:
        return Code(*default)
    code, _, rest = str(text).partition("^")
    scheme, _, display = rest.partition("^")
    if not (code and scheme):
        raise ConfigError(f"imaging.{key}: {text!r} is not code^scheme^display")
    return Code(code, scheme, display)


@dataclass(frozen=True)
class ImagingConfig:
    data_dir: Path
    database_url: str
    ae_title: str
    dicom_host: str
    dicom_port: int
    source_unique_id: str
    repository_url: str
    base_url: str
    domain_oid: str
    local_issuer_oid: str
    study_idle_seconds: float
    facility_type_code: Code
    practice_setting_code: Code
    destinations: tuple[DicomDestination, ...] = ()
    patient_id_domains: Mapping[str, str] = field(default_factory=dict)
    max_xml_bytes: int = 16 << 20
    tls: ssl.SSLContext | None = None  # the node's client context for RAD-68 (ATNA, xds.tls)

    @classmethod
    def from_settings(cls, settings: Settings) -> ImagingConfig:
        section: Mapping[str, Any] = settings.extra.get("imaging", {}) or {}
        if not isinstance(section, Mapping):
            raise ConfigError("imaging: expected a TOML table [imaging]")
        base = str(section.get("wado_base_url") or local_url(settings)).rstrip("/")
        try:
            idle = float(section.get("study_idle_seconds", 60))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"imaging.study_idle_seconds: {exc}") from exc
        domains = section.get("patient_id_domains", {}) or {}
        if not isinstance(domains, Mapping):
            raise ConfigError('imaging.patient_id_domains: expected a table issuer = "OID"')
        return cls(
            data_dir=Path(settings.data_dir) / "imaging",
            database_url=settings.effective_database_url,
            ae_title=settings.dicom_ae_title,
            dicom_host=settings.http_host,
            dicom_port=settings.dicom_port,
            source_unique_id=str(section.get("source_unique_id") or DEFAULT_SOURCE_UID),
            repository_url=str(section.get("repository_url") or local_url(settings) + REPOSITORY_PATH),
            base_url=base,
            domain_oid=settings.domain_oid,
            local_issuer_oid=str(section.get("local_issuer_oid") or settings.domain_oid),
            study_idle_seconds=idle,
            facility_type_code=_code(
                section.get("facility_type_code"), DEFAULT_FACILITY, "facility_type_code"
            ),
            practice_setting_code=_code(
                section.get("practice_setting_code"), DEFAULT_PRACTICE, "practice_setting_code"
            ),
            destinations=settings.dicom_destinations,
            patient_id_domains={str(k): str(v) for k, v in domains.items()},
            max_xml_bytes=settings.max_xml_bytes,
            tls=client_context(settings),
        )

    def destination(self, ae_title: str) -> DicomDestination | None:
        for dest in self.destinations:
            if dest.ae_title == ae_title.strip():
                return dest
        return None

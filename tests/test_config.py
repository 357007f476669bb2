from pathlib import Path

import pytest

from xds.config import CONNECTATHON_DOMAIN_OID, ConfigError, DicomDestination, load_settings


def test_defaults_match_the_fixed_interface():
    s = load_settings(None, environ={})
    assert (s.http_port, s.pix_mllp_port, s.registry_mllp_port, s.dicom_port) == (8080, 2575, 2576, 11112)
    assert s.dicom_ae_title == "XDSI_SOURCE"
    assert s.domain_oid == CONNECTATHON_DOMAIN_OID
    assert s.code_validation == "warn"
    assert s.effective_database_url == f"sqlite:///{Path('xds-data') / 'xds.sqlite'}"


def test_environment_overrides_file(tmp_path):
    cfg = tmp_path / "xds.toml"
    cfg.write_text('http_port = 9000\ncode_validation = "reject"\n[registry]\nmax_results = 10\n')
    s = load_settings(cfg, environ={"XDS_HTTP_PORT": "9100", "XDS_DATA_DIR": str(tmp_path / "d")})
    assert s.http_port == 9100
    assert s.code_validation == "reject"
    assert s.data_dir == tmp_path / "d"
    assert s.extra["registry"] == {"max_results": 10}


def test_dicom_destinations_from_environment():
    s = load_settings(None, environ={"XDS_DICOM_DESTINATIONS": "PACS@10.0.0.5:104, VIEWER@localhost:11113"})
    assert s.dicom_destinations == (
        DicomDestination("PACS", "10.0.0.5", 104),
        DicomDestination("VIEWER", "localhost", 11113),
    )


@pytest.mark.parametrize(
    "environ",
    [
        {"XDS_HTTP_PORT": "eighty"},
        {"XDS_CODE_VALIDATION": "sometimes"},
        {"XDS_DICOM_DESTINATIONS": "PACS-without-address"},
        {"XDS_DICOM_DESTINATIONS": "AN_AE_TITLE_TOO_LONG@host:104"},
    ],
)
def test_bad_values_are_named(environ):
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ=environ)
    key = next(iter(environ)).removeprefix("XDS_").lower()
    assert key in str(info.value)


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("http_port = = 1")
    with pytest.raises(ConfigError):
        load_settings(bad, environ={})

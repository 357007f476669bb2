"""``xds publish`` and ``xds certs`` as a user runs them: subprocesses, next to a running ``xds up``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from cli_helpers import XDS, start_xds, stop_xds, xds_env
from imaging_helpers import write_study
from sample_data import DOMAIN_OID

from registry.store import RegistryStore, save_patient
from xds.tls import TlsConfig

PID = f"4711^^^&{DOMAIN_OID}&ISO"


def test_publish_imports_a_folder_and_registers_its_manifest(tmp_path: Path) -> None:
    write_study(tmp_path / "in", slices=2)
    env = {**xds_env(tmp_path), "XDS_ACTORS": "registry,repository"}
    proc, url = start_xds(["up"], env)
    try:
        store = RegistryStore.open(f"sqlite:///{tmp_path / 'data' / 'xds.sqlite'}")
        with store.write() as conn:
            save_patient(conn, PID, name="DOE^JOHN", birth_date="19700101", sex="M")
        store.close()
        # the command publishes to the domain that `xds up` runs on this port
        env["XDS_HTTP_PORT"] = str(urlsplit(url).port)
        result = subprocess.run(XDS + ["publish", str(tmp_path / "in"), "--json"], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["stored"] == 2
        assert [s["status"] for s in report["studies"]] == ["published"]
        again = subprocess.run(XDS + ["publish", str(tmp_path / "in")], env=env, capture_output=True,
                               text=True, timeout=300)
        assert again.returncode == 0 and "unchanged" in again.stdout
        missing = subprocess.run(XDS + ["publish", str(tmp_path / "nothing")], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert missing.returncode == 2 and "no such file" in missing.stderr
    finally:
        stop_xds(proc)


def test_certs_makes_a_usable_domain_and_keeps_an_existing_ca(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    env = xds_env(tmp_path)
    made = subprocess.run(XDS + ["certs", str(folder), "--node", "registry", "--node", "pix"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    names = {p.name for p in folder.iterdir()}
    assert names == {"ca.pem", "ca-key.pem", "registry.pem", "registry-key.pem", "pix.pem", "pix-key.pem"}
    assert (folder / "registry-key.pem").stat().st_mode & 0o077 == 0  # the key is the owner's alone
    tls = TlsConfig(folder / "registry.pem", folder / "registry-key.pem", folder / "ca.pem")
    assert tls.server_context() and tls.client_context()
    assert "tls_cert" in made.stdout
    ca = (folder / "ca.pem").read_bytes()
    again = subprocess.run(XDS + ["certs", str(folder)], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and (folder / "ca.pem").read_bytes() == ca

"""The `xds` command as a user runs it: a real subprocess, real HTTP."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sample_data import register_submission

from xds.ebrim import submit_objects_to_ebrim
from xds.soap.xmlparser import xml_bytes

XDS = [sys.executable, "-m", "xds.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    ports = {f"XDS_{name}_PORT": "0" for name in ("HTTP", "REGISTRY_MLLP", "PIX_MLLP", "DICOM")}
    return {**os.environ, "XDS_DATA_DIR": str(tmp_path / "data"), **ports}


def test_up_binds_and_answers_health(tmp_path):
    proc = subprocess.Popen(XDS + ["up"], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = re.search(r"GET\s+(http://\S+)/health", line)
            if match:
                url = match.group(1)
            elif not line and proc.poll() is not None:
                break
        assert url, proc.stderr.read()
        body = None
        while time.monotonic() < deadline:
            try:
                body = httpx.get(url + "/health", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert body is not None and body["status"] == "ok"
        assert "registry" in body["actors"]
        assert (tmp_path / "data").is_dir()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_serve_unknown_actor_is_refused(tmp_path):
    result = subprocess.run(XDS + ["serve", "dispatcher"], env=_env(tmp_path), capture_output=True, text=True)
    assert result.returncode == 2


def test_bad_configuration_is_one_line_and_exit_2(tmp_path):
    env = {**_env(tmp_path), "XDS_CODE_VALIDATION": "maybe"}
    result = subprocess.run(XDS + ["up"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "code_validation" in result.stderr


def test_validate_accepts_the_baseline_and_names_the_code_of_a_broken_one(tmp_path):
    good = tmp_path / "register.xml"
    good.write_bytes(xml_bytes(submit_objects_to_ebrim(register_submission())))
    ok = subprocess.run(XDS + ["validate", str(good), "--transaction", "ITI-42"], env=_env(tmp_path),
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s)" in ok.stdout

    broken = tmp_path / "broken.xml"
    text = good.read_text(encoding="utf-8")
    # remove the classCode classification (ITI TF-3 Table 4.2.3.2-1: required)
    class_code = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    text = re.sub(rf'<rim:Classification[^>]*classificationScheme="{class_code}"'
                  r".*?</rim:Classification>", "", text, count=1, flags=re.S)
    broken.write_text(text, encoding="utf-8")
    bad = subprocess.run(XDS + ["validate", str(broken)], env=_env(tmp_path), capture_output=True, text=True)
    assert bad.returncode == 1
    assert "XDSRegistryMetadataError" in bad.stdout


def test_validate_unreadable_file(tmp_path):
    result = subprocess.run(XDS + ["validate", str(tmp_path / "missing.xml")], env=_env(tmp_path),
                            capture_output=True, text=True)
    assert result.returncode == 2

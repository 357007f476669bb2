"""The `xds` command as a user runs it: a real subprocess, real HTTP."""

import re
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
from cli_helpers import XDS, start_xds, stop_xds, xds_env
from registry_helpers import single_document
from sample_data import PATIENT_ID, register_submission

from registry.service import PATH
from registry.store import RegistryStore, objects_of_patient, save_patient
from registry.tables import DOCUMENT_ENTRY, SUBMISSION_SET
from xds.ebrim import registry_response_from_ebrim, submit_objects_to_ebrim
from xds.soap import SoapClient
from xds.soap.xmlparser import xml_bytes
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus


def test_up_binds_and_answers_health(tmp_path):
    proc, url = start_xds(["up"], xds_env(tmp_path))
    try:
        body = httpx.get(url + "/health", timeout=2).json()
        assert body["status"] == "ok"
        assert "registry" in body["actors"]
        assert (tmp_path / "data").is_dir()
    finally:
        stop_xds(proc)


def test_serve_with_two_workers_shares_the_port_and_the_database(tmp_path, database_url):
    env = {**xds_env(tmp_path), "XDS_HTTP_WORKERS": "2", "XDS_DATABASE_URL": database_url}
    proc, url = start_xds(["serve", "registry"], env)
    try:
        (worker,) = psutil.Process(proc.pid).children()
        store = RegistryStore.open(database_url)
        with store.write() as conn:
            save_patient(conn, PATIENT_ID, name="DOE^JANE", birth_date="19700101", sex="F")

        def register(tag: str) -> str:
            with SoapClient() as client:
                body = submit_objects_to_ebrim(single_document(tag))
                reply = client.call(url + PATH, Transaction.ITI_42, body)
            return registry_response_from_ebrim(reply.body).status

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(register, [f"5.{i}" for i in range(24)]))
        assert statuses == [ResponseStatus.SUCCESS] * 24
        with store.read() as conn:
            kinds = Counter(row.kind for row in objects_of_patient(conn, PATIENT_ID))
        assert kinds == {SUBMISSION_SET: 24, DOCUMENT_ENTRY: 24}
        store.close()
    finally:
        stop_xds(proc)
    # the worker ends with the first process
    worker.wait(timeout=10)
    assert not worker.is_running()


def test_http_workers_must_be_a_number_of_processes(tmp_path):
    env = {**xds_env(tmp_path), "XDS_HTTP_WORKERS": "0"}
    result = subprocess.run(XDS + ["up"], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "http_workers" in result.stderr


def test_serve_unknown_actor_is_refused(tmp_path):
    env = xds_env(tmp_path)
    result = subprocess.run(XDS + ["serve", "dispatcher"], env=env, capture_output=True, text=True)
    assert result.returncode == 2


def test_bad_configuration_is_one_line_and_exit_2(tmp_path):
    env = {**xds_env(tmp_path), "XDS_CODE_VALIDATION": "maybe"}
    result = subprocess.run(XDS + ["up"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "code_validation" in result.stderr


def test_validate_accepts_the_baseline_and_names_the_code_of_a_broken_one(tmp_path):
    good = tmp_path / "register.xml"
    good.write_bytes(xml_bytes(submit_objects_to_ebrim(register_submission())))
    ok = subprocess.run(XDS + ["validate", str(good), "--transaction", "ITI-42"], env=xds_env(tmp_path),
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
    env = xds_env(tmp_path)
    bad = subprocess.run(XDS + ["validate", str(broken)], env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "XDSRegistryMetadataError" in bad.stdout


def test_validate_unreadable_file(tmp_path):
    result = subprocess.run(XDS + ["validate", str(tmp_path / "missing.xml")], env=xds_env(tmp_path),
                            capture_output=True, text=True)
    assert result.returncode == 2

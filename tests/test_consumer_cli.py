"""``xds feed|submit|query|retrieve`` as a user runs them: subprocesses against ``xds up`` on free ports.

Exit codes: 0 done, 1 the peer refused (XDS code / HL7 AE), 2 usage, 3 peer unreachable; errors are one line.
"""

import json
import os
import subprocess

import pytest
from cli_helpers import XDS, start_xds, stop_xds
from registry_helpers import free_port

DOMAIN = "1.3.6.1.4.1.21367.2005.13.20.1000"


def pid(name: str) -> str:
    return f"{name}^^^&{DOMAIN}&ISO"


@pytest.fixture(scope="module")
def domain(tmp_path_factory):
    """``xds up`` with registry and repository; the PIX port is left closed, so feeds go to the registry."""
    tmp = tmp_path_factory.mktemp("cli")
    env = {
        **os.environ,
        "XDS_DATA_DIR": str(tmp / "data"),
        "XDS_HTTP_PORT": "0",
        "XDS_DICOM_PORT": "0",
        "XDS_REGISTRY_MLLP_PORT": str(free_port()),
        "XDS_PIX_MLLP_PORT": str(free_port()),
        "XDS_ACTORS": "registry,repository",
    }
    proc, url = start_xds(["up"], env)
    env["XDS_HTTP_PORT"] = url.rsplit(":", 1)[1]
    try:
        yield env, tmp
    finally:
        stop_xds(proc)


def xds(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(XDS + list(args), env=env, capture_output=True, text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess, code: int, start: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("xds: " + start), result.stderr


def test_feed_submit_query_retrieve_replace(domain, tmp_path):
    env, _ = domain
    fed = xds(env, "feed", "--pid", pid("CLI-1"), "--pid", "K-4711^^^&1.2.276.0.76.3.1.99&ISO",
              "--name", "DOE^JANE", "--birth", "19700101", "--sex", "F")
    assert fed.returncode == 0, fed.stderr
    assert "accepted" in fed.stdout

    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n% CLI report\n%%EOF\n")
    sent = xds(env, "submit", str(report), "--pid", pid("CLI-1"), "--class", "BEF", "--type", "BILD",
               "--json")
    assert sent.returncode == 0, sent.stderr
    uid = json.loads(sent.stdout)["documents"][0]["unique_id"]

    found = xds(env, "query", "find-documents", "--pid", pid("CLI-1"), "--class", "BEF", "--json")
    assert found.returncode == 0, found.stderr
    entries = json.loads(found.stdout)["document_entries"]
    assert [e["unique_id"] for e in entries] == [uid]
    assert entries[0]["class_code"]["code"] == "BEF" and entries[0]["patient_id"] == pid("CLI-1")
    table = xds(env, "query", "find-documents", "--pid", pid("CLI-1"))
    assert table.returncode == 0 and uid in table.stdout and "uniqueId" in table.stdout

    out = tmp_path / "out"
    got = xds(env, "retrieve", uid, "--out", str(out))
    assert got.returncode == 0, got.stderr
    assert (out / f"{uid}.pdf").read_bytes() == report.read_bytes()

    newer = tmp_path / "report-v2.pdf"
    newer.write_bytes(b"%PDF-1.4\n% corrected\n%%EOF\n")
    replaced = xds(env, "submit", str(newer), "--pid", pid("CLI-1"), "--replace", uid, "--json")
    assert replaced.returncode == 0, replaced.stderr
    new_uid = json.loads(replaced.stdout)["documents"][0]["unique_id"]
    old = json.loads(xds(env, "query", "find-documents", "--pid", pid("CLI-1"), "--status", "deprecated",
                         "--json").stdout)["document_entries"]
    assert [e["unique_id"] for e in old] == [uid]
    related = xds(env, "query", "get-related-documents", "--unique-id", uid, "--association-type", "RPLC",
                  "--json")
    assert {e["unique_id"] for e in json.loads(related.stdout)["document_entries"]} == {uid, new_uid}


def test_feed_merge_and_its_errors(domain):
    env, _ = domain
    for name in ("CLI-2", "CLI-3"):
        assert xds(env, "feed", "--pid", pid(name), "--name", "ROE^RICHARD").returncode == 0
    merged = xds(env, "feed", "--pid", pid("CLI-2"), "--name", "ROE^RICHARD", "--merge", pid("CLI-3"),
                 "--json")
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["event"] == "A40"
    # the registry takes only identifiers of the affinity domain: AE
    one_line_error(xds(env, "feed", "--pid", "L-1^^^&1.2.3.4&ISO", "--name", "X^Y"), 1, "HL7 AE")
    one_line_error(xds(env, "feed", "--pid", "no-authority", "--name", "X^Y"), 2, "patient id")
    closed = f"127.0.0.1:{free_port()}"
    one_line_error(xds(env, "feed", "--pid", pid("CLI-4"), "--name", "X^Y", "--to", closed), 3,
                   "cannot reach")


def test_query_errors(domain):
    env, _ = domain
    nowhere = f"http://127.0.0.1:{free_port()}/xds/registry"
    one_line_error(xds(env, "query", "find-documents", "--pid", pid("CLI-1"), "--registry", nowhere), 3,
                   "XDSRegistryNotAvailable: ")
    one_line_error(xds(env, "query", "find-documents", "--pid", pid("CLI-1"), "--created-from", "yesterday"),
                   2, "$XDSDocumentEntryCreationTimeFrom")
    one_line_error(xds(env, "query", "find-everything", "--pid", pid("CLI-1")), 2, "unknown stored query")
    one_line_error(xds(env, "query", "get-documents", "--pid", pid("CLI-1")), 2,
                   "get-documents takes no --pid")
    one_line_error(xds(env, "query", "find-documents", "--pid", pid("CLI-1"), "--param", "colour=blue"), 2,
                   "FIND_DOCUMENTS: no parameter")
    # a wire value the client passes through unchanged, refused by the registry with its code
    one_line_error(xds(env, "query", "find-documents", "--pid", pid("CLI-1"),
                       "--param", "$XDSDocumentEntryClassCode=('BEF')"), 1, "XDSRegistryError: ")
    one_line_error(xds(env, "query", "get-documents", "--uuid", "urn:uuid:1", "--unique-id", "1.2.3"), 1,
                   "XDSStoredQueryParamNumber: ")


def test_retrieve_and_submit_errors(domain, tmp_path):
    env, _ = domain
    one_line_error(xds(env, "retrieve", "1.2.3.4.5.999", "--out", str(tmp_path / "o")), 1,
                   "XDSDocumentUniqueIdError: ")
    nowhere = f"http://127.0.0.1:{free_port()}/xds/repository"
    one_line_error(xds(env, "retrieve", "1.2.3.4.5.999", "--no-verify", "--repository", nowhere,
                       "--out", str(tmp_path / "o")), 3, "XDSRepositoryNotAvailable: ")
    doc = tmp_path / "a.txt"
    doc.write_text("a")
    one_line_error(xds(env, "submit", str(doc), "--pid", pid("NOBODY")), 1, "XDSUnknownPatientId: ")
    one_line_error(xds(env, "submit", str(tmp_path / "missing.pdf"), "--pid", pid("CLI-1")), 2, "")
    one_line_error(xds(env, "submit", str(doc), "--pid", pid("CLI-1"), "--class", "NOPE"), 2, "classCode")
    one_line_error(xds(env, "submit", str(doc), "--pid", pid("CLI-1"), "--repository", nowhere), 3,
                   "XDSRepositoryNotAvailable: ")

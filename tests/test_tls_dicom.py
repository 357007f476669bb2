"""ATNA node authentication (ITI-19) on DICOM: the Imaging Document Source's listener and its C-MOVE SCU with
mutual TLS (DICOM PS3.15 B.1), against dcmtk built with OpenSSL (storescu, movescu, storescp: +tls, +cf) and
pynetdicom as peers.

A peer with a certificate of the domain's CA gets its association; one without a certificate, with one from
another CA, or with an expired one is refused in the handshake -- before any association -- and nothing is
stored; the listener keeps serving. As C-MOVE SCU the source authenticates the destination the same way.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from imaging_helpers import (
    Study,
    destination,
    free_port,
    imaging_settings,
    need_tool,
    running_source,
    storescu,
    write_study,
)
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelMove, Verification
from tls_helpers import REFUSED, Pki, make_pki

from xds.tls import TlsConfig


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("dicom-pki"), "imaging-source", "pacs")


def dcmtk_tls(who: TlsConfig | None, pki: Pki) -> tuple[str, ...]:
    """dcmtk's TLS options: our key and certificate (or anonymous TLS without one), the CA we trust."""
    if who is None:
        return ("+tla", "+cf", str(pki.node.ca))
    return ("+tls", str(who.key), str(who.cert), "+cf", str(pki.node.ca))


@dataclass
class Served:
    src: object  # imaging_helpers.RunningSource
    study: Study
    good_dest: int  # a DEST storescp port (trusted certificate)
    bad_dest: int  # a ROGUE storescp port (certificate of another CA)
    tmp: Path


@pytest.fixture(scope="module")
def served(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need_tool("storescu")
    tmp = tmp_path_factory.mktemp("tls-dicom")
    study = write_study(tmp / "study", slices=3)
    good, bad = free_port(), free_port()
    settings = imaging_settings(
        f"sqlite:///{tmp / 'db.sqlite'}", tmp / "data",
        destinations=[destination("DEST", good), destination("ROGUE", bad)],
    )
    node = pki.node
    settings = replace(settings, tls_cert=str(node.cert), tls_key=str(node.key), tls_ca=str(node.ca))
    with running_source(settings) as src:
        yield Served(src, study, good, bad, tmp)


def held(served: Served) -> int:
    return len(served.src.store.find_instances(study_uid=served.study.study_uid))


# --- the listener -------------------------------------------------------------------------------------------


def test_dcmtk_storescu_with_a_trusted_certificate_stores(pki: Pki, served: Served) -> None:
    run = storescu(served.src.port, *served.study.files, extra=dcmtk_tls(pki.client, pki))
    assert run.returncode == 0, run.stderr
    assert held(served) == 3


@pytest.mark.parametrize("kind", REFUSED)
def test_dcmtk_storescu_without_a_trusted_certificate_is_refused(pki: Pki, served: Served, kind: str) -> None:
    other = write_study(served.tmp / f"refused-{kind.replace(' ', '-')}", slices=1)
    run = storescu(served.src.port, *other.files, extra=dcmtk_tls(pki.refused(kind), pki))
    assert run.returncode != 0
    assert served.src.store.find_instances(study_uid=other.study_uid) == []


@pytest.mark.parametrize("kind", REFUSED)
def test_pynetdicom_peer_without_a_trusted_certificate_gets_no_association(
    pki: Pki, served: Served, kind: str
) -> None:
    ae = AE(ae_title="INTRUDER")
    ae.add_requested_context(Verification)
    context = pki.client_context(pki.refused(kind))
    port = served.src.port
    assoc = ae.associate("localhost", port, ae_title="XDSI_SOURCE", tls_args=(context, "localhost"))
    assert not assoc.is_established
    # the listener still serves a trusted peer
    echo(pki.client.client_context(), served.src.port)


def echo(context: ssl.SSLContext, port: int) -> None:
    ae = AE(ae_title="PACS")
    ae.add_requested_context(Verification)
    assoc = ae.associate("localhost", port, ae_title="XDSI_SOURCE", tls_args=(context, "localhost"))
    assert assoc.is_established
    try:
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


def test_plain_tcp_to_the_tls_port_gets_no_association(served: Served) -> None:
    ae = AE(ae_title="PLAIN")
    ae.add_requested_context(CTImageStorage)
    ae.acse_timeout = ae.network_timeout = 5
    assoc = ae.associate("127.0.0.1", served.src.port, ae_title="XDSI_SOURCE")
    assert not assoc.is_established


def test_a_silent_peer_does_not_hold_up_the_others(pki: Pki, served: Served) -> None:
    # the handshake runs in the connection's thread: a peer that connects and says nothing waits alone
    with socket.create_connection(("127.0.0.1", served.src.port)):
        echo(pki.client.client_context(), served.src.port)


# --- the source as C-MOVE SCU ---------------------------------------------------------------------------


def move(served: Served, pki: Pki, dest: str) -> list[int]:
    """C-MOVE of the study to ``dest`` over TLS (dcmtk's movescu has none: pynetdicom asks); the statuses."""
    ae = AE(ae_title="PACS")
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    tls = (pki.client.client_context(), "localhost")
    assoc = ae.associate("localhost", served.src.port, ae_title="XDSI_SOURCE", tls_args=tls)
    assert assoc.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = served.study.study_uid
    try:
        answers = assoc.send_c_move(query, dest, StudyRootQueryRetrieveInformationModelMove)
        return [int(status.Status) for status, _ in answers if status]
    finally:
        assoc.release()


def stored_by_trusted_peer(served: Served, pki: Pki) -> None:
    if held(served) < 3:
        run = storescu(served.src.port, *served.study.files, extra=dcmtk_tls(pki.client, pki))
        assert run.returncode == 0, run.stderr


@contextmanager
def tls_storescp(folder: Path, ae: str, port: int, who: TlsConfig, pki: Pki) -> Iterator[None]:
    """dcmtk storescp with TLS and ``who``'s certificate, receiving into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    args = ["-aet", ae, "+tls", str(who.key), str(who.cert), "+cf", str(pki.node.ca), "-od", str(folder)]
    process = subprocess.Popen([str(need_tool("storescp")), *args, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert process.poll() is None and time.monotonic() < deadline, "storescp did not start"
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_cmove_to_a_trusted_tls_destination(pki: Pki, served: Served) -> None:
    stored_by_trusted_peer(served, pki)
    received = served.tmp / "moved"
    with tls_storescp(received, "DEST", served.good_dest, pki.client, pki):
        statuses = move(served, pki, "DEST")
    assert statuses[-1] == 0x0000
    assert len([p for p in received.iterdir() if p.is_file()]) == 3


def test_cmove_to_a_destination_with_an_untrusted_certificate_sends_nothing(pki: Pki, served: Served) -> None:
    stored_by_trusted_peer(served, pki)
    received = served.tmp / "rogue"
    with tls_storescp(received, "ROGUE", served.bad_dest, pki.untrusted, pki):
        statuses = move(served, pki, "ROGUE")
    # PS3.4 C.4.2.3.1 / pynetdicom: no sub-association with the destination -> A801 refused
    assert statuses[-1] == 0xA801
    assert [p for p in received.iterdir() if p.is_file()] == []

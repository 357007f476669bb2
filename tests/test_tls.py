"""ATNA node authentication (ITI-19): mutual TLS on HTTPS (a real ``xds serve registry``) and on MLLP.

A peer with a certificate of the domain's CA gets through; one without a certificate, with one from another
CA, or with an expired one is refused in the handshake, and the listener keeps serving.
"""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import XDS, start_xds, stop_xds, xds_env
from registry_helpers import adt, free_port
from repository_helpers import pnr
from sample_data import PATIENT_ID
from tls_helpers import REFUSED, Pki, ThreadedMllp, make_pki

from xds.config import Settings
from xds.ebrim import (
    adhoc_query_request_to_ebrim,
    adhoc_query_response_from_ebrim,
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
)
from xds.mllp import MllpClient, MllpError
from xds.model import AdhocQueryRequest, QueryParameter
from xds.soap import SoapClient
from xds.tls import TLS12_CIPHERS, TlsConfig
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus, Status, StoredQuery


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), "registry", "consumer")


# --- HTTPS: the real command --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def https_registry(domain: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tls = {"XDS_TLS_CERT": str(domain.node.cert), "XDS_TLS_KEY": str(domain.node.key),
           "XDS_TLS_CA": str(domain.node.ca)}
    env = {**xds_env(tmp_path_factory.mktemp("https")), **tls}
    proc, url = start_xds(["serve", "registry"], env, tls=domain.client.client_context())
    yield url
    stop_xds(proc)


def find_documents() -> AdhocQueryRequest:
    return AdhocQueryRequest(
        query_id=StoredQuery.FIND_DOCUMENTS,
        parameters=(
            QueryParameter("$XDSDocumentEntryPatientId", ("'nobody^^^&1.2.3&ISO'",)),
            QueryParameter("$XDSDocumentEntryStatus", (f"('{Status.APPROVED}')",)),
        ),
    )


def test_https_with_a_trusted_certificate(domain: Pki, https_registry: str) -> None:
    assert https_registry.startswith("https://")
    with SoapClient(tls=domain.client.client_context()) as client:
        reply = client.call(https_registry + "/xds/registry", Transaction.ITI_18,
                            adhoc_query_request_to_ebrim(find_documents()))
    assert adhoc_query_response_from_ebrim(reply.body).status == ResponseStatus.SUCCESS


@pytest.mark.parametrize("kind", REFUSED)
def test_https_refuses_before_any_application_data(domain: Pki, https_registry: str, kind: str) -> None:
    context = domain.client_context(domain.refused(kind))
    with pytest.raises(httpx.TransportError):
        httpx.get(https_registry + "/health", verify=context, timeout=5)
    # the listener is still there for trusted peers
    assert httpx.get(https_registry + "/health", verify=domain.client.client_context()).status_code == 200


def test_plain_http_gets_no_answer_on_the_tls_port(https_registry: str) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(https_registry.replace("https://", "http://") + "/health", timeout=5)


def test_partial_tls_settings_are_refused(domain: Pki, tmp_path: Path) -> None:
    env = {**xds_env(tmp_path), "XDS_TLS_CERT": str(domain.node.cert)}
    result = subprocess.run(XDS + ["serve", "registry"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "tls_" in result.stderr


# --- MLLP -------------------------------------------------------------------------------------------------


async def _echo(message: bytes, _peer: str | None) -> bytes:
    return message


@pytest.fixture(scope="module")
def mllp(domain: Pki) -> Iterator[ThreadedMllp]:
    """An MllpServer with the node's TLS context, answering with an echo."""
    with ThreadedMllp(_echo, domain.node.server_context()) as listener:
        yield listener


def test_mllp_over_tls_with_a_trusted_certificate(domain: Pki, mllp: ThreadedMllp) -> None:
    message = adt("A01", "4711^^^&1.2.3&ISO")
    with MllpClient("localhost", mllp.server.port, ssl=domain.client.client_context(), timeout=10) as client:
        assert client.send(message) == message
        assert client.send(message) == message  # many messages per connection


@pytest.mark.parametrize("kind", REFUSED)
def test_mllp_refuses_peers_without_a_trusted_certificate(
    domain: Pki, mllp: ThreadedMllp, kind: str
) -> None:
    context = domain.client_context(domain.refused(kind))
    client = MllpClient("localhost", mllp.server.port, ssl=context, timeout=10)
    # TLS 1.3: the server's verdict on the client certificate arrives with the first read
    with pytest.raises((ssl.SSLError, MllpError, ConnectionError)):
        client.send(adt("A01", "4711^^^&1.2.3&ISO"))
    client.close()
    with MllpClient("localhost", mllp.server.port, ssl=domain.client.client_context(), timeout=10) as client:
        assert client.send(b"MSH|^~\\&|A") == b"MSH|^~\\&|A"


def test_mllp_plain_tcp_to_a_tls_listener_gets_no_reply(mllp: ThreadedMllp) -> None:
    with pytest.raises((MllpError, ConnectionError, TimeoutError)):
        MllpClient("localhost", mllp.server.port, timeout=5).send(adt("A01", "4711^^^&1.2.3&ISO"))


def test_contexts_speak_tls12_or_newer_with_the_bsi_suites(domain: Pki) -> None:
    for context in (domain.node.server_context(), domain.node.client_context()):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED
        tls12 = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
        assert tls12 and tls12 <= set(TLS12_CIPHERS.split(":"))


def test_settings_without_tls_give_no_context() -> None:
    assert TlsConfig.from_settings(Settings()) is None


# --- a whole domain over TLS --------------------------------------------------------------------------


def test_a_tls_domain_feeds_registers_and_forwards_among_its_actors(domain: Pki, tmp_path: Path) -> None:
    registry_mllp, pix_mllp = free_port(), free_port()
    env = {
        **xds_env(tmp_path),
        "XDS_TLS_CERT": str(domain.node.cert),
        "XDS_TLS_KEY": str(domain.node.key),
        "XDS_TLS_CA": str(domain.node.ca),
        "XDS_ACTORS": "registry,repository,pix",
        "XDS_REGISTRY_MLLP_PORT": str(registry_mllp),
        "XDS_PIX_MLLP_PORT": str(pix_mllp),
    }
    client_tls = domain.client.client_context()
    proc, url = start_xds(["up"], env, tls=client_tls)
    try:
        # ITI-8 to the PIX Manager over TLS; its Patient Identity Source feeds the registry over TLS too
        with MllpClient("localhost", pix_mllp, ssl=client_tls, timeout=10) as mllp:
            assert b"MSA|AA" in mllp.send(adt("A01", PATIENT_ID))
        # ITI-41 over TLS; the repository forwards ITI-42 to the registry over TLS with its own certificate
        body, parts = pnr_to_ebrim_with_parts(pnr("88", b"report"), xop=True)
        deadline = time.monotonic() + 30
        with SoapClient(tls=client_tls) as client:
            while True:
                reply = client.call(url + "/xds/repository", Transaction.ITI_41, body, parts)
                response = registry_response_from_ebrim(reply.body)
                if response.status == ResponseStatus.SUCCESS or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # the feed may not have reached the registry yet
                body, parts = pnr_to_ebrim_with_parts(pnr("88", b"report"), xop=True)
        assert response.status == ResponseStatus.SUCCESS, response.errors
    finally:
        stop_xds(proc)

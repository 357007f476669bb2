"""SoapClient and AsyncSoapClient against the real test server: plain calls, faults, transport errors,
and MTOM both ways (a 30 MB attachment streamed up, checked by SHA-1 on the server)."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from lxml import etree
from soap_helpers import FAILURE, NS_TEST, SOAP_CT, Server, T, envelope, running_server

from xds.errors import SoapFault, SoapFaultCode
from xds.model.attachment import Attachment
from xds.soap import AsyncSoapClient, SoapClient, TransportError
from xds.transactions import Transaction
from xds.vocabulary import NS_RS, NS_WSA, NS_XOP


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("soap-client") / "spool") as srv:
        yield srv


@pytest.fixture
def client(tmp_path: Path) -> Iterator[SoapClient]:
    with SoapClient(spool_dir=tmp_path / "client-spool", memory_threshold=64 << 10) as soap_client:
        yield soap_client


@pytest.fixture(autouse=True)
def spool_is_emptied(server: Server) -> Iterator[None]:
    yield
    assert server.wait_spool_empty() == []


def ping() -> etree._Element:
    return etree.Element(T + "Ping", nsmap={"t": NS_TEST})


def documents(attachments: list[Attachment]) -> etree._Element:
    root = etree.Element(T + "Docs", nsmap={"t": NS_TEST, "xop": NS_XOP})
    for attachment in attachments:
        document = etree.SubElement(root, T + "Document", sha1=attachment.sha1)
        etree.SubElement(document, f"{{{NS_XOP}}}Include", href=f"cid:{attachment.content_id}")
    return root


def big_file(path: Path, size: int) -> Attachment:
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB, not all one byte
    with path.open("wb") as fh:
        left = size
        while left:
            fh.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    attachment = Attachment.from_file(path)
    return Attachment(attachment.size, attachment.sha1, path=path, content_id=f"{path.name}@client")


def test_plain_call_echoes_and_relates(client: SoapClient, server: Server) -> None:
    reply = client.call(server.registry, Transaction.ITI_18, ping())
    assert reply.status_code == 200
    assert reply.action == "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    assert reply.body.tag == T + "Echo"
    assert reply.body.get("mtom") == "false"
    assert reply.relates_to == reply.body.get("messageId") and reply.relates_to.startswith("urn:uuid:")
    # nothing spooled, not even a folder made, for a plain reply
    assert not client.spool_dir.exists() or list(client.spool_dir.iterdir()) == []


def test_xds_error_reply_is_a_registry_response(client: SoapClient, server: Server) -> None:
    reply = client.call(server.registry, Transaction.ITI_42, ping())
    assert reply.status_code == 200
    assert reply.body.tag == f"{{{NS_RS}}}RegistryResponse" and reply.body.get("status") == FAILURE


def test_fault_reply_raises_soap_fault(client: SoapClient, server: Server) -> None:
    # ITI-43 is served by the repository path only: the registry answers ActionNotSupported
    with pytest.raises(SoapFault) as info:
        client.call(server.registry, Transaction.ITI_43, ping(), mtom=False)
    assert info.value.code == SoapFaultCode.SENDER
    assert info.value.subcode == f"{{{NS_WSA}}}ActionNotSupported"
    assert info.value.http_status == 400


def test_receiver_fault_raises_soap_fault(client: SoapClient, server: Server) -> None:
    with pytest.raises(SoapFault) as info:
        client.call(server.registry, Transaction.RAD_69, ping(), mtom=False)
    assert info.value.code == SoapFaultCode.RECEIVER and info.value.http_status == 500


def test_connection_refused_is_transport_error(client: SoapClient) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError):
        client.call(f"http://127.0.0.1:{port}/xds/registry", Transaction.ITI_18, ping())


def test_non_soap_reply_is_transport_error(client: SoapClient, server: Server) -> None:
    with pytest.raises(TransportError):
        client.call(server.base_url + "/health", Transaction.ITI_18, ping())


def test_mtom_request_without_attachments(client: SoapClient, server: Server) -> None:
    reply = client.call(server.registry, Transaction.ITI_18, ping(), mtom=True)
    assert reply.body.get("mtom") == "true"


def test_30_mb_mtom_round_trip(client: SoapClient, server: Server, tmp_path: Path) -> None:
    attachment = big_file(tmp_path / "doc1", 30 << 20)
    small = Attachment.from_bytes(b"small part", "text/plain")
    small = Attachment(small.size, small.sha1, "text/plain", data=small.data, content_id="small@client")
    reply = client.call(
        server.repository, Transaction.ITI_41, documents([attachment, small]), [attachment, small]
    )
    assert reply.status_code == 200
    checked = reply.body.findall(T + "Document")
    assert [d.get("ok") for d in checked] == ["true", "true"]
    assert [d.get("size") for d in checked] == [str(30 << 20), str(small.size)]
    assert checked[0].get("spooled") == "True"


def test_mtom_download_is_spooled(client: SoapClient, server: Server, tmp_path: Path) -> None:
    want = etree.Element(T + "Want", nsmap={"t": NS_TEST}, size=str(5 << 20), dir=str(tmp_path))
    reply = client.call(server.repository, Transaction.ITI_43, want)
    try:
        href = reply.body.find(f"{T}Document/{{{NS_XOP}}}Include").get("href")
        attachment = reply.attachments[href.removeprefix("cid:")]
        assert attachment.size == 5 << 20 and attachment.path is not None
        assert attachment.sha1 == reply.body.find(T + "Document").get("sha1")
        assert Attachment.from_file(attachment.path).sha1 == attachment.sha1
    finally:
        reply.discard()
    assert reply.spool is not None and not reply.spool.exists()


def test_attachment_without_content_id_is_refused(client: SoapClient, server: Server) -> None:
    with pytest.raises(ValueError):
        client.call(server.repository, Transaction.ITI_41, ping(), [Attachment.from_bytes(b"x")])


def test_async_client_mtom_round_trip(server: Server, tmp_path: Path) -> None:
    attachment = big_file(tmp_path / "doc2", 3 << 20)

    async def main() -> None:
        async with AsyncSoapClient(spool_dir=tmp_path / "spool") as soap_client:
            reply = await soap_client.call(
                server.repository, Transaction.ITI_41, documents([attachment]), [attachment]
            )
            assert [d.get("ok") for d in reply.body.findall(T + "Document")] == ["true"]
            plain = await soap_client.call(server.registry, Transaction.ITI_18, ping())
            assert plain.body.tag == T + "Echo"
            with pytest.raises(SoapFault) as info:
                await soap_client.call(server.registry, Transaction.ITI_43, ping(), mtom=False)
            assert info.value.subcode == f"{{{NS_WSA}}}ActionNotSupported"

    anyio.run(main)


def test_server_still_answers_raw_after_client_calls(server: Server) -> None:
    import httpx

    reply = httpx.post(server.registry, content=envelope(), headers={"content-type": SOAP_CT})
    assert reply.status_code == 200

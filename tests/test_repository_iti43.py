"""ITI-43 Retrieve Document Set over HTTP (ITI TF-2b 3.43): several documents streamed back as MTOM parts,
unknown documents and other repositories reported per request with Success / PartialSuccess / Failure,
homeCommunityId passed through, zeep reading the response from the served WSDL; two repositories with
their own repositoryUniqueIds sharing one registry; the repository's schema is what its migration makes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from lxml import etree
from registry_helpers import running_registry
from repository_helpers import (
    OTHER_REPOSITORY_ID,
    REPOSITORY_ID,
    Domain,
    doc_unique_id,
    pnr,
    running_domain,
    running_repository,
)

from registry.tables import DOCUMENT_ENTRY
from repository import metadata
from xds.ebrim import retrieve_response_from_ebrim
from xds.errors import ErrorCode
from xds.model import DocumentRequest
from xds.vocabulary import NS_XDSB, ResponseStatus

FIRST, SECOND = b"%PDF-1.4\n% first\n%%EOF\n", b"second document\n"
HOME = "urn:oid:1.2.276.0.7230010.3.1.77"


@pytest.fixture
def domain(database_url: str, tmp_path: Path) -> Iterator[Domain]:
    with running_domain(database_url, tmp_path) as running:
        response = running.repository.provide(pnr("1", FIRST, SECOND, mime_type="application/pdf"))
        assert response.status == ResponseStatus.SUCCESS
        yield running


def test_schema_matches_the_tables(domain: Domain) -> None:
    with domain.repository.store.engine.connect() as conn:
        opts = {"compare_type": True, "version_table": "repository_alembic_version"}
        context = MigrationContext.configure(conn, opts=opts)
        ours = [d for d in compare_metadata(context, metadata) if not _other_actor(d)]
        assert ours == []


def _other_actor(diff: object) -> bool:
    """The registry's tables share the database; only differences in the repository's table count."""
    return (
        isinstance(diff, tuple)
        and diff[0] == "remove_table"
        and diff[1].name != "document_blob"
        or (isinstance(diff, tuple) and diff[0] == "remove_index" and diff[1].table.name != "document_blob")
    )


def test_two_documents(domain: Domain) -> None:
    response = domain.repository.retrieve(doc_unique_id("1", 1), doc_unique_id("1", 2))
    assert response.response.status == ResponseStatus.SUCCESS and response.response.errors == ()
    assert [d.content.read() for d in response.documents] == [FIRST, SECOND]
    assert {d.mime_type for d in response.documents} == {"application/pdf"}
    assert {d.repository_unique_id for d in response.documents} == {REPOSITORY_ID}


def test_unknown_document_next_to_a_known_one_is_partial_success(domain: Domain) -> None:
    unknown = doc_unique_id("404")
    response = domain.repository.retrieve(doc_unique_id("1", 2), unknown)
    assert response.response.status == ResponseStatus.PARTIAL_SUCCESS
    assert [(e.code, e.location) for e in response.response.errors] == [
        (ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, unknown)
    ]
    assert [d.content.read() for d in response.documents] == [SECOND]


def test_only_unknown_documents_is_failure(domain: Domain) -> None:
    response = domain.repository.retrieve(doc_unique_id("404"), doc_unique_id("405"))
    assert response.response.status == ResponseStatus.FAILURE
    assert [e.code for e in response.response.errors] == [ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR] * 2
    assert response.documents == ()


def test_other_repository_is_unknown_repository_id(domain: Domain) -> None:
    repository = domain.repository
    reply = repository.retrieve_reply(
        DocumentRequest(OTHER_REPOSITORY_ID, doc_unique_id("1", 1)),
        DocumentRequest(REPOSITORY_ID, doc_unique_id("1", 1)),
    )
    try:
        response = retrieve_response_from_ebrim(reply.body, reply.attachments)
        assert response.response.status == ResponseStatus.PARTIAL_SUCCESS
        assert [e.code for e in response.response.errors] == [ErrorCode.XDS_UNKNOWN_REPOSITORY_ID]
        assert [d.content.read() for d in response.documents] == [FIRST]
    finally:
        reply.discard()
    reply = repository.retrieve_reply(DocumentRequest(OTHER_REPOSITORY_ID, doc_unique_id("1", 1)))
    response = retrieve_response_from_ebrim(reply.body, reply.attachments)
    assert response.response.status == ResponseStatus.FAILURE
    assert [e.code for e in response.response.errors] == [ErrorCode.XDS_UNKNOWN_REPOSITORY_ID]


def test_home_community_id_is_passed_through(domain: Domain) -> None:
    reply = domain.repository.retrieve_reply(
        DocumentRequest(REPOSITORY_ID, doc_unique_id("1", 1), home_community_id=HOME),
        DocumentRequest(REPOSITORY_ID, doc_unique_id("1", 2)),
    )
    try:
        response = retrieve_response_from_ebrim(reply.body, reply.attachments)
        assert [d.home_community_id for d in response.documents] == [HOME, None]
    finally:
        reply.discard()


class Received(zeep.Plugin):
    """Keeps the envelope zeep parsed (after zeep replaced each xop:Include by its MIME part, base64)."""

    envelope: etree._Element | None = None

    def ingress(self, envelope, http_headers, operation):  # noqa: ANN001, ANN201 - zeep's signature
        self.envelope = envelope
        return envelope, http_headers


def test_zeep_reads_the_response(domain: Domain) -> None:
    received = Received()
    client = zeep.Client(domain.repository.url + "?wsdl", plugins=[received])
    result = client.service.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[
            {"RepositoryUniqueId": REPOSITORY_ID, "DocumentUniqueId": doc_unique_id("1", 1)},
            {"RepositoryUniqueId": REPOSITORY_ID, "DocumentUniqueId": doc_unique_id("404")},
        ]
    )
    assert result.RegistryResponse.status == ResponseStatus.PARTIAL_SUCCESS
    errors = result.RegistryResponse.RegistryErrorList.RegistryError
    assert [e.errorCode for e in errors] == [ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR]
    (document,) = result.DocumentResponse
    assert document.DocumentUniqueId == doc_unique_id("1", 1)
    assert document.mimeType == "application/pdf"
    # schemas/xsd/xdsb.xsd declares Document as mixed content (text or xop:Include), which zeep does not
    # bind to a value; the bytes are read from the envelope zeep built out of the MTOM package
    assert received.envelope is not None
    (content,) = received.envelope.iter(f"{{{NS_XDSB}}}Document")
    # (zeep strips CR/LF at both ends of a binary part: zeep/wsdl/attachments.py, Attachment.content)
    assert base64.b64decode(content.text or "") == FIRST.strip(b"\r\n")


def test_two_repositories_share_one_registry(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path / "registry") as registry:
        registry.add_patient()
        with (
            running_repository(database_url, tmp_path / "a", registry.url) as first,
            running_repository(
                database_url, tmp_path / "b", registry.url, repository_unique_id=OTHER_REPOSITORY_ID
            ) as second,
        ):
            assert first.provide(pnr("21", FIRST)).status == ResponseStatus.SUCCESS
            assert second.provide(pnr("22", SECOND)).status == ResponseStatus.SUCCESS
            rows = [registry.rows_by_unique_id(DOCUMENT_ENTRY, doc_unique_id(t))[0] for t in ("21", "22")]
            assert [r.repository_unique_id for r in rows] == [REPOSITORY_ID, OTHER_REPOSITORY_ID]
            # each serves its own documents only, though both keep them in one database
            assert [d.content.read() for d in first.retrieve(doc_unique_id("21")).documents] == [FIRST]
            assert [d.content.read() for d in second.retrieve(doc_unique_id("22")).documents] == [SECOND]
            assert first.retrieve(doc_unique_id("22")).response.status == ResponseStatus.FAILURE
            reply = first.retrieve_reply(DocumentRequest(OTHER_REPOSITORY_ID, doc_unique_id("22")))
            response = retrieve_response_from_ebrim(reply.body, reply.attachments)
            assert [e.code for e in response.response.errors] == [ErrorCode.XDS_UNKNOWN_REPOSITORY_ID]

"""ITI-43 xdsb:RetrieveDocumentSetRequest / Response (ITI TF-2b 3.43.4.1.2, 3.43.4.2.2) and RAD-69
xdsi:RetrieveImagingDocumentSetRequest (RAD TF-3 4.69.4.1.2; its response is the ITI-43 one)."""

from __future__ import annotations

from collections.abc import Mapping

from lxml.etree import _Element

from xds.ebrim.registry_response import registry_response_from_ebrim, registry_response_to_ebrim
from xds.ebrim.xml import children, finish, metadata_error, new_root, rs, sub, xdsb, xdsi
from xds.ebrim.xop import read_content, write_content
from xds.model import (
    Attachment,
    DocumentRequest,
    RetrievedDocument,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
    RetrieveImagingDocumentSetRequest,
    SeriesRequest,
    StudyRequest,
)


def _text(el: _Element, local: str, what: str, *, required: bool = True) -> str | None:
    found = children(el, xdsb(local))
    if len(found) > 1:
        raise metadata_error(f"{what}: {local} appears {len(found)} times")
    if not found:
        if required:
            # XDS.b_DocumentRepository.xsd: RepositoryUniqueId, DocumentUniqueId (and mimeType) are required
            raise metadata_error(f"{what}: {local} is missing")
        return None
    return (found[0].text or "").strip()


def _document_request_into(parent: _Element, d: DocumentRequest) -> None:
    el = sub(parent, xdsb("DocumentRequest"))
    if d.home_community_id is not None:
        sub(el, xdsb("HomeCommunityId"), text=d.home_community_id)
    sub(el, xdsb("RepositoryUniqueId"), text=d.repository_unique_id)
    sub(el, xdsb("DocumentUniqueId"), text=d.document_unique_id)


def _document_requests(parent: _Element) -> tuple[DocumentRequest, ...]:
    out = []
    for el in children(parent, xdsb("DocumentRequest")):
        out.append(
            DocumentRequest(
                repository_unique_id=_text(el, "RepositoryUniqueId", "DocumentRequest") or "",
                document_unique_id=_text(el, "DocumentUniqueId", "DocumentRequest") or "",
                home_community_id=_text(el, "HomeCommunityId", "DocumentRequest", required=False),
            )
        )
    return tuple(out)


def retrieve_request_to_ebrim(r: RetrieveDocumentSetRequest) -> _Element:
    el = new_root(xdsb("RetrieveDocumentSetRequest"), "xdsb")
    for d in r.documents:
        _document_request_into(el, d)
    return el


def retrieve_request_from_ebrim(el: _Element) -> RetrieveDocumentSetRequest:
    if el.tag != xdsb("RetrieveDocumentSetRequest"):
        raise metadata_error(f"expected xdsb:RetrieveDocumentSetRequest, got {el.tag}")
    return RetrieveDocumentSetRequest(_document_requests(el))


def retrieve_response_to_ebrim(
    resp: RetrieveDocumentSetResponse, *, xop: bool = True
) -> tuple[_Element, list[Attachment]]:
    """The response element and the attachments to send as MIME parts (ITI TF-2b 3.43.4.2.2: MTOM/XOP)."""
    el = new_root(xdsb("RetrieveDocumentSetResponse"), "xdsb", "rs", *(("xop",) if xop else ()))
    el.append(registry_response_to_ebrim(resp.response))
    parts: list[Attachment] = []
    for d in resp.documents:
        dr = sub(el, xdsb("DocumentResponse"))
        if d.home_community_id is not None:
            sub(dr, xdsb("HomeCommunityId"), text=d.home_community_id)
        sub(dr, xdsb("RepositoryUniqueId"), text=d.repository_unique_id)
        sub(dr, xdsb("DocumentUniqueId"), text=d.document_unique_id)
        if d.new_repository_unique_id is not None:
            sub(dr, xdsb("NewRepositoryUniqueId"), text=d.new_repository_unique_id)
        if d.new_document_unique_id is not None:
            sub(dr, xdsb("NewDocumentUniqueId"), text=d.new_document_unique_id)
        sub(dr, xdsb("mimeType"), text=d.mime_type)
        sent = write_content(sub(dr, xdsb("Document")), d.content, use_xop=xop)
        if xop:
            parts.append(sent)
    return finish(el), parts


def retrieve_response_from_ebrim(
    el: _Element, attachments: Mapping[str, Attachment]
) -> RetrieveDocumentSetResponse:
    if el.tag != xdsb("RetrieveDocumentSetResponse"):
        raise metadata_error(f"expected xdsb:RetrieveDocumentSetResponse, got {el.tag}")
    responses = children(el, rs("RegistryResponse"))
    if len(responses) != 1:
        raise metadata_error("RetrieveDocumentSetResponse must hold one rs:RegistryResponse")
    docs = []
    for dr in children(el, xdsb("DocumentResponse")):
        what = "DocumentResponse"
        contents = children(dr, xdsb("Document"))
        if len(contents) != 1:
            raise metadata_error(f"{what}: holds {len(contents)} Document elements, not one")
        docs.append(
            RetrievedDocument(
                repository_unique_id=_text(dr, "RepositoryUniqueId", what) or "",
                document_unique_id=_text(dr, "DocumentUniqueId", what) or "",
                mime_type=_text(dr, "mimeType", what) or "",
                content=read_content(contents[0], attachments, what),
                home_community_id=_text(dr, "HomeCommunityId", what, required=False),
                new_repository_unique_id=_text(dr, "NewRepositoryUniqueId", what, required=False),
                new_document_unique_id=_text(dr, "NewDocumentUniqueId", what, required=False),
            )
        )
    return RetrieveDocumentSetResponse(registry_response_from_ebrim(responses[0]), tuple(docs))


def imaging_retrieve_request_to_ebrim(r: RetrieveImagingDocumentSetRequest) -> _Element:
    el = new_root(xdsi("RetrieveImagingDocumentSetRequest"), "xdsi", "xdsb")
    for study in r.studies:
        st = sub(el, xdsi("StudyRequest"), {"studyInstanceUID": study.study_instance_uid})
        for series in study.series:
            se = sub(st, xdsi("SeriesRequest"), {"seriesInstanceUID": series.series_instance_uid})
            for d in series.documents:
                _document_request_into(se, d)
    tsl = sub(el, xdsi("TransferSyntaxUIDList"))
    for uid in r.transfer_syntax_uids:
        sub(tsl, xdsi("TransferSyntaxUID"), text=uid)
    return el


def imaging_retrieve_request_from_ebrim(el: _Element) -> RetrieveImagingDocumentSetRequest:
    if el.tag != xdsi("RetrieveImagingDocumentSetRequest"):
        raise metadata_error(f"expected xdsi:RetrieveImagingDocumentSetRequest, got {el.tag}")
    studies = []
    for st in children(el, xdsi("StudyRequest")):
        series = tuple(
            # RAD TF-3 4.69.4.1.2: empty UIDs are an error the Imaging Document Source reports, not ours
            SeriesRequest(se.get("seriesInstanceUID") or "", _document_requests(se))
            for se in children(st, xdsi("SeriesRequest"))
        )
        studies.append(StudyRequest(st.get("studyInstanceUID") or "", series))
    uids = tuple(
        (u.text or "").strip()
        for tsl in children(el, xdsi("TransferSyntaxUIDList"))
        for u in children(tsl, xdsi("TransferSyntaxUID"))
    )
    return RetrieveImagingDocumentSetRequest(tuple(studies), uids)

"""ITI-42 lcm:SubmitObjectsRequest (ITI TF-2b 3.42.4.1.2) and ITI-41 / RAD-68
xdsb:ProvideAndRegisterDocumentSetRequest (ITI TF-2b 3.41.4.1.2)."""

from __future__ import annotations

from collections.abc import Mapping

from lxml.etree import _Element

from xds.ebrim.object_list import (
    RegistryObjects,
    registry_object_list_from_ebrim,
    registry_object_list_to_ebrim,
)
from xds.ebrim.xml import children, finish, lcm, metadata_error, new_root, require_id, rim, sub, xdsb
from xds.ebrim.xop import read_content, write_content
from xds.model import Attachment, Document, ProvideAndRegisterRequest, Submission


def _submit_objects(s: Submission) -> _Element:
    el = new_root(lcm("SubmitObjectsRequest"), "lcm", "rim")
    el.append(
        registry_object_list_to_ebrim(
            RegistryObjects(s.submission_sets, s.document_entries, s.folders, s.associations, s.object_refs)
        )
    )
    return el


def submit_objects_to_ebrim(s: Submission) -> _Element:
    return finish(_submit_objects(s))


def submit_objects_from_ebrim(el: _Element) -> Submission:
    if el.tag != lcm("SubmitObjectsRequest"):
        raise metadata_error(f"expected lcm:SubmitObjectsRequest, got {el.tag}")
    lists = children(el, rim("RegistryObjectList"))
    if len(lists) > 1:
        raise metadata_error("SubmitObjectsRequest holds more than one RegistryObjectList")
    objs = registry_object_list_from_ebrim(lists[0] if lists else None)
    return Submission(
        objs.submission_sets, objs.document_entries, objs.folders, objs.associations, objs.object_refs
    )


def pnr_to_ebrim_with_parts(
    r: ProvideAndRegisterRequest, *, xop: bool = True
) -> tuple[_Element, list[Attachment]]:
    """The request element and, with ``xop``, the attachments to send as MIME parts, in document order,
    each with the Content-ID its xop:Include names (assigned when the attachment had none)."""
    prefixes = ("xdsb", "lcm", "rim", "xop") if xop else ("xdsb", "lcm", "rim")
    el = new_root(xdsb("ProvideAndRegisterDocumentSetRequest"), *prefixes)
    el.append(_submit_objects(r.submission))
    parts: list[Attachment] = []
    for doc in r.documents:
        # ITI TF-2b 3.41.4.1.2: xdsb:Document/@id = the id of the ExtrinsicObject it belongs to
        doc_el = sub(el, xdsb("Document"), {"id": doc.id})
        sent = write_content(doc_el, doc.content, use_xop=xop)
        if xop:
            parts.append(sent)
    return finish(el), parts


def pnr_to_ebrim(r: ProvideAndRegisterRequest, *, xop: bool = True) -> _Element:
    return pnr_to_ebrim_with_parts(r, xop=xop)[0]


def pnr_from_ebrim(el: _Element, attachments: Mapping[str, Attachment]) -> ProvideAndRegisterRequest:
    """``attachments`` maps Content-ID (no angle brackets) to the MIME parts received with the message."""
    if el.tag != xdsb("ProvideAndRegisterDocumentSetRequest"):
        raise metadata_error(f"expected xdsb:ProvideAndRegisterDocumentSetRequest, got {el.tag}")
    requests = children(el, lcm("SubmitObjectsRequest"))
    if len(requests) != 1:
        raise metadata_error("ProvideAndRegisterDocumentSetRequest must hold one SubmitObjectsRequest")
    documents = tuple(
        Document(require_id(d, "xdsb:Document"), read_content(d, attachments, f"Document {d.get('id')}"))
        for d in children(el, xdsb("Document"))
    )
    return ProvideAndRegisterRequest(submit_objects_from_ebrim(requests[0]), documents)

"""model -> ebRIM -> model is the identity for every class (hypothesis-generated models)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from xds import ebrim
from xds.errors import ErrorCode, RegistryError
from xds.hl7v2 import CX, XCN, XON, XTN
from xds.model import (
    AdhocQueryRequest,
    AdhocQueryResponse,
    Association,
    Attachment,
    Author,
    Code,
    Document,
    DocumentEntry,
    DocumentRequest,
    ExtraSlot,
    Folder,
    ObjectRef,
    ProvideAndRegisterRequest,
    QueryParameter,
    RegistryResponse,
    RetrievedDocument,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
    RetrieveImagingDocumentSetRequest,
    SeriesRequest,
    StudyRequest,
    Submission,
    SubmissionSet,
)
from xds.vocabulary import (
    DOCUMENT_ENTRY_OBJECT_TYPES,
    AssociationType,
    ResponseStatus,
    Severity,
    Status,
)

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
nonempty = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
opt = st.none() | text
hl7_text = st.from_regex(r"[A-Za-z0-9.Üü ]{0,6}(\^[A-Za-z0-9.&]{0,6}){0,6}", fullmatch=True)
cx = st.builds(CX.parse, hl7_text)
xcn = st.builds(XCN.parse, hl7_text)
xon = st.builds(XON.parse, hl7_text)
xtn = st.builds(XTN.parse, hl7_text)
code = st.builds(Code, text, text, text)
codes = st.lists(code, max_size=3).map(tuple)
extra = st.lists(
    st.builds(
        ExtraSlot,
        nonempty.map(lambda s: "urn:x:" + s),
        st.lists(text, max_size=3).map(tuple),
        st.none() | nonempty,
    ),
    max_size=3,
).map(tuple)
author = st.builds(
    Author,
    st.none() | xcn,
    st.lists(xon, max_size=2).map(tuple),
    st.lists(text, max_size=2).map(tuple),
    st.lists(text, max_size=2).map(tuple),
    st.lists(xtn, max_size=2).map(tuple),
)
authors = st.lists(author, max_size=2).map(tuple)
status = st.none() | st.sampled_from(list(Status))

document_entry = st.builds(
    DocumentEntry,
    entry_uuid=nonempty,
    unique_id=text,
    patient_id=st.none() | cx,
    mime_type=text,
    object_type=st.sampled_from(sorted(DOCUMENT_ENTRY_OBJECT_TYPES)),
    availability_status=status,
    class_code=st.none() | code,
    type_code=st.none() | code,
    format_code=st.none() | code,
    healthcare_facility_type_code=st.none() | code,
    practice_setting_code=st.none() | code,
    confidentiality_codes=codes,
    event_codes=codes,
    authors=authors,
    creation_time=opt,
    service_start_time=opt,
    service_stop_time=opt,
    hash=opt,
    size=st.none() | st.integers(0, 2**40),
    language_code=opt,
    legal_authenticator=st.none() | xcn,
    source_patient_id=st.none() | cx,
    source_patient_info=st.lists(text, max_size=3).map(tuple),
    repository_unique_id=opt,
    home_community_id=opt,
    document_availability=opt,
    logical_id=opt,
    version=opt,
    reference_ids=st.lists(cx, max_size=2).map(tuple),
    title=opt,
    comments=opt,
    uri=st.none() | st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=300),
    limited_metadata=st.booleans(),
    extra_slots=extra,
)
submission_set = st.builds(
    SubmissionSet,
    entry_uuid=nonempty,
    unique_id=text,
    source_id=text,
    patient_id=st.none() | cx,
    submission_time=opt,
    content_type_code=st.none() | code,
    authors=authors,
    intended_recipients=st.lists(text, max_size=2).map(tuple),
    title=opt,
    comments=opt,
    availability_status=status,
    home_community_id=opt,
    limited_metadata=st.booleans(),
    extra_slots=extra,
)
folder = st.builds(
    Folder,
    entry_uuid=nonempty,
    unique_id=text,
    patient_id=st.none() | cx,
    codes=codes,
    last_update_time=opt,
    title=opt,
    comments=opt,
    availability_status=status,
    home_community_id=opt,
    logical_id=opt,
    version=opt,
    limited_metadata=st.booleans(),
    extra_slots=extra,
)
association = st.builds(
    Association,
    entry_uuid=nonempty,
    association_type=st.sampled_from(list(AssociationType)) | nonempty,
    source=nonempty,
    target=nonempty,
    submission_set_status=opt,
    documentation=st.none() | code,
    previous_version=opt,
    original_status=opt,
    new_status=opt,
    availability_status=status,
    home_community_id=opt,
    extra_slots=extra,
)
object_ref = st.builds(ObjectRef, nonempty, opt)
submission = st.builds(
    Submission,
    st.lists(submission_set, max_size=2).map(tuple),
    st.lists(document_entry, max_size=2).map(tuple),
    st.lists(folder, max_size=2).map(tuple),
    st.lists(association, max_size=2).map(tuple),
    st.lists(object_ref, max_size=2).map(tuple),
)
registry_error = st.builds(
    RegistryError,
    st.sampled_from(list(ErrorCode)) | st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True),
    text,
    text,
    st.sampled_from(list(Severity)),
)
registry_response = st.builds(
    RegistryResponse,
    st.sampled_from(list(ResponseStatus)),
    st.lists(registry_error, max_size=3).map(tuple),
    opt,
)
attachment = st.builds(
    lambda data, cid: Attachment(len(data), "x", data=data, content_id=cid),
    st.binary(max_size=40),
    st.from_regex(r"[a-z0-9.]{1,8}@[a-z]{1,5}", fullmatch=True),
)
# the element-valued identifiers of retrieve messages are read whitespace-trimmed (they are OIDs / URNs)
uid = text.map(str.strip)
opt_uid = st.none() | uid
doc_request = st.builds(DocumentRequest, uid, uid, opt_uid)


def _wire(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


def _same_bytes(a: Attachment, b: Attachment) -> bool:
    return a.read() == b.read()


@settings(max_examples=60, deadline=None)
@given(document_entry)
def test_document_entry(entry):
    assert ebrim.document_entry_from_ebrim(_wire(ebrim.document_entry_to_ebrim(entry))) == entry


@settings(max_examples=40, deadline=None)
@given(submission_set)
def test_submission_set(ss):
    el = _wire(ebrim.submission_set_to_ebrim(ss))
    assert ebrim.submission_set_from_ebrim(el) == ss


@settings(max_examples=40, deadline=None)
@given(folder)
def test_folder(f):
    assert ebrim.folder_from_ebrim(_wire(ebrim.folder_to_ebrim(f))) == f


@settings(max_examples=40, deadline=None)
@given(association)
def test_association(a):
    assert ebrim.association_from_ebrim(_wire(ebrim.association_to_ebrim(a))) == a


@settings(max_examples=20, deadline=None)
@given(object_ref, code, author)
def test_object_ref_code_author(ref, c, au):
    assert ebrim.object_ref_from_ebrim(_wire(ebrim.object_ref_to_ebrim(ref))) == ref
    el = ebrim.code_to_ebrim(c, scheme="urn:uuid:x", classified_object="o", role="r")
    assert ebrim.code_from_ebrim(_wire(el)) == c
    el = ebrim.author_to_ebrim(au, scheme="urn:uuid:x", classified_object="o", role="r")
    assert ebrim.author_from_ebrim(_wire(el)) == au


@settings(max_examples=30, deadline=None)
@given(submission)
def test_submit_objects(s):
    assert ebrim.submit_objects_from_ebrim(_wire(ebrim.submit_objects_to_ebrim(s))) == s


@settings(max_examples=20, deadline=None)
@given(submission, st.lists(st.tuples(nonempty, attachment), max_size=3), st.booleans())
def test_pnr(s, docs, xop):
    docs = list({a.content_id: (i, a) for i, a in docs}.items())  # distinct Content-IDs
    req = ProvideAndRegisterRequest(s, tuple(Document(i, a) for _cid, (i, a) in docs))
    el, parts = ebrim.pnr_to_ebrim_with_parts(req, xop=xop)
    back = ebrim.pnr_from_ebrim(_wire(el), {p.content_id: p for p in parts})
    assert back.submission == s
    assert [d.id for d in back.documents] == [d.id for d in req.documents]
    assert all(_same_bytes(a.content, b.content) for a, b in zip(back.documents, req.documents, strict=True))


@settings(max_examples=30, deadline=None)
@given(registry_response)
def test_registry_response(r):
    assert ebrim.registry_response_from_ebrim(_wire(ebrim.registry_response_to_ebrim(r))) == r


@settings(max_examples=30, deadline=None)
@given(
    st.builds(
        AdhocQueryRequest,
        nonempty,
        st.lists(st.builds(QueryParameter, nonempty, st.lists(text, max_size=3).map(tuple)), max_size=4).map(
            tuple
        ),
        st.sampled_from(["LeafClass", "ObjectRef"]),
        opt,
        st.booleans(),
        st.none() | st.integers(-1, 99),
        st.none() | st.integers(0, 99),
        opt,
    )
)
def test_adhoc_query_request(q):
    assert ebrim.adhoc_query_request_from_ebrim(_wire(ebrim.adhoc_query_request_to_ebrim(q))) == q


@settings(max_examples=20, deadline=None)
@given(
    st.builds(
        AdhocQueryResponse,
        st.sampled_from(list(ResponseStatus)),
        st.lists(registry_error, max_size=2).map(tuple),
        st.lists(document_entry, max_size=2).map(tuple),
        st.lists(submission_set, max_size=1).map(tuple),
        st.lists(folder, max_size=1).map(tuple),
        st.lists(association, max_size=2).map(tuple),
        st.lists(object_ref, max_size=2).map(tuple),
        st.none() | st.integers(0, 9),
        st.none() | st.integers(0, 9),
    )
)
def test_adhoc_query_response(r):
    assert ebrim.adhoc_query_response_from_ebrim(_wire(ebrim.adhoc_query_response_to_ebrim(r))) == r


@settings(max_examples=20, deadline=None)
@given(st.lists(doc_request, min_size=1, max_size=3).map(tuple))
def test_retrieve_request(docs):
    r = RetrieveDocumentSetRequest(docs)
    assert ebrim.retrieve_request_from_ebrim(_wire(ebrim.retrieve_request_to_ebrim(r))) == r


@settings(max_examples=20, deadline=None)
@given(
    registry_response,
    st.lists(
        st.builds(RetrievedDocument, uid, uid, uid, attachment, opt_uid, opt_uid, opt_uid),
        max_size=3,
        unique_by=lambda d: d.content.content_id,
    ),
    st.booleans(),
)
def test_retrieve_response(rr, docs, xop):
    resp = RetrieveDocumentSetResponse(rr, tuple(docs))
    el, parts = ebrim.retrieve_response_to_ebrim(resp, xop=xop)
    back = ebrim.retrieve_response_from_ebrim(_wire(el), {p.content_id: p for p in parts})
    assert back.response == rr
    assert len(back.documents) == len(docs)
    for got, want in zip(back.documents, docs, strict=True):
        assert (
            got.repository_unique_id,
            got.document_unique_id,
            got.mime_type,
            got.home_community_id,
            got.new_repository_unique_id,
            got.new_document_unique_id,
        ) == (
            want.repository_unique_id,
            want.document_unique_id,
            want.mime_type,
            want.home_community_id,
            want.new_repository_unique_id,
            want.new_document_unique_id,
        )
        assert _same_bytes(got.content, want.content)


@settings(max_examples=20, deadline=None)
@given(
    st.builds(
        RetrieveImagingDocumentSetRequest,
        st.lists(
            st.builds(
                StudyRequest,
                uid,
                st.lists(
                    st.builds(SeriesRequest, uid, st.lists(doc_request, min_size=1, max_size=2).map(tuple)),
                    min_size=1,
                    max_size=2,
                ).map(tuple),
            ),
            min_size=1,
            max_size=2,
        ).map(tuple),
        st.lists(uid, max_size=2).map(tuple),
    )
)
def test_imaging_retrieve_request(r):
    el = ebrim.imaging_retrieve_request_to_ebrim(r)
    assert ebrim.imaging_retrieve_request_from_ebrim(_wire(el)) == r

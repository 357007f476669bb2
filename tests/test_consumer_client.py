"""consumer.Client against a real registry and repository on loopback ports (ITI-18, ITI-41, ITI-43)."""

from dataclasses import replace

import pytest
from consumer_helpers import consumer_domain, submit_text, write
from registry_helpers import free_port, related
from repository_helpers import REPOSITORY_ID

from consumer import Client, CodeError, ParameterError, PeerUnavailable, SubmitOptions
from xds.errors import ErrorCode, XdsError
from xds.model import Code, DocumentEntry, QueryParameter
from xds.vocabulary import AssociationType, ResponseStatus

DOMAIN_OID = "1.3.6.1.4.1.21367.2005.13.20.1000"


def pid(n: int) -> str:
    return f"CONS-{n}^^^&{DOMAIN_OID}&ISO"


@pytest.fixture(scope="module")
def domain(tmp_path_factory):
    """One SQLite domain for the module; each test uses its own patient."""
    tmp = tmp_path_factory.mktemp("consumer")
    with consumer_domain(f"sqlite:///{tmp / 'xds.sqlite'}", tmp) as (servers, client):
        for n in range(1, 20):
            servers.registry.add_patient(pid(n))
        yield servers, client


def test_submit_query_retrieve_byte_identical(database_url, tmp_path):
    with consumer_domain(database_url, tmp_path) as (servers, client):
        servers.registry.add_patient(pid(1))
        pdf, text = b"%PDF-1.4\n% report\n%%EOF\n", "Befund: o.B. – ü\n".encode()
        files = [write(tmp_path / "in", "report.pdf", pdf), write(tmp_path / "in", "note.txt", text)]
        sent = client.submit(files, SubmitOptions(pid(1), class_code="BEF", type_code="BILD"))
        assert sent.response.status == ResponseStatus.SUCCESS

        found = client.find_documents(pid(1), class_code=Code("BEF", "1.3.6.1.4.1.19376.3.276.1.5.8"))
        by_mime = {d.mime_type: d for d in found.document_entries}
        assert set(by_mime) == {"application/pdf", "text/plain"}
        assert by_mime["application/pdf"].type_code.code == "BILD"
        assert by_mime["text/plain"].size == len(text)

        result = client.retrieve([d.unique_id for d in found.document_entries], tmp_path / "out")
        assert result.status == ResponseStatus.SUCCESS
        contents = {f.path.name: f.path.read_bytes() for f in result.files}
        assert contents == {
            by_mime["application/pdf"].unique_id + ".pdf": pdf,
            by_mime["text/plain"].unique_id + ".txt": text,
        }
        assert all(f.verified for f in result.files)
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(contents)  # no spool left


def test_replacements_addenda_and_transforms(domain, tmp_path):
    servers, client = domain
    first = submit_text(client, tmp_path, "v1.txt", b"version 1", patient_id=pid(2)).document_entries[0]
    # replace by uniqueId (looked up), then by entryUUID
    second = submit_text(client, tmp_path, "v2.txt", b"version 2", patient_id=pid(2), replace=first.unique_id)
    second_entry = second.document_entries[0]
    third = submit_text(client, tmp_path, "v3.txt", b"v3", patient_id=pid(2), replace=second_entry.entry_uuid)
    third_entry = third.document_entries[0]

    assert client.newest_version(first.unique_id).unique_id == third_entry.unique_id
    assert client.newest_version(third_entry).entry_uuid == third_entry.entry_uuid
    assert [d.entry_uuid for d in client.replacements(first.entry_uuid)] == [second_entry.entry_uuid]
    approved = client.find_documents(pid(2)).document_entries
    assert [d.unique_id for d in approved] == [third_entry.unique_id]
    deprecated = client.find_documents(pid(2), status="deprecated").document_entries
    assert {d.unique_id for d in deprecated} == {first.unique_id, second_entry.unique_id}

    # an addendum and a transform, registered by another source straight at the registry (ITI-42)
    for tag, kind in (("7.1", AssociationType.APND), ("7.2", AssociationType.XFRM)):
        answer = servers.registry.register(related(tag, third_entry.entry_uuid, kind, pid(2)))
        assert answer.status == ResponseStatus.SUCCESS
    assert [d.unique_id for d in client.addenda(third_entry)] == ["1.2.276.0.7230010.3.1.4.7.1"]
    assert [d.unique_id for d in client.transforms(third_entry)] == ["1.2.276.0.7230010.3.1.4.7.2"]
    kinds = {r.kind for r in client.related(third_entry)}
    assert kinds == {AssociationType.APND, AssociationType.XFRM}
    replaced = client.related(third_entry, incoming=False)
    assert [r.document.unique_id for r in replaced] == [second_entry.unique_id]


def test_paging_object_refs_then_get_documents_in_batches(domain, tmp_path):
    _, client = domain
    files = [write(tmp_path, f"doc{n}.txt", f"document {n}".encode()) for n in range(7)]
    client.submit(files, SubmitOptions(pid(3)))
    refs = client.find_documents(pid(3), object_refs=True).object_refs
    assert len(refs) == 7
    paged = list(client.iter_documents("find-documents", {"patient_id": pid(3), "status": "approved"},
                                       batch_size=3))
    assert [d.entry_uuid for d in paged] == [r.id for r in refs]
    assert all(isinstance(d, DocumentEntry) and d.title for d in paged)


def test_every_stored_query_answers_with_model_objects(domain, tmp_path):
    _, client = domain
    sent = submit_text(client, tmp_path, "a.txt", b"a", patient_id=pid(4))
    ss = sent.request.submission.submission_sets[0]
    de = sent.document_entries[0]
    assert client.get_all(pid(4)).document_entries[0].unique_id == de.unique_id
    assert client.find_submission_sets(pid(4)).submission_sets[0].unique_id == ss.unique_id
    assert client.find_folders(pid(4)).folders == ()
    by_reference = client.find_documents_by_reference_id(pid(4), ["none^^^^urn:ihe:iti:xds:2013:order"])
    assert by_reference.document_entries == ()
    contents = client.get_submission_set_and_contents(unique_id=ss.unique_id)
    assert [d.entry_uuid for d in contents.document_entries] == [de.entry_uuid]
    assert client.get_submission_sets([de.entry_uuid]).submission_sets[0].entry_uuid == ss.entry_uuid
    associations = client.get_associations([de.entry_uuid]).associations
    assert [a.association_type for a in associations] == [AssociationType.HAS_MEMBER]
    both = client.get_documents_and_associations(unique_id=[de.unique_id])
    assert len(both.document_entries) == 1 and len(both.associations) == 1
    assert client.get_folders_for_document(entry_uuid=de.entry_uuid).folders == ()
    assert client.get_folders(unique_id=["1.2.3.4.5"]).folders == ()
    assert client.get_related_documents("RPLC", entry_uuid=de.entry_uuid).document_entries == ()
    assert client.get_documents(entry_uuid=de.entry_uuid, object_refs=True).object_refs[0].id == de.entry_uuid


def test_registry_errors_are_raised_with_their_codes(domain):
    _, client = domain
    with pytest.raises(XdsError) as missing:
        client.query("find-documents", {"patient_id": pid(5)})  # no $XDSDocumentEntryStatus
    assert missing.value.code == ErrorCode.XDS_STORED_QUERY_MISSING_PARAM
    with pytest.raises(XdsError) as shape:
        # a value shape the client has no type for goes out raw; the registry refuses it
        raw = [QueryParameter("$XDSDocumentEntryClassCode", ("('BEF')",))]
        client.query("find-documents", {"patient_id": pid(5), "status": "approved"}, raw=raw)
    assert shape.value.code == ErrorCode.XDS_REGISTRY_ERROR
    with pytest.raises(XdsError) as number:
        client.get_documents(entry_uuid=["urn:uuid:1"], unique_id=["1.2.3"])
    assert number.value.code == ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER


def test_bad_parameters_are_refused_before_sending(domain):
    _, client = domain
    with pytest.raises(ParameterError):
        client.find_documents(pid(5), creation_time_from="last tuesday")
    with pytest.raises(ParameterError):
        client.query("get-documents", {"patient_id": pid(5)})
    with pytest.raises(ParameterError):
        client.find_documents(pid(5), class_code=[["BEF^^1.2"]])


def test_unreachable_registry_and_a_soap_fault(domain):
    servers, _ = domain
    nowhere = Client(f"http://127.0.0.1:{free_port()}/xds/registry")
    with nowhere, pytest.raises(PeerUnavailable) as exc:
        nowhere.find_documents(pid(5))
    assert exc.value.code == ErrorCode.XDS_REGISTRY_NOT_AVAILABLE
    # ITI-18 sent to the repository's endpoint: it answers with a SOAP fault
    with Client(servers.repository.url) as wrong, pytest.raises(XdsError) as fault:
        wrong.find_documents(pid(5))
    assert fault.value.code == ErrorCode.XDS_REGISTRY_ERROR


def test_retrieve_unknown_unique_id_and_partial_success(domain, tmp_path):
    _, client = domain
    with pytest.raises(XdsError) as unknown:
        client.retrieve(["1.2.3.999.1"], tmp_path / "none")
    assert unknown.value.code == ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR
    known = submit_text(client, tmp_path, "k.txt", b"known", patient_id=pid(6)).document_entries[0]
    result = client.retrieve([known.unique_id, "1.2.3.999.2"], tmp_path / "some")
    assert result.status == ResponseStatus.PARTIAL_SUCCESS
    assert [f.unique_id for f in result.files] == [known.unique_id]
    assert [e.code for e in result.errors] == [ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR]


def test_retrieve_refuses_a_document_that_differs_from_its_entry(domain, tmp_path):
    _, client = domain
    known = submit_text(client, tmp_path, "h.txt", b"hashed", patient_id=pid(7)).document_entries[0]
    entry = client.get_documents(unique_id=[known.unique_id]).document_entries[0]
    assert entry.repository_unique_id == REPOSITORY_ID
    with pytest.raises(XdsError) as wrong_hash:
        client.retrieve([replace(entry, hash="0" * 40)], tmp_path / "out")
    assert wrong_hash.value.code == ErrorCode.XDS_NON_IDENTICAL_HASH
    with pytest.raises(XdsError) as wrong_size:
        client.retrieve([replace(entry, size=1)], tmp_path / "out")
    assert wrong_size.value.code == ErrorCode.XDS_NON_IDENTICAL_SIZE
    assert list((tmp_path / "out").iterdir()) == []


def test_submit_errors(domain, tmp_path):
    _, client = domain
    with pytest.raises(XdsError) as unknown:
        submit_text(client, tmp_path, "u.txt", b"x", patient_id=f"NOBODY^^^&{DOMAIN_OID}&ISO")
    assert unknown.value.code == ErrorCode.XDS_UNKNOWN_PATIENT_ID
    with pytest.raises(CodeError):
        submit_text(client, tmp_path, "c.txt", b"x", patient_id=pid(8), class_code="NOPE")
    with pytest.raises(ValueError, match="assigning authority"):
        submit_text(client, tmp_path, "p.txt", b"x", patient_id="12345")
    assert client.find_documents(pid(8)).document_entries == ()  # nothing was sent

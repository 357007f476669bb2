"""Our own wire samples (tests/samples/*.xml) decode to the models below, re-encode to the same model,
and validate against the ebRS 3.0 / XDS.b / XDS-I.b schemas when ../shared is present."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    CODING_SCHEME_DICOM,
    FORMAT_CODE_DICOM_KOS,
    MIME_TYPE_DICOM,
    OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    AssociationType,
    DocumentAvailability,
    ResponseStatus,
    ReturnType,
    Severity,
    Status,
    StoredQuery,
    SubmissionSetStatus,
)

SAMPLES = Path(__file__).parent / "samples"
SCHEMAS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance" / "schemas" / "nist-toolkit-v3"
)

DOMAIN = "1.3.6.1.4.1.21367.2005.13.20.1000"
PATIENT = CX.parse(f"P-4711^^^&{DOMAIN}&ISO")
KLINIKUM = "1.2.276.0.76.4.17.9999"
REPOSITORY = f"{KLINIKUM}.3.1"
IHE_DE_CLASS = "1.3.6.1.4.1.19376.3.276.1.5.8"
IHE_DE_TYPE = "1.3.6.1.4.1.19376.3.276.1.5.9"
IHE_DE_CONF = "1.3.6.1.4.1.19376.3.276.1.5.10"
IHE_DE_FACILITY = "1.3.6.1.4.1.19376.3.276.1.5.2"
IHE_DE_PRACTICE = "1.3.6.1.4.1.19376.3.276.1.5.4"
IHE_DE_FOLDER = "1.3.6.1.4.1.19376.3.276.1.5.7"
IHE_DE_ROLE = "1.3.6.1.4.1.19376.3.276.1.5.13"

DOC1 = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a01"
DOC2 = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a02"
OLD_DOC = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a00"
SS = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a10"
FOLDER = "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1a20"

PDF = Attachment.from_bytes(
    b"%PDF-1.4\n% Befundbericht CT Thorax, Frau M\xc3\xbcller\n%%EOF\n", "application/pdf"
)
KOS = Attachment.from_bytes(b"\0" * 128 + b"DICM" + b"KOS manifest", MIME_TYPE_DICOM)


def _author() -> Author:
    return Author(
        person=XCN.parse(f"123456^Müller^Anna^^^Dr. med.^^^&{KLINIKUM}&ISO"),
        institutions=(XON.parse(f"Klinikum Musterstadt^^^^^&{KLINIKUM}&ISO^^^^260123456"),),
        roles=(f"11^Dokumentierender^&{IHE_DE_ROLE}&ISO",),
        specialties=(f"RADI^Radiologie^&{IHE_DE_PRACTICE}&ISO",),
        telecommunications=(XTN.parse("^NET^Internet^anna.mueller@klinikum-musterstadt.de"),),
    )


def _common(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        patient_id=PATIENT,
        confidentiality_codes=(Code("N", "2.16.840.1.113883.5.25", "normal"),),
        healthcare_facility_type_code=Code("KHS", IHE_DE_FACILITY, "Krankenhaus"),
        practice_setting_code=Code("RADI", IHE_DE_PRACTICE, "Radiologie"),
        authors=(_author(),),
        creation_time="20240315101500",
        language_code="de-DE",
        source_patient_id=CX.parse("4711^^^&1.2.276.0.76.4.17.9999.1&ISO"),
        source_patient_info=(
            "PID-3|4711^^^&1.2.276.0.76.4.17.9999.1&ISO",
            "PID-5|Müller^Erika^^^",
            "PID-7|19650412",
            "PID-8|F",
        ),
        service_start_time="20240315090000",
    )
    base.update(kw)
    return base


def report_entry(**kw: object) -> DocumentEntry:
    return DocumentEntry(
        **_common(  # type: ignore[arg-type]
            entry_uuid=DOC1,
            unique_id=f"{KLINIKUM}.2.20240315.1",
            mime_type="application/pdf",
            class_code=Code("BEF", IHE_DE_CLASS, "Befundbericht"),
            type_code=Code("BERI", IHE_DE_TYPE, "Arztberichte"),
            format_code=Code(
                "urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3", "mimeType Sufficient"
            ),
            event_codes=(Code("H4", "1.3.6.1.4.1.19376.3.276.1.5.15", "vorläufiges Dokument"),),
            legal_authenticator=XCN.parse(f"123456^Müller^Anna^^^Dr. med.^^^&{KLINIKUM}&ISO"),
            title="Befundbericht CT Thorax",
            comments="Vergleich mit Voraufnahme vom 12.01.2024",
            extra_slots=(ExtraSlot("urn:klinikum-musterstadt:abteilung", ("Radiologie", "Haus B")),),
            **kw,
        )
    )


def kos_entry(**kw: object) -> DocumentEntry:
    return DocumentEntry(
        **_common(  # type: ignore[arg-type]
            entry_uuid=DOC2,
            unique_id="1.2.276.0.7230010.3.1.4.4711.1",
            mime_type=MIME_TYPE_DICOM,
            class_code=Code("BIL", IHE_DE_CLASS, "Bilddaten"),
            type_code=Code("BILD", IHE_DE_TYPE, "Ergebnisse bildgebender Diagnostik"),
            format_code=Code(FORMAT_CODE_DICOM_KOS, CODING_SCHEME_DICOM, "Key Object Selection Document"),
            confidentiality_codes=(
                Code("N", "2.16.840.1.113883.5.25", "normal"),
                Code("PN", IHE_DE_CONF, "übliche Vertraulichkeit"),
            ),
            event_codes=(
                Code("CT", "1.2.840.10008.2.16.4", "Computed Tomography"),
                Code("T-D3000", "1.2.840.10008.2.16.4", "Chest"),
            ),
            reference_ids=(
                CX.parse("1.2.276.0.7230010.3.1.2.4711^^^^urn:ihe:iti:xds:2016:studyInstanceUID"),
                CX.parse(f"ACC-2024-0815^^^&{KLINIKUM}.4&ISO^urn:ihe:iti:xds:2013:accession"),
            ),
            title="CT Thorax nativ",
            **kw,
        )
    )


def submission_set(**kw: object) -> SubmissionSet:
    return SubmissionSet(
        **dict(
            dict(  # type: ignore[arg-type]
                entry_uuid=SS,
                unique_id=f"{KLINIKUM}.1.20240315.1",
                source_id=f"{KLINIKUM}.5",
                patient_id=PATIENT,
                submission_time="20240315102000",
                content_type_code=Code("KHS", IHE_DE_FACILITY, "Krankenhaus"),
                authors=(
                    Author(
                        institutions=(XON.parse(f"Klinikum Musterstadt^^^^^&{KLINIKUM}&ISO^^^^260123456"),),
                    ),
                ),
                intended_recipients=(
                    f"Praxis Dr. Schmidt^^^^^&{KLINIKUM}.7&ISO^^^^7654321|^Schmidt^Hans^^^Dr.",
                ),
                title="Radiologie Übermittlung",
            ),
            **kw,
        )
    )


def folder(**kw: object) -> Folder:
    return Folder(
        **dict(
            dict(  # type: ignore[arg-type]
                entry_uuid=FOLDER,
                unique_id=f"{KLINIKUM}.6.20240315.1",
                patient_id=PATIENT,
                codes=(Code("ECR", IHE_DE_FOLDER, "Elektronische Fallakte (EFA)"),),
                title="Fallakte Thoraxschmerz",
                comments="EFA zum stationären Aufenthalt",
            ),
            **kw,
        )
    )


def associations() -> tuple[Association, ...]:
    def a(n: int, kind: str, src: str, tgt: str, **kw: object) -> Association:
        return Association(f"urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1b{n:02d}", kind, src, tgt, **kw)  # type: ignore[arg-type]

    hm = AssociationType.HAS_MEMBER
    return (
        a(1, hm, SS, DOC1, submission_set_status=SubmissionSetStatus.ORIGINAL),
        a(2, hm, SS, DOC2, submission_set_status=SubmissionSetStatus.ORIGINAL),
        a(3, hm, SS, FOLDER),
        a(4, hm, FOLDER, DOC1),
        a(5, hm, SS, "urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1b04"),
        a(
            6,
            AssociationType.RPLC,
            DOC1,
            OLD_DOC,
            documentation=Code("KORR", f"{KLINIKUM}.8", "Korrektur der Seitenangabe"),
        ),
    )


def submission(**entry_kw: object) -> Submission:
    return Submission(
        submission_sets=(submission_set(),),
        document_entries=(report_entry(**entry_kw), kos_entry(**entry_kw)),
        folders=(folder(),),
        associations=associations(),
    )


def pnr() -> ProvideAndRegisterRequest:
    import dataclasses

    return ProvideAndRegisterRequest(
        submission(),
        (
            Document(DOC1, dataclasses.replace(PDF, content_id="befund-1@klinikum-musterstadt.de")),
            Document(DOC2, dataclasses.replace(KOS, content_id="kos 1@klinikum-musterstadt.de")),
        ),
    )


def register() -> Submission:
    return Submission(
        submission_sets=(submission_set(),),
        document_entries=(
            report_entry(hash=PDF.sha1, size=PDF.size, repository_unique_id=REPOSITORY),
            kos_entry(hash=KOS.sha1, size=KOS.size, repository_unique_id=REPOSITORY),
        ),
        folders=(folder(),),
        associations=associations(),
    )


def query_request() -> AdhocQueryRequest:
    return AdhocQueryRequest(
        query_id=StoredQuery.FIND_DOCUMENTS,
        parameters=(
            QueryParameter("$XDSDocumentEntryPatientId", (f"'{PATIENT.render()}'",)),
            QueryParameter("$XDSDocumentEntryStatus", (f"('{Status.APPROVED}')",)),
            QueryParameter("$XDSDocumentEntryClassCode", (f"('BEF^^{IHE_DE_CLASS}')",)),
            QueryParameter("$XDSDocumentEntryClassCode", (f"('BIL^^{IHE_DE_CLASS}')",)),
            QueryParameter("$XDSDocumentEntryCreationTimeFrom", ("20240101",)),
        ),
        return_type=ReturnType.LEAF_CLASS,
        request_id="urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1c01",
    )


def _registered(entry: DocumentEntry) -> DocumentEntry:
    import dataclasses

    return dataclasses.replace(
        entry,
        availability_status=Status.APPROVED,
        home_community_id="urn:oid:1.2.276.0.76.4.17.9999.9",
        logical_id=entry.entry_uuid,
        version="1",
        document_availability=DocumentAvailability.ONLINE,
    )


def query_response_leaf() -> AdhocQueryResponse:
    reg = register()
    return AdhocQueryResponse(
        status=ResponseStatus.SUCCESS,
        document_entries=tuple(_registered(e) for e in reg.document_entries),
        submission_sets=(submission_set(availability_status=Status.APPROVED),),
        folders=(
            folder(
                availability_status=Status.APPROVED,
                last_update_time="20240315102000",
                logical_id=FOLDER,
                version="1",
            ),
        ),
        associations=tuple(
            Association(
                a.entry_uuid,
                a.association_type,
                a.source,
                a.target,
                a.submission_set_status,
                a.documentation,
                availability_status=Status.APPROVED,
            )
            for a in reg.associations
        ),
    )


def query_response_refs() -> AdhocQueryResponse:
    return AdhocQueryResponse(
        object_refs=(ObjectRef(DOC1), ObjectRef(DOC2, "urn:oid:1.2.276.0.76.4.17.9999.9"))
    )


def retrieve_request() -> RetrieveDocumentSetRequest:
    return RetrieveDocumentSetRequest(
        (
            DocumentRequest(REPOSITORY, f"{KLINIKUM}.2.20240315.1", "urn:oid:1.2.276.0.76.4.17.9999.9"),
            DocumentRequest(REPOSITORY, "1.2.276.0.7230010.3.1.4.4711.1"),
        )
    )


def retrieve_response() -> RetrieveDocumentSetResponse:
    import dataclasses

    return RetrieveDocumentSetResponse(
        RegistryResponse(ResponseStatus.SUCCESS),
        (
            RetrievedDocument(
                REPOSITORY,
                f"{KLINIKUM}.2.20240315.1",
                "application/pdf",
                dataclasses.replace(PDF, content_id="befund-1@klinikum-musterstadt.de"),
                "urn:oid:1.2.276.0.76.4.17.9999.9",
            ),
            RetrievedDocument(
                REPOSITORY,
                "1.2.276.0.7230010.3.1.4.4711.1",
                MIME_TYPE_DICOM,
                dataclasses.replace(KOS, content_id="kos-1@klinikum-musterstadt.de"),
            ),
        ),
    )


def rad69_request() -> RetrieveImagingDocumentSetRequest:
    study = "1.2.276.0.7230010.3.1.2.4711"
    return RetrieveImagingDocumentSetRequest(
        (
            StudyRequest(
                study,
                (
                    SeriesRequest(
                        f"{study}.1",
                        (
                            DocumentRequest(f"{KLINIKUM}.10", f"{study}.1.1"),
                            DocumentRequest(f"{KLINIKUM}.10", f"{study}.1.2"),
                        ),
                    ),
                    SeriesRequest(
                        f"{study}.2",
                        (
                            DocumentRequest(
                                f"{KLINIKUM}.10", f"{study}.2.1", "urn:oid:1.2.276.0.76.4.17.9999.9"
                            ),
                        ),
                    ),
                ),
            ),
        ),
        ("1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.1"),
    )


def failure_response() -> RegistryResponse:
    return RegistryResponse(
        ResponseStatus.FAILURE,
        (
            RegistryError(
                ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH,
                f"DocumentEntry {DOC2}: patientId differs from the SubmissionSet's",
                DOC2,
            ),
            RegistryError(
                ErrorCode.XDS_EXTRA_METADATA_NOT_SAVED,
                "urn:klinikum-musterstadt:abteilung",
                DOC1,
                Severity.WARNING,
            ),
        ),
        request_id="urn:uuid:0b5ab7c0-3a34-4c6e-9d2b-5b0b2f3c1c02",
    )


def _attachments(*atts: Attachment) -> dict[str, Attachment]:
    return {a.content_id: a for a in atts if a.content_id}


# (file, expected model, decode, encode, schema)
CASES = {
    "pnr_request.xml": (
        pnr,
        lambda el: ebrim.pnr_from_ebrim(el, _attachments(*(d.content for d in pnr().documents))),
        ebrim.pnr_to_ebrim,
        "XDS.b_DocumentRepository.xsd",
    ),
    "register_request.xml": (
        register,
        ebrim.submit_objects_from_ebrim,
        ebrim.submit_objects_to_ebrim,
        "lcm.xsd",
    ),
    "query_request.xml": (
        query_request,
        ebrim.adhoc_query_request_from_ebrim,
        ebrim.adhoc_query_request_to_ebrim,
        "query.xsd",
    ),
    "query_response_leafclass.xml": (
        query_response_leaf,
        ebrim.adhoc_query_response_from_ebrim,
        ebrim.adhoc_query_response_to_ebrim,
        "query.xsd",
    ),
    "query_response_objectref.xml": (
        query_response_refs,
        ebrim.adhoc_query_response_from_ebrim,
        ebrim.adhoc_query_response_to_ebrim,
        "query.xsd",
    ),
    "retrieve_request.xml": (
        retrieve_request,
        ebrim.retrieve_request_from_ebrim,
        ebrim.retrieve_request_to_ebrim,
        "XDS.b_DocumentRepository.xsd",
    ),
    "retrieve_response.xml": (
        retrieve_response,
        lambda el: ebrim.retrieve_response_from_ebrim(
            el, _attachments(*(d.content for d in retrieve_response().documents))
        ),
        lambda m: ebrim.retrieve_response_to_ebrim(m)[0],
        "XDS.b_DocumentRepository.xsd",
    ),
    "rad69_request.xml": (
        rad69_request,
        ebrim.imaging_retrieve_request_from_ebrim,
        ebrim.imaging_retrieve_request_to_ebrim,
        "XDSI.b_ImagingDocumentSource.xsd",
    ),
    "registry_response_failure.xml": (
        failure_response,
        ebrim.registry_response_from_ebrim,
        ebrim.registry_response_to_ebrim,
        "rs.xsd",
    ),
}


def _parse(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_decodes_to_model(name):
    expected, decode, _encode, _xsd = CASES[name]
    assert decode(_parse(SAMPLES / name)) == expected()


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_model_round_trips(name):
    expected, decode, encode, _xsd = CASES[name]
    model = expected()
    el = encode(model)
    assert decode(etree.fromstring(etree.tostring(el))) == model


_schemas: dict[str, etree.XMLSchema] = {}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_and_encoding_are_schema_valid(name):
    expected, _decode, encode, xsd = CASES[name]
    if not (SCHEMAS / xsd).exists():
        pytest.skip("shared schemas not present")
    if xsd not in _schemas:
        _schemas[xsd] = etree.XMLSchema(etree.parse(str(SCHEMAS / xsd)))
    schema = _schemas[xsd]
    for el in (_parse(SAMPLES / name), etree.fromstring(etree.tostring(encode(expected())))):
        _strip_xop(el)
        assert schema.validate(el), schema.error_log


def _strip_xop(el: etree._Element) -> None:
    # xs:base64Binary content: the XOP infoset of an xop:Include is its (base64) part, so validate
    # with the include removed (XOP 1.0 3.1), as the MTOM layer would see it reconstructed
    for inc in el.iter("{http://www.w3.org/2004/08/xop/include}Include"):
        inc.getparent().remove(inc)


def test_pnr_sample_has_top_level_submission_set_classification():
    # the sample keeps the SubmissionSet classification at the top of the list (ITI TF-3 4.2.3.3 allows it)
    root = _parse(SAMPLES / "pnr_request.xml")
    rim = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
    tops = root.findall(f".//{rim}RegistryObjectList/{rim}Classification")
    assert [c.get("classifiedObject") for c in tops] == [SS]


def test_generated_pnr_uses_xop_with_cid_hrefs():
    el, parts = ebrim.pnr_to_ebrim_with_parts(pnr())
    hrefs = [i.get("href") for i in el.iter("{http://www.w3.org/2004/08/xop/include}Include")]
    assert hrefs == ["cid:befund-1@klinikum-musterstadt.de", "cid:kos%201@klinikum-musterstadt.de"]
    assert [p.content_id for p in parts] == [
        "befund-1@klinikum-musterstadt.de",
        "kos 1@klinikum-musterstadt.de",
    ]


def test_sample_objects_stable_document_type():
    assert all(e.object_type == OBJECT_TYPE_STABLE_DOCUMENT_ENTRY for e in register().document_entries)

"""RAD-69, WADO-URI (RAD-55) and WADO-RS (RAD-107) against a running source: every instance byte-identical
(or transcoded as asked), and the standard's error for each bad request."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from imaging_helpers import imaging_settings, running_source, storescu, write_study
from PIL import Image
from pydicom import dcmread

from xds.ebrim import imaging_retrieve_request_to_ebrim, retrieve_response_from_ebrim
from xds.errors import ErrorCode
from xds.model import DocumentRequest, RetrieveImagingDocumentSetRequest, SeriesRequest, StudyRequest
from xds.soap import SoapClient
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
JPEG_2000 = "1.2.840.10008.1.2.4.90"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    tmp = tmp_path_factory.mktemp("retrieve")
    study = write_study(tmp / "in", slices=3, series=2)
    settings = imaging_settings(f"sqlite:///{tmp / 'db.sqlite'}", tmp / "data")
    with running_source(settings) as src:
        run = storescu(src.port, *study.files)
        assert run.returncode == 0, run.stderr
        yield src, study


def rad69(src, study, sop_uids, syntaxes=(EXPLICIT,), repository=None, series=None):  # noqa: ANN001, ANN201
    instances = {i.sop_instance_uid: i for i in src.store.find_instances(study_uid=study.study_uid)}
    by_series: dict[str, list[DocumentRequest]] = {}
    for uid in sop_uids:
        series_uid = series or (instances[uid].series_uid if uid in instances else study.series_uids[0])
        by_series.setdefault(series_uid, []).append(DocumentRequest(repository or src.uid, uid))
    request = RetrieveImagingDocumentSetRequest(
        (StudyRequest(study.study_uid, tuple(SeriesRequest(s, tuple(d)) for s, d in by_series.items())),),
        tuple(syntaxes),
    )
    with SoapClient() as client:
        reply = client.call(
            src.base + "/xds/imaging", Transaction.RAD_69, imaging_retrieve_request_to_ebrim(request)
        )
        response = retrieve_response_from_ebrim(reply.body, reply.attachments)
        return response, {d.document_unique_id: d.content.read() for d in response.documents}


def test_rad69_returns_every_instance_byte_identical(served) -> None:  # noqa: ANN001
    src, study = served
    stored = src.store.find_instances(study_uid=study.study_uid)
    response, contents = rad69(src, study, [i.sop_instance_uid for i in stored])
    assert response.response.status == ResponseStatus.SUCCESS
    assert len(contents) == len(stored) == 6
    for inst in stored:
        assert contents[inst.sop_instance_uid] == inst.path.read_bytes()
    assert {d.repository_unique_id for d in response.documents} == {src.uid}


def test_rad69_transcodes_to_a_requested_syntax(served) -> None:  # noqa: ANN001
    src, study = served
    inst = src.store.find_instances(study_uid=study.study_uid)[0]
    response, contents = rad69(src, study, [inst.sop_instance_uid], syntaxes=(IMPLICIT,))
    assert response.response.status == ResponseStatus.SUCCESS
    got = dcmread(io.BytesIO(contents[inst.sop_instance_uid]))
    assert got.file_meta.TransferSyntaxUID == IMPLICIT
    assert got.PixelData == dcmread(inst.path).PixelData


def test_rad69_unknown_instance_is_partial_success(served) -> None:  # noqa: ANN001
    src, study = served
    inst = src.store.find_instances(study_uid=study.study_uid)[0]
    response, contents = rad69(src, study, [inst.sop_instance_uid, "1.2.3.4.5.6.7"])
    assert response.response.status == ResponseStatus.PARTIAL_SUCCESS
    assert [e.code for e in response.response.errors] == [ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR]
    assert response.response.errors[0].location == "1.2.3.4.5.6.7"
    assert list(contents) == [inst.sop_instance_uid]


def test_rad69_other_repository_and_unmakeable_syntax(served) -> None:  # noqa: ANN001
    src, study = served
    inst = src.store.find_instances(study_uid=study.study_uid)[0]
    response, _ = rad69(src, study, [inst.sop_instance_uid], repository="1.2.3.999")
    assert response.response.status == ResponseStatus.FAILURE
    assert [e.code for e in response.response.errors] == [ErrorCode.XDS_UNKNOWN_REPOSITORY_ID]
    response, _ = rad69(src, study, [inst.sop_instance_uid], syntaxes=(JPEG_2000,))
    assert response.response.status == ResponseStatus.FAILURE
    assert [e.code for e in response.response.errors] == [
        ErrorCode.XDS_RETRIEVE_TRANSFER_SYNTAX_NOT_SUPPORTED
    ]
    # the instance named under a series it is not in
    response, _ = rad69(src, study, [inst.sop_instance_uid], series="1.2.3.4")
    assert [e.code for e in response.response.errors] == [ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR]


def wado(src, **params: str) -> httpx.Response:  # noqa: ANN001
    return httpx.get(src.base + "/wado", params=params, timeout=60)


def test_wado_uri_dicom_and_jpeg(served) -> None:  # noqa: ANN001
    src, study = served
    for inst in src.store.find_instances(study_uid=study.study_uid):
        uids = {"studyUID": inst.study_uid, "seriesUID": inst.series_uid, "objectUID": inst.sop_instance_uid}
        got = wado(src, requestType="WADO", contentType="application/dicom", **uids)
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/dicom"
        assert got.content == inst.path.read_bytes()
    jpeg = wado(src, requestType="WADO", windowCenter="0", windowWidth="2000", rows="32", **uids)
    assert jpeg.status_code == 200 and jpeg.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(jpeg.content))
    assert image.format == "JPEG" and image.size == (32, 32)
    implicit = wado(src, requestType="WADO", contentType="application/dicom", transferSyntax=IMPLICIT, **uids)
    assert dcmread(io.BytesIO(implicit.content)).file_meta.TransferSyntaxUID == IMPLICIT


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"requestType": "WADO-X"}, 400),
        ({"objectUID": None}, 400),
        ({"objectUID": "not-a-uid"}, 400),
        ({"objectUID": "1.2.3.4.5"}, 404),
        ({"seriesUID": "1.2.3.4.5"}, 404),
        ({"contentType": "video/mpeg"}, 406),
        ({"contentType": "application/dicom", "rows": "10"}, 400),
        ({"contentType": "application/dicom", "transferSyntax": JPEG_2000}, 406),
        ({"windowCenter": "40"}, 400),
        ({"rows": "0"}, 400),
        ({"frameNumber": "2"}, 400),
        ({"imageQuality": "101"}, 400),
        ({"region": "0.5,0,0.2,1"}, 400),
        ({"transferSyntax": EXPLICIT}, 400),
    ],
)
def test_wado_uri_parameter_errors(served, change: dict, status: int) -> None:  # noqa: ANN001
    src, study = served
    inst = src.store.find_instances(study_uid=study.study_uid)[0]
    params = {
        "requestType": "WADO",
        "studyUID": inst.study_uid,
        "seriesUID": inst.series_uid,
        "objectUID": inst.sop_instance_uid,
    }
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    assert wado(src, **params).status_code == status


def multipart_parts(response: httpx.Response) -> list[bytes]:
    content_type = response.headers["content-type"]
    boundary = content_type.split("boundary=")[1].split(";")[0].strip('"')
    chunks = response.content.split(f"--{boundary}".encode())
    return [c[c.index(b"\r\n\r\n") + 4 : -2] for c in chunks[1:-1]]


def test_wado_rs_study_series_instance_and_metadata(served) -> None:  # noqa: ANN001
    src, study = served
    stored = {
        i.sop_instance_uid: i.path.read_bytes() for i in src.store.find_instances(study_uid=study.study_uid)
    }
    base = f"{src.base}/dicomweb/studies/{study.study_uid}"
    got = httpx.get(base, headers={"accept": 'multipart/related; type="application/dicom"'}, timeout=60)
    assert got.status_code == 200
    parts = multipart_parts(got)
    assert sorted(parts) == sorted(stored.values())
    series = httpx.get(f"{base}/series/{study.series_uids[1]}", timeout=60)
    assert len(multipart_parts(series)) == 3
    inst = src.store.find_instances(series_uid=study.series_uids[1])[0]
    one = httpx.get(f"{base}/series/{inst.series_uid}/instances/{inst.sop_instance_uid}", timeout=60)
    assert multipart_parts(one) == [stored[inst.sop_instance_uid]]
    implicit = httpx.get(
        f"{base}/series/{inst.series_uid}/instances/{inst.sop_instance_uid}",
        headers={"accept": f'multipart/related; type="application/dicom"; transfer-syntax={IMPLICIT}'},
        timeout=60,
    )
    assert dcmread(io.BytesIO(multipart_parts(implicit)[0])).file_meta.TransferSyntaxUID == IMPLICIT

    meta = httpx.get(f"{base}/metadata", timeout=60)
    assert meta.status_code == 200 and meta.headers["content-type"] == "application/dicom+json"
    items = json.loads(meta.content)
    assert {item["00080018"]["Value"][0] for item in items} == set(stored)
    pixel_uri = items[0]["7FE00010"]["BulkDataURI"]
    bulk = httpx.get(pixel_uri, timeout=60)
    assert bulk.status_code == 200
    sop = items[0]["00080018"]["Value"][0]
    assert multipart_parts(bulk)[0] == dcmread(io.BytesIO(stored[sop])).PixelData


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/studies/1.2.3.4", None, 404),
        ("/studies/not-a-uid", None, 400),
        ("/studies/{study}", "image/jpeg", 406),
        (
            "/studies/{study}",
            f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_2000}',
            406,
        ),
        ("/studies/{study}/series/1.2.3", None, 404),
        ("/studies/{study}/metadata", "application/xml", 406),
    ],
)
def test_wado_rs_errors(served, path: str, accept: str | None, status: int) -> None:  # noqa: ANN001
    src, study = served
    headers = {"accept": accept} if accept else {}
    got = httpx.get(src.base + "/dicomweb" + path.format(study=study.study_uid), headers=headers, timeout=60)
    assert got.status_code == status

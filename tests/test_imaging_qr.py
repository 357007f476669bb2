"""C-FIND, C-MOVE and C-GET with dcmtk findscu / movescu / getscu (and storescp as move destination)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from imaging_helpers import (
    dataset_part,
    destination,
    imaging_settings,
    running_source,
    storescp,
    storescu,
    tool,
    write_study,
)
from pydicom import dcmread

from imaging_source.qr import matches


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    tmp = tmp_path_factory.mktemp("qr")
    first = write_study(tmp / "a", slices=3, series=2, patient_id="4711", accession="ACC-1")
    second = write_study(
        tmp / "b", slices=2, series=1, patient_id="0815", accession="ACC-2", body_part="HEAD"
    )
    dest_port_holder = tmp / "dest"
    dest_port_holder.mkdir()
    from imaging_helpers import free_port

    dest_port = free_port()
    settings = imaging_settings(
        f"sqlite:///{tmp / 'db.sqlite'}", tmp / "data", destinations=[destination("DEST", dest_port)]
    )
    with running_source(settings) as src:
        assert storescu(src.port, *first.files, *second.files).returncode == 0
        yield src, first, second, dest_port, tmp


def findscu(src, tmp: Path, *keys: str, model: str = "-S") -> list:  # noqa: ANN001
    out = tmp / f"find-{abs(hash(keys))}"
    out.mkdir(exist_ok=True)
    args = [model, "-aec", "XDSI_SOURCE", "-X", "-od", str(out)]
    for key in keys:
        args += ["-k", key]
    run = tool("findscu", *args, "127.0.0.1", str(src.port))
    assert run.returncode == 0, run.stderr
    found = [dcmread(p) for p in sorted(out.glob("rsp*.dcm"))]
    for p in out.glob("rsp*.dcm"):
        p.unlink()
    return found


def test_cfind_study_root_levels(served) -> None:  # noqa: ANN001
    src, first, second, _, tmp = served
    studies = findscu(
        src,
        tmp,
        "QueryRetrieveLevel=STUDY",
        "StudyInstanceUID",
        "PatientID",
        "AccessionNumber",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedInstances",
    )
    assert {s.StudyInstanceUID for s in studies} == {first.study_uid, second.study_uid}
    by_uid = {s.StudyInstanceUID: s for s in studies}
    assert by_uid[first.study_uid].NumberOfStudyRelatedInstances == 6
    assert by_uid[first.study_uid].ModalitiesInStudy == "CT"
    one = findscu(src, tmp, "QueryRetrieveLevel=STUDY", "StudyInstanceUID", "AccessionNumber=ACC-2")
    assert [s.StudyInstanceUID for s in one] == [second.study_uid]
    wild = findscu(
        src,
        tmp,
        "QueryRetrieveLevel=STUDY",
        "StudyInstanceUID",
        "SpecificCharacterSet=ISO_IR 192",
        "PatientName=mü*",
        "StudyDate=20240101-",
    )
    assert len(wild) == 2
    series = findscu(
        src,
        tmp,
        "QueryRetrieveLevel=SERIES",
        f"StudyInstanceUID={first.study_uid}",
        "SeriesInstanceUID",
        "NumberOfSeriesRelatedInstances",
    )
    assert {s.SeriesInstanceUID for s in series} == set(first.series_uids)
    images = findscu(
        src,
        tmp,
        "QueryRetrieveLevel=IMAGE",
        f"StudyInstanceUID={first.study_uid}",
        f"SeriesInstanceUID={first.series_uids[0]}",
        "SOPInstanceUID",
        "InstanceNumber",
    )
    assert sorted(i.InstanceNumber for i in images) == [1, 2, 3]


def test_cfind_patient_root(served) -> None:  # noqa: ANN001
    src, _first, second, _, tmp = served
    patients = findscu(
        src,
        tmp,
        "QueryRetrieveLevel=PATIENT",
        "PatientID",
        "PatientName",
        "NumberOfPatientRelatedStudies",
        model="-P",
    )
    assert {p.PatientID for p in patients} == {"4711", "0815"}
    studies = findscu(src, tmp, "QueryRetrieveLevel=STUDY", "PatientID=0815", "StudyInstanceUID", model="-P")
    assert [s.StudyInstanceUID for s in studies] == [second.study_uid]


def test_cfind_bad_level_fails(served) -> None:  # noqa: ANN001
    src, _, _, _, tmp = served
    run = tool(
        "findscu",
        "-v",
        "-S",
        "-aec",
        "XDSI_SOURCE",
        "-k",
        "QueryRetrieveLevel=FRAME",
        "-k",
        "StudyInstanceUID",
        "127.0.0.1",
        str(src.port),
    )
    # PS3.4 C.4.1.1.4 Table C.4-1: A900 Identifier does not match SOP Class (dcmtk's name for it)
    assert "datasetdoesnotmatchsopclass" in (run.stdout + run.stderr).lower(), run.stderr


def movescu_study(src, study_uid: str, destination: str = "DEST") -> subprocess.CompletedProcess:  # noqa: ANN001
    return tool(
        "movescu", "-v", "-S", "-aec", "XDSI_SOURCE", "-aem", destination, "-k", "QueryRetrieveLevel=STUDY",
        "-k", f"StudyInstanceUID={study_uid}", "127.0.0.1", str(src.port),
    )


def getscu_series(src, study_uid: str, series_uid: str, out: Path, *options: str) -> None:  # noqa: ANN001
    run = tool(
        "getscu", "-S", *options, "-aec", "XDSI_SOURCE", "-k", "QueryRetrieveLevel=SERIES",
        "-k", f"StudyInstanceUID={study_uid}", "-k", f"SeriesInstanceUID={series_uid}",
        "-od", str(out), "127.0.0.1", str(src.port),
    )
    assert run.returncode == 0, run.stderr


def said(run: subprocess.CompletedProcess) -> str:
    return (run.stdout + run.stderr).lower()


def test_cmove_to_storescp_is_byte_identical(served) -> None:  # noqa: ANN001
    src, first, _, dest_port, tmp = served
    received = tmp / "moved"
    with storescp(received, "DEST", port=dest_port):
        run = movescu_study(src, first.study_uid)
        assert run.returncode == 0, run.stderr
    stored = {i.sop_instance_uid: i.path for i in src.store.find_instances(study_uid=first.study_uid)}
    files = [p for p in received.iterdir() if p.is_file()]
    assert len(files) == 6
    for path in files:
        uid = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        assert dataset_part(path) == dataset_part(stored[uid])


def test_cmove_unknown_destination_is_a801(served) -> None:  # noqa: ANN001
    src, first, _, _, _ = served
    report = said(movescu_study(src, first.study_uid, "NOWHERE"))
    # PS3.4 C.4.2.1.4 Table C.4-2: A801 Refused: Move Destination unknown
    assert "0xa801" in report or "movedestinationunknown" in report, report


def test_cmove_to_a_destination_that_is_down_is_a801(served) -> None:  # noqa: ANN001
    src, first, *_ = served
    # nothing listens on DEST's port: the sub-association cannot be made (PS3.4 C.4.2.1.4: A801)
    report = said(movescu_study(src, first.study_uid))
    assert "0xa801" in report or "movedestinationunknown" in report, report


def test_cmove_to_a_destination_refusing_the_syntax_fails_every_sub_operation(served) -> None:  # noqa: ANN001
    src, first, _, dest_port, tmp = served
    received = tmp / "implicit-only"
    with storescp(received, "DEST", port=dest_port, extra=("+xi",)):
        report = said(movescu_study(src, first.study_uid))
    # the destination accepts only Implicit VR Little Endian; the instances are stored in Explicit VR and
    # proposed as stored (PS3.4 C.4.2.3.1): no sub-operation can be made; PS3.4 C.4.2.1.4 Table C.4-2:
    # A702 Refused: Out of Resources - Unable to perform sub-operations
    assert "received final move response (refused: outofresourcessuboperations)" in report, report
    assert list(received.iterdir()) == []
    # the source goes on serving
    assert tool("echoscu", "-aec", "XDSI_SOURCE", "127.0.0.1", str(src.port)).returncode == 0


def test_cget_series(served) -> None:  # noqa: ANN001
    src, first, _, _, tmp = served
    out = tmp / "got"
    out.mkdir()
    getscu_series(src, first.study_uid, first.series_uids[1], out)
    stored = {i.sop_instance_uid: i.path for i in src.store.find_instances(series_uid=first.series_uids[1])}
    files = list(out.iterdir())
    assert len(files) == 3
    for path in files:
        uid = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        assert dataset_part(path) == dataset_part(stored[uid])


def test_cget_in_a_syntax_other_than_stored_is_converted(served) -> None:  # noqa: ANN001
    """A requestor that takes only Implicit VR Little Endian (getscu +xi) still gets every instance intact
    (the stored file is Explicit VR: imaging_source.send falls back to pynetdicom's conversion; the syntax
    on the wire is checked in test_imaging_send.py)."""
    src, first, _, _, tmp = served
    out = tmp / "got-implicit"
    out.mkdir()
    getscu_series(src, first.study_uid, first.series_uids[0], out, "+xi")
    stored = {i.sop_instance_uid: i.path for i in src.store.find_instances(series_uid=first.series_uids[0])}
    files = list(out.iterdir())
    assert len(files) == 3
    for path in files:
        got = dcmread(path)
        original = dcmread(stored[str(got.SOPInstanceUID)])
        assert got.PixelData == original.PixelData
        assert got.PatientName == original.PatientName


@pytest.mark.parametrize(
    ("keyword", "wanted", "actual", "result"),
    [
        ("PatientName", "", "X", True),
        ("PatientName", "mü*", "MÜLLER^JANA", True),
        ("PatientID", "47?1", "4711", True),
        ("PatientID", "4711", "4712", False),
        ("StudyInstanceUID", "1.2\\1.3", "1.3", True),
        ("StudyDate", "20240101-20240131", "20240115", True),
        ("StudyDate", "-20231231", "20240115", False),
    ],
)
def test_matching_rules(keyword: str, wanted: str, actual: str, result: bool) -> None:
    assert matches(keyword, wanted, actual) is result

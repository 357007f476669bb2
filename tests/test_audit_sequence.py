"""ATNA (ITI-20) over a whole ``xds up`` domain: the scripted sequence of issue 8 -- feed (through the PIX
Manager, on to the registry and an ITI-10 subscriber), images stored and published (RAD-8, RAD-68), submit,
query, retrieve, RAD-69, C-FIND, C-MOVE, WADO-URI and WADO-RS -- leaves exactly one record per transaction and
actor side in the built-in Audit Record Repository, each valid against the DICOM audit message schema, with
the patient, the studies and the query where the standard asks for them (DICOM PS3.15 A.5.3, ITI TF-2a 3.20).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from cli_helpers import XDS, start_xds, stop_xds, xds_env
from imaging_helpers import Study, free_port, need_tool, storescp, storescu, tool, write_study
from lxml import etree
from pydicom.filereader import read_dataset
from repository_helpers import pnr
from sample_data import PATIENT_ID, find_documents_query
from tls_helpers import ThreadedMllp

from imaging_source.vocabulary import DEFAULT_SOURCE_UID
from xds.audit import syslog
from xds.audit.schema import schema_errors
from xds.audit.trail import AuditTrail, install
from xds.ebrim import (
    adhoc_query_request_to_ebrim,
    imaging_retrieve_request_to_ebrim,
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
    retrieve_request_to_ebrim,
    retrieve_response_from_ebrim,
)
from xds.hl7v2 import build_ack
from xds.model import (
    DocumentRequest,
    RetrieveDocumentSetRequest,
    RetrieveImagingDocumentSetRequest,
    SeriesRequest,
    StudyRequest,
)
from xds.soap import SoapClient
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus

EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"


class Subscriber(ThreadedMllp):
    """A PIX Consumer for ITI-10 on its own event loop thread: acknowledges every message with AA."""

    def __init__(self) -> None:
        super().__init__(self._ack)
        self.received: list[bytes] = []

    async def _ack(self, message: bytes, _peer: str | None) -> bytes:
        self.received.append(message)
        return build_ack(message, "AA")


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    with Subscriber() as consumer:
        yield consumer


def wait_for(predicate, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_scripted_sequence_leaves_one_valid_record_per_transaction_and_side(
    tmp_path: Path, subscriber: Subscriber
) -> None:
    need_tool("movescu")
    dest_port = free_port()
    config = tmp_path / "xds.toml"
    config.write_text(
        f'[pix]\nsubscribers = ["127.0.0.1:{subscriber.server.port}"]\n'
        "[imaging]\nstudy_idle_seconds = 1\n"
    )
    env = {
        **xds_env(tmp_path),
        "XDS_REGISTRY_MLLP_PORT": str(free_port()),
        "XDS_PIX_MLLP_PORT": str(free_port()),
        "XDS_DICOM_PORT": str(free_port()),
        "XDS_DICOM_DESTINATIONS": f"DEST@127.0.0.1:{dest_port}",
    }
    dicom_port = int(env["XDS_DICOM_PORT"])
    proc, url = start_xds(["up", "--config", str(config)], env)

    def xds(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(XDS + list(args), env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def records(*args: str) -> list[dict]:
        return json.loads(xds("audit", "--json", "--xml", *args).stdout)

    def count(event_type: str) -> int:
        return sum(r["event_type"] == event_type for r in records())

    try:
        # feed: ITI-8 to the PIX Manager, which feeds the registry and notifies its subscriber (ITI-10)
        xds("feed", "--pid", PATIENT_ID, "--name", "DOE^JANE", "--birth", "19700101")
        wait_for(lambda: count("ITI-8") >= 3 and count("ITI-10") >= 1)
        # images: C-STORE (RAD-8), published as a KOS when the study is idle (RAD-68 -> ITI-41 -> ITI-42)
        study = write_study(tmp_path / "study", slices=3, patient_id=PATIENT_ID.split("^")[0])
        assert storescu(dicom_port, *study.files).returncode == 0
        wait_for(lambda: count("RAD-68") >= 1)
        # submit, query, retrieve (ITI-41 -> ITI-42, ITI-18, ITI-43)
        request = pnr("88", b"report")
        with SoapClient() as client:
            body, parts = pnr_to_ebrim_with_parts(request, xop=True)
            reply = client.call(url + "/xds/repository", Transaction.ITI_41, body, parts)
            assert registry_response_from_ebrim(reply.body).status == ResponseStatus.SUCCESS
            client.call(url + "/xds/registry", Transaction.ITI_18,
                        adhoc_query_request_to_ebrim(find_documents_query()))
            unique_id = request.submission.document_entries[0].unique_id
            retrieve = retrieve_request_to_ebrim(RetrieveDocumentSetRequest(
                (DocumentRequest("1.3.6.1.4.1.21367.2011.2.5.1", unique_id),)))
            client.call(url + "/xds/repository", Transaction.ITI_43, retrieve).discard()
            # RAD-69: every instance of the study
            wanted = RetrieveImagingDocumentSetRequest(
                (StudyRequest(study.study_uid, (SeriesRequest(study.series_uids[0], tuple(
                    DocumentRequest(DEFAULT_SOURCE_UID, uid) for uid in study.sop_uids)),)),),
                (EXPLICIT_VR_LE,),
            )
            reply = client.call(url + "/xds/imaging", Transaction.RAD_69,
                                imaging_retrieve_request_to_ebrim(wanted))
            answer = retrieve_response_from_ebrim(reply.body, reply.attachments)
            assert answer.response.status == ResponseStatus.SUCCESS and len(answer.documents) == 3
        # C-FIND and C-MOVE (RAD-14, RAD-16) with dcmtk
        keys = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study.study_uid}"]
        local_id = PATIENT_ID.split("^")[0]
        found = tool("findscu", "-S", "-aec", "XDSI_SOURCE", *keys, "-k", f"PatientID={local_id}",
                     "127.0.0.1", str(dicom_port))
        assert found.returncode == 0, found.stderr
        received = tmp_path / "moved"
        with storescp(received, "DEST", port=dest_port):
            moved = tool("movescu", "-S", "-aec", "XDSI_SOURCE", "-aem", "DEST", *keys, "127.0.0.1",
                         str(dicom_port))
            assert moved.returncode == 0, moved.stderr
        assert len([p for p in received.iterdir() if p.is_file()]) == 3
        # WADO-URI (RAD-55) and WADO-RS (RAD-107)
        sop = study.sop_uids[0]
        wado = httpx.get(url + "/wado", params={"requestType": "WADO", "studyUID": study.study_uid,
                                                "seriesUID": study.series_uids[0], "objectUID": sop,
                                                "contentType": "application/dicom"})
        assert wado.status_code == 200
        assert httpx.get(f"{url}/dicomweb/studies/{study.study_uid}/metadata").status_code == 200

        expected = Counter({
            "ITI-8": 3,  # PIX Manager as receiver and as Patient Identity Source, registry as receiver
            "ITI-10": 1,  # PIX Manager to its subscriber (the subscriber is not ours)
            "RAD-8": 1,  # imaging source receiving the study (one record for the association)
            "RAD-68": 1, "ITI-41": 2, "ITI-42": 4,  # source side and repository side of both submissions
            "ITI-18": 1, "ITI-43": 1, "RAD-69": 1, "RAD-14": 1, "RAD-16": 1, "RAD-55": 1, "RAD-107": 1,
        })
        wait_for(lambda: len(records()) >= sum(expected.values()), 30)
        found_records = records()
        assert Counter(r["event_type"] for r in found_records) == expected
        failed = [(r["event_type"], r["outcome"]) for r in found_records if r["outcome"] or not r["valid"]]
        assert failed == []
        # the patient's "who saw my data": everything but ITI-43, whose request names documents only
        mine = Counter(r["event_type"] for r in records("--pid", PATIENT_ID))
        assert mine == expected - Counter({"ITI-43": 1})
        by_type = {r["event_type"]: etree.fromstring(r["xml"].encode()) for r in found_records}
        _check_dicom_records(by_type, study.study_uid)
        assert len(subscriber.received) == 1
    finally:
        stop_xds(proc)


def _check_dicom_records(by_type: dict[str, etree._Element], study_uid: str) -> None:
    def objects(record: etree._Element, id_type: str) -> list[etree._Element]:
        return [o for o in record.iter("ParticipantObjectIdentification")
                if o.find("ParticipantObjectIDTypeCode").get("csd-code") == id_type]

    for tx, event, action in (("RAD-8", "110104", "C"), ("RAD-16", "110104", "R"), ("RAD-69", "110106", "R"),
                              ("RAD-55", "110106", "R"), ("RAD-107", "110106", "R")):
        record = by_type[tx]
        assert record.find("EventIdentification/EventID").get("csd-code") == event
        assert record.find("EventIdentification").get("EventActionCode") == action
        # PS3.15 A.5.3.7 / A.5.3.4: the study (110180) and its patient
        assert [o.get("ParticipantObjectID") for o in objects(record, "110180")] == [study_uid]
        assert [o.get("ParticipantObjectID") for o in objects(record, "2")] == [PATIENT_ID]
    move = by_type["RAD-16"]
    users = {p.get("UserID"): p.get("UserIsRequestor") for p in move.iter("ActiveParticipant")}
    assert users["XDSI_SOURCE"] == "false" and users["DEST"] == "false" and "true" in users.values()
    assert "NumberOfInstances 3" in objects(move, "110180")[0].findtext("ParticipantObjectDescription")
    # PS3.15 A.5.3.10: the C-FIND identifier as sent, with its transfer syntax
    [sop_queried] = objects(by_type["RAD-14"], "110181")
    identifier = base64.b64decode(sop_queried.findtext("ParticipantObjectQuery"))
    syntax = base64.b64decode(sop_queried.find("ParticipantObjectDetail").get("value")).decode()
    dataset = read_dataset(BytesIO(identifier), syntax == "1.2.840.10008.1.2", True)  # implicit VR LE or not
    assert dataset.StudyInstanceUID == study_uid and dataset.QueryRetrieveLevel == "STUDY"
    # the patient of a C-FIND is the one its PatientID names, as the domain knows it (the KOS's patientId)
    assert [o.get("ParticipantObjectID") for o in objects(by_type["RAD-14"], "2")] == [PATIENT_ID]


# --- failures are recorded too (ITI TF-2a 3.20: the outcome), on an imaging source in this process ----------


@pytest.fixture
def audited_source(tmp_path: Path) -> Iterator[tuple[object, AuditTrail, Study]]:
    from imaging_helpers import destination, imaging_settings, running_source

    settings = imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data",
                                destinations=[destination("GONE", free_port())])
    trail = AuditTrail(settings)  # no repository: the records wait in the outbox, where we read them
    install(trail)
    try:
        with running_source(settings) as src:
            study = write_study(tmp_path / "study", slices=2, patient_id="4711")
            assert storescu(src.port, *study.files).returncode == 0
            yield src, trail, study
    finally:
        install(None)
        trail.stop()


def outbox_records(trail: AuditTrail, event_type: str, wanted: int = 1) -> list[etree._Element]:
    def matching() -> list[etree._Element]:
        found = [etree.fromstring(syslog.parse(data).msg) for _, data in trail.sender.outbox.oldest(1000)]
        return [r for r in found if _event_type(r) == event_type]

    wait_for(lambda: len(matching()) >= wanted, 30)
    records = matching()
    for record in records:
        assert schema_errors(record) == []
    return records


def _event_type(record: etree._Element) -> str | None:
    code = record.find("EventIdentification/EventTypeCode")
    return None if code is None else code.get("csd-code")


def outcome(record: etree._Element) -> str:
    return record.find("EventIdentification").get("EventOutcomeIndicator")


def test_a_failed_cmove_is_recorded_as_a_failure(audited_source) -> None:  # noqa: ANN001
    src, trail, study = audited_source
    keys = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study.study_uid}"]
    # GONE is configured, but nothing listens there: every sub-operation fails
    tool("movescu", "-S", "-aec", "XDSI_SOURCE", "-aem", "GONE", *keys, "127.0.0.1", str(src.port))
    tool("movescu", "-S", "-aec", "XDSI_SOURCE", "-aem", "NOWHERE", *keys, "127.0.0.1", str(src.port))
    records = outbox_records(trail, "RAD-16", 2)
    assert [outcome(r) for r in records] == ["8", "8"]
    unknown = records[-1]
    assert "A801" in unknown.findtext("EventIdentification/EventOutcomeDescription")
    assert "NOWHERE" in {p.get("UserID") for p in unknown.iter("ActiveParticipant")}


def test_a_refused_cfind_and_a_missing_wado_object_are_recorded_as_failures(audited_source) -> None:  # noqa: ANN001
    src, trail, study = audited_source
    bad_level = ["-k", "QueryRetrieveLevel=NONSENSE"]
    tool("findscu", "-S", "-aec", "XDSI_SOURCE", *bad_level, "127.0.0.1", str(src.port))
    [query] = outbox_records(trail, "RAD-14")
    assert outcome(query) == "8"
    missing = httpx.get(src.base + "/wado", params={"requestType": "WADO", "studyUID": study.study_uid,
                                                    "seriesUID": study.series_uids[0], "objectUID": "1.2.3"})
    assert missing.status_code == 404
    [export] = outbox_records(trail, "RAD-55")
    assert outcome(export) == "8" and "404" in export.findtext("EventIdentification/EventOutcomeDescription")


def test_cstore_and_cget_leave_one_record_each(audited_source, tmp_path: Path) -> None:  # noqa: ANN001
    src, trail, study = audited_source
    [stored] = outbox_records(trail, "RAD-8")  # two instances, one association: one record
    assert "NumberOfInstances 2" in stored.findtext(".//ParticipantObjectDescription")
    out = tmp_path / "got"
    out.mkdir()
    run = tool("getscu", "-S", "-aec", "XDSI_SOURCE", "-k", "QueryRetrieveLevel=STUDY", "-k",
               f"StudyInstanceUID={study.study_uid}", "-od", str(out), "127.0.0.1", str(src.port))
    assert run.returncode == 0, run.stderr

    def gets() -> list[etree._Element]:
        found = [etree.fromstring(syslog.parse(d).msg) for _, d in trail.sender.outbox.oldest(1000)]
        return [r for r in found if r.find("EventIdentification").get("EventActionCode") == "R"
                and _event_type(r) is None]

    wait_for(lambda: len(gets()) == 1, 30)
    [got] = gets()  # a C-GET: no IHE transaction, the requestor is the destination
    assert outcome(got) == "0" and schema_errors(got) == []
    roles = {p.get("UserID"): p.get("UserIsRequestor") for p in got.iter("ActiveParticipant")}
    assert roles == {"XDSI_SOURCE": "false", "GETSCU": "true"}

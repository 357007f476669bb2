"""The issue's end-to-end case: a synthetic CT study of 200 slices 512x512 stored by dcmtk storescu, its KOS
registered (metadata checked by ITI-18), and RAD-69, WADO-URI, WADO-RS and C-MOVE each returning every
instance byte-identical."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from imaging_helpers import (
    dataset_part,
    destination,
    free_port,
    imaging_settings,
    running_source,
    storescp,
    storescu,
    tool,
    write_study,
)
from repository_helpers import running_domain, wait_for
from sample_data import DOMAIN_OID
from test_imaging_retrieve import multipart_parts, rad69

from xds.ebrim import adhoc_query_request_to_ebrim, adhoc_query_response_from_ebrim
from xds.model import AdhocQueryRequest, QueryParameter
from xds.transactions import Transaction
from xds.vocabulary import FORMAT_CODE_DICOM_KOS, ReferenceIdType, ResponseStatus, StoredQuery

PID = f"4711^^^&{DOMAIN_OID}&ISO"
SLICES = 200


def get_document(registry, unique_id: str):  # noqa: ANN001, ANN201
    request = AdhocQueryRequest(
        StoredQuery.GET_DOCUMENTS, (QueryParameter("$XDSDocumentEntryUniqueId", (f"('{unique_id}')",)),)
    )
    reply = registry.client.call(registry.url, Transaction.ITI_18, adhoc_query_request_to_ebrim(request))
    [entry] = adhoc_query_response_from_ebrim(reply.body).document_entries
    return entry


@pytest.mark.slow
def test_ct_study_end_to_end(tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=SLICES, rows=512, columns=512, accession="ACC-200")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    dest_port = free_port()
    with running_domain(database_url, tmp_path / "domain") as domain:
        domain.registry.add_patient(PID)
        settings = imaging_settings(
            database_url,
            tmp_path / "img",
            repository_url=domain.repository.url,
            study_idle_seconds=1,
            destinations=[destination("DEST", dest_port)],
        )
        with running_source(settings) as src:
            run = storescu(src.port, *study.files)
            assert run.returncode == 0, run.stderr
            wait_for(lambda: src.store.published_manifest(study.study_uid) is not None, "the manifest", 120)
            kos_uid = src.store.published_manifest(study.study_uid).kos_uid

            # RAD TF-3 4.68.4.1.2.3 metadata, as the registry holds it
            entry = get_document(domain.registry, kos_uid)
            assert entry.patient_id.render() == PID
            assert entry.source_patient_id.id_number == "4711"
            assert (entry.class_code.code, entry.type_code.code) == ("BIL", "BILD")
            assert entry.format_code.code == FORMAT_CODE_DICOM_KOS
            assert entry.mime_type == "application/dicom"
            assert {c.code for c in entry.event_codes} == {"CT", "43799004"}  # modality, CHEST
            assert entry.service_start_time == "20240115091500"
            refs = {r.identifier_type_code: r.id_number for r in entry.reference_ids}
            assert refs == {
                ReferenceIdType.STUDY_INSTANCE_UID: study.study_uid,
                ReferenceIdType.ACCESSION: "ACC-200",
            }

            stored = {i.sop_instance_uid: i.path for i in src.store.find_instances(study_uid=study.study_uid)}
            assert len(stored) == SLICES

            response, contents = rad69(src, study, list(stored))
            assert response.response.status == ResponseStatus.SUCCESS
            assert contents == {uid: path.read_bytes() for uid, path in stored.items()}

            with httpx.Client(base_url=src.base, timeout=120) as http:
                for inst in src.store.find_instances(study_uid=study.study_uid):
                    got = http.get(
                        "/wado",
                        params={
                            "requestType": "WADO",
                            "studyUID": inst.study_uid,
                            "seriesUID": inst.series_uid,
                            "objectUID": inst.sop_instance_uid,
                            "contentType": "application/dicom",
                        },
                    )
                    assert got.content == stored[inst.sop_instance_uid].read_bytes()
                rs = http.get(f"/dicomweb/studies/{study.study_uid}")
                assert sorted(multipart_parts(rs)) == sorted(p.read_bytes() for p in stored.values())

            received = tmp_path / "moved"
            with storescp(received, "DEST", port=dest_port):
                run = tool(
                    "movescu",
                    "-S",
                    "-aec",
                    "XDSI_SOURCE",
                    "-aem",
                    "DEST",
                    "-k",
                    "QueryRetrieveLevel=STUDY",
                    "-k",
                    f"StudyInstanceUID={study.study_uid}",
                    "127.0.0.1",
                    str(src.port),
                )
                assert run.returncode == 0, run.stderr
            moved = {p.name: dataset_part(p) for p in received.iterdir()}
            assert sorted(moved.values()) == sorted(dataset_part(p) for p in stored.values())

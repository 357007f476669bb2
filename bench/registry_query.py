"""ITI-18 stored-query latency of the Document Registry at scale, on PostgreSQL.

Run: ``.venv/bin/python bench/registry_query.py [--documents 1000000] [--per-patient 10] [--runs 300]
[--database-url postgresql+psycopg://...]``

Without ``--database-url`` a throwaway cluster is started (tests/pg_cluster.py). The registry schema is
created by the registry's migrations and filled with COPY: DOCUMENTS DocumentEntries over
DOCUMENTS/PER_PATIENT patients, one SubmissionSet per five entries, a HasMember per entry, one
confidentialityCode, one eventCode and one author per entry; the ``ebrim`` column holds a real
DocumentEntry's XML with its ids swapped. Each query runs RUNS times for random patients through
``registry.iti18.stored_query`` (parse, SQL, response XML); the baseline is the bare indexed SELECT of
the same patient's rows, so the figures say what the query layer adds on this machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import select  # noqa: E402

from registry.iti18 import stored_query  # noqa: E402
from registry.rows import code_key, object_row  # noqa: E402
from registry.store import RegistryStore  # noqa: E402
from registry.tables import registry_object  # noqa: E402
from xds.model import AdhocQueryRequest, Code, QueryParameter  # noqa: E402
from xds.vocabulary import AssociationType, ReturnType, Status, StoredQuery  # noqa: E402

sys.path.append(str(ROOT / "bench"))
from registry_load import DOMAIN, RO_COLUMNS, deferred_indexes, pid, raw_url  # noqa: E402

CLASSES = [Code(c, "1.3.6.1.4.1.19376.3.276.1.5.8") for c in ("BEF", "BIL", "BRI", "DUR", "LAB", "PLA")]
EVENTS = [Code(f"E{n}", "1.3.6.1.4.1.19376.3.276.1.5.16") for n in range(100, 130)]
CONF = [Code(c, "2.16.840.1.113883.5.25") for c in ("N", "R", "V")]
AUTHORS = ["^Mustermann^Erika", "^Schmidt^Hans", "^Meyer^Anna", "^Weber^Paul", "^Wagner^Lena"]

def templates() -> dict[str, dict]:
    from sample_data import document_entry, has_member, submission_set

    rows = {
        "de": object_row(replace(document_entry("urn:uuid:TEMPLATE"), availability_status=Status.APPROVED)),
        "ss": object_row(replace(submission_set("urn:uuid:TEMPLATE"), availability_status=Status.APPROVED)),
        "hm": object_row(
            replace(has_member("urn:uuid:TEMPLATE", "S", "D"), availability_status=Status.APPROVED)
        ),
    }
    return {k: r.values for k, r in rows.items()}


def load(url: str, documents: int, per_patient: int) -> int:
    """Fill the registry; returns the number of patients."""
    import psycopg

    store = RegistryStore.open(url)
    store.close()
    tpl = templates()
    patients = max(1, documents // per_patient)
    rnd = random.Random(7)
    t0 = time.perf_counter()
    with psycopg.connect(raw_url(url)) as conn, conn.cursor() as cur:
        with deferred_indexes(cur):  # dropped during COPY, rebuilt after it
            columns = ", ".join(RO_COLUMNS)
            codes: list[tuple] = []
            authors: list[tuple] = []
            with cur.copy(f"COPY registry_object ({columns}) FROM STDIN") as copy:
                seq = 0
                for d in range(documents):
                    p = d // per_patient
                    seq += 1
                    de_seq, de_id = seq, f"urn:uuid:de-{d}"
                    if d % 5 == 0:
                        seq += 1
                        ss_id = f"urn:uuid:ss-{d}"
                        ss = tpl["ss"] | {
                            "seq": seq, "id": ss_id, "patient_id": pid(p), "unique_id": f"2.{d}"
                        }
                        ss["ebrim"] = tpl["ss"]["ebrim"].replace("urn:uuid:TEMPLATE", ss_id)
                        copy.write_row([ss.get(c) for c in RO_COLUMNS])
                    created = f"20{rnd.randint(10, 24)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}103000"
                    de = tpl["de"] | {
                        "seq": de_seq,
                        "id": de_id,
                        "patient_id": pid(p),
                        "unique_id": f"1.{d}",
                        "logical_id": de_id,
                        "version": 1,
                        "class_code": code_key(rnd.choice(CLASSES)),
                        "creation_time_key": created,
                        "service_start_time_key": created,
                        "service_stop_time_key": created,
                        "status": Status.APPROVED if rnd.random() < 0.9 else Status.DEPRECATED,
                        "ebrim": tpl["de"]["ebrim"].replace("urn:uuid:TEMPLATE", de_id),
                    }
                    copy.write_row([de.get(c) for c in RO_COLUMNS])
                    seq += 1
                    hm_id = f"urn:uuid:hm-{d}"
                    hm = tpl["hm"] | {"seq": seq, "id": hm_id, "source": ss_id, "target": de_id}
                    hm["object_type"] = AssociationType.HAS_MEMBER.value
                    hm["ebrim"] = tpl["hm"]["ebrim"].replace("urn:uuid:TEMPLATE", hm_id)
                    copy.write_row([hm.get(c) for c in RO_COLUMNS])
                    codes.append((de_seq, "confidentialityCode", code_key(rnd.choice(CONF))))
                    codes.append((de_seq, "eventCodeList", code_key(rnd.choice(EVENTS))))
                    authors.append((de_seq, rnd.choice(AUTHORS)))
            with cur.copy("COPY object_code (object_seq, attribute, code) FROM STDIN") as copy:
                for row in codes:
                    copy.write_row(row)
            with cur.copy("COPY object_author (object_seq, person) FROM STDIN") as copy:
                for row in authors:
                    copy.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('registry_object', 'seq'), %s)", (seq,))
        cur.execute(
            "INSERT INTO patient (pid, status, updated) SELECT 'P' || n || '^^^&' || %s || '&ISO', 'active', "
            "'20240101000000' FROM generate_series(0, %s) n",
            (DOMAIN, patients - 1),
        )
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    print(f"loaded {documents} entries, {patients} patients in {time.perf_counter() - t0:.1f} s")
    return patients


def request(
    query: StoredQuery, params: dict[str, str], return_type: str = ReturnType.LEAF_CLASS
) -> AdhocQueryRequest:
    slots = tuple(QueryParameter(k, (v,)) for k, v in params.items())
    return AdhocQueryRequest(query_id=query, parameters=slots, return_type=return_type)


def measure(name: str, runs: int, call: Callable[[int], object], patients: int) -> None:
    rnd = random.Random(11)
    times = []
    for _ in range(runs):
        p = rnd.randrange(patients)
        t0 = time.perf_counter()
        call(p)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{name:58s} p50 {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms")


def run(url: str, documents: int, per_patient: int, runs: int) -> None:
    patients = load(url, documents, per_patient)
    store = RegistryStore.open(url)
    approved = f"('{Status.APPROVED}')"
    de = "$XDSDocumentEntry"

    def find(extra: dict[str, str], return_type: str = ReturnType.LEAF_CLASS) -> Callable[[int], object]:
        return lambda p: stored_query(
            store,
            request(
                StoredQuery.FIND_DOCUMENTS,
                {f"{de}PatientId": f"'{pid(p)}'", f"{de}Status": approved, **extra},
                return_type,
            ),
        )

    def baseline(p: int) -> object:
        with store.read() as conn:
            return conn.execute(select(registry_object).where(registry_object.c.patient_id == pid(p))).all()

    measure("baseline: SELECT * of the patient's rows", runs, baseline, patients)
    measure("FindDocuments LeafClass", runs, find({}), patients)
    measure("FindDocuments ObjectRef", runs, find({}, ReturnType.OBJECT_REF), patients)
    measure(
        "FindDocuments classCode", runs, find({f"{de}ClassCode": f"('{code_key(CLASSES[1])}')"}), patients
    )
    measure(
        "FindDocuments creationTime range",
        runs,
        find({f"{de}CreationTimeFrom": "2015", f"{de}CreationTimeTo": "2020"}),
        patients,
    )
    measure(
        "FindDocuments eventCodeList",
        runs,
        find({f"{de}EventCodeList": f"('{code_key(EVENTS[3])}')"}),
        patients,
    )
    measure(
        "FindDocuments confidentialityCode AND eventCode",
        runs,
        find(
            {
                f"{de}ConfidentialityCode": f"('{code_key(CONF[0])}')",
                f"{de}EventCodeList": f"('{code_key(EVENTS[3])}')",
            }
        ),
        patients,
    )
    measure("FindDocuments authorPerson LIKE", runs, find({f"{de}AuthorPerson": "('%Schmidt%')"}), patients)
    get_all = {
        "$patientId": "'{}'",
        f"{de}Status": approved,
        "$XDSSubmissionSetStatus": approved,
        "$XDSFolderStatus": approved,
    }
    measure(
        "GetAll",
        runs,
        lambda p: stored_query(
            store, request(StoredQuery.GET_ALL, {k: v.format(pid(p)) for k, v in get_all.items()})
        ),
        patients,
    )
    measure(
        "GetSubmissionSetAndContents (5 entries)",
        runs,
        lambda p: stored_query(
            store,
            request(
                StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
                {"$XDSSubmissionSetEntryUUID": f"'urn:uuid:ss-{p * per_patient}'"},
            ),
        ),
        patients,
    )
    measure(
        "GetDocuments (3 uniqueIds)",
        runs,
        lambda p: stored_query(
            store,
            request(
                StoredQuery.GET_DOCUMENTS,
                {
                    f"{de}UniqueId": "('1.{}', '1.{}', '1.{}')".format(
                        *(p * per_patient + i for i in range(3))
                    )
                },
            ),
        ),
        patients,
    )
    measure(
        "GetRelatedDocuments (none related)",
        runs,
        lambda p: stored_query(
            store,
            request(
                StoredQuery.GET_RELATED_DOCUMENTS,
                {
                    f"{de}EntryUUID": f"'urn:uuid:de-{p * per_patient}'",
                    "$AssociationTypes": f"('{AssociationType.RPLC}')",
                },
            ),
        ),
        patients,
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--per-patient", type=int, default=10)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway cluster)")
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.documents, args.per_patient, args.runs)
        return
    from pg_cluster import PostgresCluster

    with PostgresCluster() as cluster:
        run(cluster.url, args.documents, args.per_patient, args.runs)


if __name__ == "__main__":
    main()

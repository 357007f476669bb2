"""The registry stays consistent under concurrent writers and failures (ITI TF-2b 3.42.4.1.3: a submission
is stored whole or not at all), on SQLite and PostgreSQL; and its schema is what the migrations create."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from pg_cluster import PostgresCluster
from registry_helpers import Mllp, RegistryServer, adt, related, running_registry, single_document
from sample_data import DOMAIN_OID, PATIENT_ID
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import xds.db
from registry import store as db
from registry.rows import object_row
from registry.store import MIGRATIONS
from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, SUBMISSION_SET, metadata
from xds.db import make_engine, migrate, writer
from xds.ebrim import adhoc_query_request_to_ebrim, adhoc_query_response_from_ebrim
from xds.errors import ErrorCode
from xds.model import AdhocQueryRequest, QueryParameter, RegistryResponse, Submission
from xds.soap import SoapClient
from xds.transactions import Transaction
from xds.vocabulary import AssociationType, ResponseStatus, ReturnType, Status, StoredQuery


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[RegistryServer]:
    with running_registry(database_url, tmp_path / "data") as server:
        server.add_patient()
        yield server


def test_schema_matches_the_tables(registry: RegistryServer) -> None:
    with registry.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_migration_0002_keeps_the_stored_xml(database_url: str) -> None:
    # a registry of the first schema, holding an object's XML as bytes, upgraded in place
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with writer(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    xml = '<rim:ExtrinsicObject xmlns:rim="urn:r" id="urn:uuid:1"><rim:Name value="Befund \u00fc"/>'
    xml += "</rim:ExtrinsicObject>"
    row = {"id": "urn:uuid:1", "kind": DOCUMENT_ENTRY, "status": Status.APPROVED, "ebrim": xml.encode()}
    insert = "INSERT INTO registry_object (id, kind, status, ebrim) VALUES (:id, :kind, :status, :ebrim)"
    with writer(engine).begin() as conn:
        conn.execute(text(insert), row)
        seq = conn.execute(text("SELECT seq FROM registry_object")).scalar_one()
        conn.execute(text("INSERT INTO object_code VALUES (:s, 'classCode', 'BEF^^1.2')"), {"s": seq})
        conn.execute(text("INSERT INTO object_author VALUES (:s, '^Doe^Jane')"), {"s": seq})
        conn.execute(text("INSERT INTO object_reference VALUES (:s, 'A1^^^&1.2&ISO')"), {"s": seq})
    migrate(engine, MIGRATIONS)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ebrim FROM registry_object")).scalar_one() == xml
        # the rows that point at the object survive the table's rebuild (SQLite: no cascade on the way)
        for table in ("object_code", "object_author", "object_reference"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1, table
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
    engine.dispose()


def at_once(registry: RegistryServer, submissions: list[list[Submission]]) -> list[list[RegistryResponse]]:
    """One thread per list, each with its own client, all starting together; the responses per thread."""
    barrier = threading.Barrier(len(submissions))
    results: list[list[RegistryResponse]] = [[] for _ in submissions]
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with SoapClient() as client:
                own = RegistryServer(registry.url, registry.store, client, registry.mllp_port)
                barrier.wait()
                results[index] = [own.register(s) for s in submissions[index]]
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(submissions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return results


def statuses(responses: list[RegistryResponse]) -> Counter:
    return Counter(r.status for r in responses)


def test_two_writers_for_one_patient_lose_nothing(registry: RegistryServer) -> None:
    per_writer = 15
    batches = [[single_document(f"{w}.{i}") for i in range(per_writer)] for w in (1, 2)]
    results = at_once(registry, batches)
    assert all(statuses(r) == Counter({ResponseStatus.SUCCESS: per_writer}) for r in results)
    assert registry.count(SUBMISSION_SET) == registry.count(DOCUMENT_ENTRY) == 2 * per_writer
    assert registry.count(ASSOCIATION) == 2 * per_writer


def test_two_writers_with_one_unique_id_one_wins(registry: RegistryServer) -> None:
    rounds = 5
    batches = [[single_document(f"7.{i}") for i in range(rounds)] for _ in (1, 2)]
    results = at_once(registry, batches)
    for i in range(rounds):
        pair = [results[0][i], results[1][i]]
        assert statuses(pair) == Counter({ResponseStatus.SUCCESS: 1, ResponseStatus.FAILURE: 1})
        (failed,) = [r for r in pair if r.status == ResponseStatus.FAILURE]
        assert {str(e.code) for e in failed.errors} == {ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY}
    assert registry.count(SUBMISSION_SET) == registry.count(DOCUMENT_ENTRY) == rounds


def test_two_replacements_of_one_document_one_wins(registry: RegistryServer) -> None:
    rounds = 5
    originals = []
    for i in range(rounds):
        submission = single_document(f"8.{i}")
        assert registry.register(submission).status == ResponseStatus.SUCCESS
        (row,) = registry.rows_by_unique_id(DOCUMENT_ENTRY, submission.document_entries[0].unique_id)
        originals.append(row.id)
    batches = [
        [related(f"9{w}.{i}", originals[i], AssociationType.RPLC) for i in range(rounds)] for w in (1, 2)
    ]
    results = at_once(registry, batches)
    for i in range(rounds):
        pair = [results[0][i], results[1][i]]
        assert statuses(pair) == Counter({ResponseStatus.SUCCESS: 1, ResponseStatus.FAILURE: 1})
        assert registry.row(originals[i]).status == Status.DEPRECATED
    # per original: one replacement stored, with version 2
    assert registry.count(DOCUMENT_ENTRY) == 2 * rounds


INJECT = {
    "sqlite": [
        "CREATE TRIGGER inject BEFORE INSERT ON registry_object WHEN NEW.kind = 'Association' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION inject() RETURNS trigger AS $$ BEGIN IF NEW.kind = 'Association' THEN "
        "RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER inject BEFORE INSERT ON registry_object FOR EACH ROW EXECUTE FUNCTION inject()",
    ],
}
REMOVE = {"sqlite": ["DROP TRIGGER inject"], "postgresql": ["DROP TRIGGER inject ON registry_object"]}


def execute(registry: RegistryServer, statements: list[str]) -> None:
    with registry.store.write() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_failure_half_way_leaves_nothing(registry: RegistryServer) -> None:
    dialect = registry.store.engine.dialect.name
    assert registry.register(single_document("100")).status == ResponseStatus.SUCCESS
    (original,) = registry.rows_by_unique_id(
        DOCUMENT_ENTRY, single_document("100").document_entries[0].unique_id
    )
    before = registry.count()
    execute(registry, INJECT[dialect])
    # the SubmissionSet and DocumentEntry rows are written, then the Association insert fails
    response = registry.register(related("101", original.id, AssociationType.RPLC))
    assert response.status == ResponseStatus.FAILURE
    assert [str(e.code) for e in response.errors] == [ErrorCode.XDS_REGISTRY_ERROR]
    assert registry.count() == before
    assert registry.row(original.id).status == Status.APPROVED
    execute(registry, REMOVE[dialect])
    # the same submission goes through once the fault is gone: nothing of the failed attempt was left behind
    assert (
        registry.register(related("101", original.id, AssociationType.RPLC)).status == ResponseStatus.SUCCESS
    )
    assert registry.row(original.id).status == Status.DEPRECATED


def test_an_entry_uuid_taken_meanwhile_is_an_integrity_error(registry: RegistryServer) -> None:
    """ITI-42 retries once on IntegrityError (registry/iti42.py), also when PostgreSQL's statements run on
    the driver (registry/pgstore.py), whose errors the store raises as SQLAlchemy's."""
    (ss,) = single_document("110").submission_sets
    uuid = "urn:uuid:3f0c1d52-7c1e-4a7e-9d41-0d6b1f3e2a10"
    row = object_row(replace(ss, entry_uuid=uuid, availability_status=Status.APPROVED))
    with registry.store.write() as conn:
        db.insert_objects(conn, [row])
    with pytest.raises(IntegrityError), registry.store.write() as conn:
        db.insert_objects(conn, [row])
    assert registry.count() == 1


def test_connections_the_database_dropped_cost_no_request(
    postgres_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry's pool tests a connection only after it sat idle (xds.db); one that broke while in use
    is found by its first statement: the pool then drops its older connections and the transaction runs
    once more (ITI-42, ITI-18 and ITI-8 through RegistryStore.transact / query)."""
    name = "dropped_connections"
    url = postgres_cluster.create_database(name)
    try:
        with running_registry(url, tmp_path / "data") as registry:
            registry.add_patient()
            assert registry.register(single_document("120.1")).status == ResponseStatus.SUCCESS
            # never idle long enough for the ping: the first statement finds the connection gone
            monkeypatch.setattr(xds.db, "IDLE_PING_SECONDS", 3600.0)
            postgres_cluster.terminate_connections(name)  # the registry's pool and the test's alike
            assert registry.register(single_document("120.2")).status == ResponseStatus.SUCCESS
            postgres_cluster.terminate_connections(name)
            assert len(find_documents(registry)) == 2
            postgres_cluster.terminate_connections(name)
            feed = Mllp(registry.mllp_port)
            try:
                assert feed.send(adt("A01", f"P2^^^&{DOMAIN_OID}&ISO"))["MSA"][1] == "AA"
            finally:
                feed.close()
            # every connection counts as idle: the ping on checkout finds it gone
            monkeypatch.setattr(xds.db, "IDLE_PING_SECONDS", 0.0)
            postgres_cluster.terminate_connections(name)
            assert registry.register(single_document("120.3")).status == ResponseStatus.SUCCESS
            assert registry.count(DOCUMENT_ENTRY) == 3
    finally:
        postgres_cluster.drop_database(name)


# at COMMIT, the first inserted registry_object row ends the connection (a deferred constraint trigger), and
# the sequence, which no rollback takes back, counts the COMMITs that got that far
DIE_AT_COMMIT = [
    "CREATE SEQUENCE commits_reached",
    """CREATE FUNCTION die_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('commits_reached');
        PERFORM pg_terminate_backend(pg_backend_pid());
        PERFORM pg_sleep(5);
        RETURN NULL;
    END $$""",
    "CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON registry_object DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION die_at_commit()",
]


def test_a_connection_lost_in_the_commit_is_not_tried_again(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    """A registration whose connection broke in the COMMIT may have been stored, so it is not run a second
    time (which would find its own uniqueIds): XDSRegistryError, the outcome unknown to the registry."""
    name = "lost_in_commit"
    url = postgres_cluster.create_database(name)
    try:
        with running_registry(url, tmp_path / "data") as registry:
            registry.add_patient()
            execute(registry, DIE_AT_COMMIT)
            response = registry.register(single_document("130"))
            assert [str(e.code) for e in response.errors] == [ErrorCode.XDS_REGISTRY_ERROR]
            assert registry.count() == 0
            with registry.store.read() as conn:
                assert conn.execute(text("SELECT last_value FROM commits_reached")).scalar_one() == 1
    finally:
        postgres_cluster.drop_database(name)


def find_documents(registry: RegistryServer) -> list[str]:
    """The entryUUIDs of the patient's Approved DocumentEntries (ITI-18 FindDocuments, ObjectRef)."""
    request = AdhocQueryRequest(
        StoredQuery.FIND_DOCUMENTS,
        (
            QueryParameter("$XDSDocumentEntryPatientId", (f"'{PATIENT_ID}'",)),
            QueryParameter("$XDSDocumentEntryStatus", (f"('{Status.APPROVED}')",)),
        ),
        return_type=ReturnType.OBJECT_REF,
    )
    reply = registry.client.call(registry.url, Transaction.ITI_18, adhoc_query_request_to_ebrim(request))
    response = adhoc_query_response_from_ebrim(reply.body)
    assert response.status == ResponseStatus.SUCCESS, response.errors
    return [ref.id for ref in response.object_refs]

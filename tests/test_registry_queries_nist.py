"""The NIST XDS Toolkit Stored Query tests (11897-11909, 12368, 15803) against our registry: the data set of
12346 (and 12374, a second patient, for 12368) registered through our ITI-42, every query step of the
tests' index.idx run through registry.iti18 and judged as the NIST engine judges it (ExpectedStatus,
ExpectedErrorCode, ExpectedContents; README section 3 of the corpus). On SQLite and PostgreSQL; skipped
when the shared corpus is absent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree
from nist_sq import CORPUS, DOMAIN_OID, Replay, load, query_steps

from registry import store as db
from registry.iti18 import stored_query
from xds.ebrim import adhoc_query_response_from_ebrim
from xds.errors import XdsError
from xds.model import AdhocQueryResponse
from xds.vocabulary import Status

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared conformance corpus not present")

PATIENT = f"NIST-SQ-12346^^^&{DOMAIN_OID}&ISO"
OTHER_PATIENT = f"NIST-SQ-12374^^^&{DOMAIN_OID}&ISO"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def nist(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    name = "registry_queries_nist"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('nist') / 'registry.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_cluster").create_database(name)
    store = db.RegistryStore.open(url)
    replay = Replay()
    load(store, "12346", PATIENT, replay)
    load(store, "12374", OTHER_PATIENT, replay)
    yield store, {step.id: step for step in query_steps(replay)}
    store.close()
    if request.param == "postgresql":
        request.getfixturevalue("postgres_cluster").drop_database(name)


def _step_ids() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return [step.id for step in query_steps(_FakeReplay())]


class _FakeReplay(Replay):
    """Resolves every UseId to a dummy value: only to list the steps at collection time."""

    def used(self, section, directive):  # noqa: ANN001, ANN201
        return directive.get("symbol", ""), "urn:uuid:00000000-0000-0000-0000-000000000000"


def _counts(r: AdhocQueryResponse) -> dict[str, int]:
    return {
        "Documents": len(r.document_entries),
        "SubmissionSets": len(r.submission_sets),
        "Folders": len(r.folders),
        "Associations": len(r.associations),
        "ObjectRefs": len(r.object_refs),
    }


# the shapes of a GetSubmissionSetAndContents answer (README 3): (documents, folders)
_SHAPES = {
    "SSwithOneDoc": (1, 0),
    "SSwithTwoDoc": (2, 0),
    "SSwithOneDocOneFol": (1, 1),
    "SSwithTwoDocOneFol": (2, 1),
}


@pytest.mark.parametrize("step_id", _step_ids())
def test_nist_stored_query(nist, step_id):
    store, steps = nist
    step = steps[step_id]
    try:
        answer = adhoc_query_response_from_ebrim(etree.fromstring(stored_query(store, step.request)))
    except XdsError as error:
        assert step.expected_status == "Failure", f"{step.id}: {error}"
        if step.expected_error:
            assert step.expected_error in {str(e.code) for e in error.errors}
        return
    assert step.expected_status == "Success", f"{step.id} succeeded, expected {step.expected_status}"
    counts = _counts(answer)
    for what, count in step.expected:
        if what == "None":
            assert sum(counts.values()) == 0, counts
        elif what in _SHAPES:
            docs, folders = _SHAPES[what]
            assert (counts["SubmissionSets"], counts["Documents"], counts["Folders"]) == (1, docs, folders), (
                counts
            )
            assert answer.submission_sets[0].availability_status == Status.APPROVED
        else:
            assert counts[what] == count, (what, counts)

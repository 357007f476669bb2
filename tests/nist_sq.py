"""The NIST XDS Toolkit Stored Query tests: the data set of tests 12346 and 12374 loaded into a registry,
and the stored-query steps (11897-11909, 12368, 15803) with their expectations, from the shared conformance
corpus. The engine's work (preparing requests, linking steps) is tests/nist_testkit.py.

Loading goes through the registry's own ITI-42 (registry.iti42.register) in process, with a registration
clock a minute back, so that FindFolders up to $now$ is no race (11899).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree
from nist_testkit import (
    CORPUS,
    DOMAIN_OID,
    TESTS,
    Replay,
    TestRun,
    fixed_symbols,
    in_index,
    parse,
    prepare_query,
)

from registry import store as db
from registry.iti42 import register
from xds.ebrim import adhoc_query_request_from_ebrim, registry_response_to_ebrim, submit_objects_from_ebrim
from xds.errors import XdsError
from xds.model import AdhocQueryRequest, RegistryResponse
from xds.validation import ValidationConfig
from xds.vocabulary import ResponseStatus

__all__ = ["CORPUS", "DOMAIN_OID", "QueryStep", "Replay", "load", "query_steps"]

SQ_TESTS = ("11897", "11898", "11899", "11901", "11902", "11903", "11904", "11905", "11906", "11907", "11908")
SQ_TESTS += ("11909", "12368", "15803")


@dataclass
class InProcess:
    """The engine's transport straight into registry.iti42 (registration only)."""

    store: db.RegistryStore
    clock: Callable[[], str]

    def register(self, request: etree._Element) -> etree._Element:
        try:
            warnings = register(
                self.store,
                submit_objects_from_ebrim(request),
                validation=ValidationConfig(),
                clock=self.clock,
            )
            response = RegistryResponse(ResponseStatus.SUCCESS, tuple(warnings))
        except XdsError as error:
            response = RegistryResponse(ResponseStatus.FAILURE, error.errors)
        return registry_response_to_ebrim(response)

    def query(self, request: etree._Element) -> etree._Element:
        raise NotImplementedError("the data set tests only register")

    def feed(self, patient_id: str) -> str:
        with self.store.write() as conn:
            db.save_patient(conn, patient_id, name="NIST^SQ", birth_date=None, sex=None)
        return "AA"


def load(store: db.RegistryStore, test: str, pid: str, replay: Replay) -> None:
    """Run ``test`` (12346 or 12374) for patient ``pid``, fed first as the PIF test 15818 does."""
    a_minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y%m%d%H%M%S")
    run = TestRun(InProcess(store, lambda: a_minute_ago), replay)
    run.run_test("15818", pid)  # PIF: its $patientid$ report is what 12346 uses
    run.run_test(test, pid)


@dataclass(frozen=True)
class QueryStep:
    test: str
    section: str
    step: str
    request: AdhocQueryRequest
    expected_status: str
    expected_error: str | None
    expected: tuple[tuple[str, int | None], ...]  # (ExpectedContents child, count attribute)

    @property
    def id(self) -> str:
        return f"{self.test}/{self.section}/{self.step}"


def query_steps(replay: Replay) -> list[QueryStep]:
    """Every StoredQueryTransaction step of the SQ tests, its request with the placeholders resolved."""
    fixed = fixed_symbols()
    steps = []
    for test in SQ_TESTS:
        for name in in_index(test):
            section = TESTS / test / name
            for step in parse(section / "testplan.xml").iter("TestStep"):
                tx = step.find("StoredQueryTransaction")
                if tx is None:
                    continue
                symbols = fixed | dict(replay.used(section, u) for u in tx.iter("UseId"))
                el = prepare_query(section / tx.findtext("MetadataFile", ""), symbols)
                contents = tx.find("ExpectedContents")
                expected = tuple(
                    (c.tag, int(c.get("count", "0")) if c.get("count") is not None else None)
                    for c in (contents if contents is not None else [])
                    if isinstance(c.tag, str)
                )
                steps.append(
                    QueryStep(
                        test,
                        name,
                        step.get("id", ""),
                        adhoc_query_request_from_ebrim(el),
                        step.findtext("ExpectedStatus", "Success").strip(),
                        (step.findtext("ExpectedErrorCode") or "").strip() or None,
                        expected,
                    )
                )
    return steps

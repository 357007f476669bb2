"""The NIST XDS Toolkit test engine (toolkit 7.12.0), as far as our registry tests need it.

The shared conformance corpus (../shared/conformance, never copied into the project) holds the NIST tests
as the toolkit runs them: per test an index.idx of sections, per section a testplan.xml of steps. This
module does with them what the engine does (the corpus README, sections 3-5):

- prepares requests: ebRIM 2.1 -> 3.0, patient ID, fresh uniqueIds, sourceId, <AssignUuids/>, ``$name$``
  substitution from <UseId>/<UseReport>, the stored-query cleanup of unfilled parameters;
- keeps the run log that <UseId>, <UseReport> and <Report> link steps and tests through;
- runs the steps of a test, section by section in index.idx order, against a Transport (a registry), and
  judges each as the engine does: the response against the ebRS 3.0 schema, ExpectedStatus,
  ExpectedErrorMessage / ExpectedErrorCode, ExpectedContents (the toolkit's Validator), and <Assertions>
  (XPath over the section's log).
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape

from lxml import etree

from xds.ebrim import adhoc_query_response_from_ebrim
from xds.errors import SoapFault
from xds.model import AdhocQueryResponse
from xds.schemas import validate
from xds.vocabulary import (
    DE_PATIENT_ID,
    DE_UNIQUE_ID,
    FOLDER_PATIENT_ID,
    FOLDER_UNIQUE_ID,
    NS_LCM,
    NS_RIM,
    NS_RS,
    SS_PATIENT_ID,
    SS_SOURCE_ID,
    SS_UNIQUE_ID,
    AssociationType,
    Status,
)

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance"
TESTS = CORPUS / "nist-testkit" / "tests"
DOMAIN_OID = "1.3.6.1.4.1.21367.2005.13.20.1000"
SOURCE_OID = "1.3.6.1.4.1.21367.4"  # nist-testkit/toolkitx-support/xdstest/sourceid.txt

V2_RIM = "urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1"
_RIM_ORDER = ("Slot", "Name", "Description", "VersionInfo", "Classification", "ExternalIdentifier")
_OBJECT_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:"
_STATUS = "urn:oasis:names:tc:ebxml-regrep:StatusType:"
_RESPONSE_STATUS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:"
_PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
_ERROR_SEVERITY = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
_ASSOCIATION_TYPES = {t.value.rsplit(":", 1)[1]: t.value for t in AssociationType}
_PATIENT_SCHEMES = {DE_PATIENT_ID, SS_PATIENT_ID, FOLDER_PATIENT_ID}
_UNIQUE_ID_SCHEMES = {DE_UNIQUE_ID, SS_UNIQUE_ID, FOLDER_UNIQUE_ID}
_REFERENCES = ("classifiedObject", "registryObject", "sourceObject", "targetObject")
_PLACEHOLDER = re.compile(r"\$[A-Za-z0-9_]+\$")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_blank_text=True, remove_comments=True
)
_TRANSACTIONS = (
    "RegisterTransaction",
    "StoredQueryTransaction",
    "PatientIdentityFeedTransaction",
    "NullTransaction",
)
# <WaitBefore> lets a clock move on between steps (12323: Folder.lastUpdateTime must change). Our registry
# stamps to the second (ITI TF-3 4.2.3.1.7), so a little more than a second does what NIST's 4 s do.
MAX_WAIT_SECONDS = 1.1


def rim(local: str) -> str:
    return f"{{{NS_RIM}}}{local}"


def parse(path: Path) -> etree._Element:
    return etree.parse(str(path), _PARSER).getroot()


def in_index(test: str) -> list[str]:
    """The sections of ``test`` the engine runs, in order (index.idx)."""
    return (TESTS / test / "index.idx").read_text().split()


# ----------------------------------------------------------------------------------------------------------
# Preparation of requests (README 4)


def to_v3(root: etree._Element) -> etree._Element:
    """README 4.1 (the engine's TranslateToV3): an ebRIM 2.1 SubmitObjectsRequest as lcm/rim 3.0."""
    if root.tag == f"{{{NS_LCM}}}SubmitObjectsRequest":
        return root  # already 3.0
    out = etree.Element(f"{{{NS_LCM}}}SubmitObjectsRequest", nsmap={"lcm": NS_LCM, "rim": NS_RIM})
    objects = etree.SubElement(out, rim("RegistryObjectList"))
    numbers = itertools.count(1)
    for child in root.iter(f"{{{V2_RIM}}}LeafRegistryObjectList"):
        for obj in child:
            if isinstance(obj.tag, str) and etree.QName(obj).localname != "ObjectRef":
                objects.append(_convert(obj, None, numbers))
    return out


def _convert(el: etree._Element, owner: str | None, numbers: itertools.count) -> etree._Element:
    local = etree.QName(el).localname
    new = etree.Element(rim(local))
    for name, value in el.attrib.items():
        if name not in ("majorVersion", "minorVersion"):
            new.set(name, value)
    if local in ("RegistryPackage", "Association", "Classification", "ExternalIdentifier"):
        new.set("objectType", _OBJECT_TYPE + local)
        if local != "RegistryPackage" and not new.get("id"):
            new.set("id", f"id_{next(numbers)}")
    if local == "ExternalIdentifier" and owner and not new.get("registryObject"):
        new.set("registryObject", owner)
    if new.get("status") and ":" not in new.get("status", ""):
        new.set("status", _STATUS + new.get("status", ""))
    if local == "Association":
        kind = new.get("associationType", "")
        new.set("associationType", _ASSOCIATION_TYPES.get(kind, kind))
    new.text = el.text
    kids = [_convert(c, new.get("id") or owner, numbers) for c in el if isinstance(c.tag, str)]
    order = {name: i for i, name in enumerate(_RIM_ORDER)}
    for kid in sorted(kids, key=lambda k: order.get(etree.QName(k).localname, -1)):
        new.append(kid)
    return new


def substitute(text: str, symbols: Mapping[str, str], *, xml: bool = True) -> str:
    """README 4.6: every symbol replaced by its value (longest symbols first)."""
    for symbol in sorted(symbols, key=len, reverse=True):
        value = symbols[symbol]
        text = text.replace(symbol, escape(value, {'"': "&quot;"}) if xml else value)
    return text


Assigned = dict[str, dict[str, str]]  # "AssignedUuids" | "AssignedUids" | "AssignedPatientId" -> id -> value


def prepare_submission(
    path: Path,
    symbols: Mapping[str, str],
    new_uid: Callable[[], str],
    *,
    patient_id: str | None,
    assign_uuids: bool,
    keep_uids: frozenset[str] | None = frozenset(),
) -> tuple[etree._Element, Assigned]:
    """README 4.1-4.6 for one SubmitObjectsRequest template.

    ``patient_id``: written into every patientId ExternalIdentifier, None with <NoPatientId/>.
    ``keep_uids``: the objects whose uniqueId stays as sent (<NoAssignUids id="X"/>); None for all of them
    (<NoAssignUids/>). The placeholders are substituted first, so that an id taken from an earlier step
    (15806 resubmits ``$deid$``) is a UUID that <AssignUuids/> leaves alone.
    """
    el = to_v3(etree.fromstring(substitute(path.read_text(), symbols).encode(), _PARSER))
    assigned: Assigned = {"AssignedUuids": {}, "AssignedUids": {}, "AssignedPatientId": {}}
    for ei in el.iter(rim("ExternalIdentifier")):
        scheme, owner = ei.get("identificationScheme"), ei.get("registryObject", "")
        if scheme in _PATIENT_SCHEMES:
            if patient_id is not None:
                ei.set("value", patient_id)
            assigned["AssignedPatientId"][owner] = ei.get("value", "")
        elif scheme in _UNIQUE_ID_SCHEMES:
            if keep_uids is not None and owner not in keep_uids:
                ei.set("value", new_uid())
            assigned["AssignedUids"][owner] = ei.get("value", "")
        elif scheme == SS_SOURCE_ID:
            ei.set("value", SOURCE_OID)
    if assign_uuids:
        uuids = {
            i: f"urn:uuid:{uuid.uuid4()}"
            for i in (e.get("id") for e in el.iter() if e.get("id"))
            if i and not i.startswith("urn:uuid:")
        }
        for e in el.iter():
            for attr in ("id", *_REFERENCES):
                if e.get(attr) in uuids:
                    e.set(attr, uuids[e.get(attr, "")])
        assigned["AssignedUuids"] = uuids
    return el, assigned


def prepare_query(path: Path, symbols: Mapping[str, str]) -> etree._Element:
    """README 4.6-4.7: substitute, then drop Values still holding a $...$, emptied Slots, and AdhocQuery
    attributes holding a $."""
    el = etree.fromstring(substitute(path.read_text(), symbols).encode(), _PARSER)
    for value in list(el.iter(rim("Value"))):
        if _PLACEHOLDER.search(value.text or ""):
            value.getparent().remove(value)
    for slot in list(el.iter(rim("Slot"))):
        if not list(slot.iter(rim("Value"))):
            slot.getparent().remove(slot)
    for query in el.iter(rim("AdhocQuery")):
        for name, value in list(query.attrib.items()):
            if "$" in value:
                del query.attrib[name]
    return el


def fixed_symbols() -> dict[str, str]:
    """README 4.6 fixed values. UTC, the registry's zone (ITI TF-3 4.2.3.1.7), not NIST's local time."""
    now = datetime.now(UTC)
    return {
        "$now$": now.strftime("%Y%m%d%H%M%S"),
        "$lastyear$": (now - timedelta(days=365)).strftime("%Y%m%d%H%M%S"),
        "$DATE$": now.strftime("%Y%m%d"),
    }


# ----------------------------------------------------------------------------------------------------------
# The run log


@dataclass
class StepLog:
    assigned: Assigned = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)


@dataclass
class Replay:
    """What the engine logged per step run, keyed by (section folder, step id)."""

    log: dict[tuple[Path, str], StepLog] = field(default_factory=dict)
    uids: itertools.count = field(default_factory=lambda: itertools.count(1))
    patients: itertools.count = field(default_factory=lambda: itertools.count(1))
    run: str = field(default_factory=lambda: str(uuid.uuid4().int % 10**9))

    def new_uid(self) -> str:
        """A fresh OID, as the engine's ``1.2.42.<timestamp>.<n>``."""
        return f"1.2.42.{self.run}.{next(self.uids)}"

    def new_patient_id(self) -> str:
        return f"NIST{self.run}.{next(self.patients)}^^^&{DOMAIN_OID}&ISO"

    def record(self, section: Path, step: str) -> StepLog:
        return self.log.setdefault((section.resolve(), step), StepLog())

    def used(self, section: Path, directive: etree._Element) -> tuple[str, str]:
        """A <UseId testdir step section id symbol/> -> (symbol, value)."""
        where = (section / directive.get("testdir", ".")).resolve(), directive.get("step", "")
        value = self.log[where].assigned[directive.get("section", "")][directive.get("id", "")]
        return directive.get("symbol", ""), value

    def reported(self, section: Path, directive: etree._Element) -> tuple[str, str]:
        """A <UseReport [test] section step reportName useAs/> -> (useAs, value)."""
        name = directive.get("section", "")
        if directive.get("test"):
            folder = TESTS / directive.get("test", "") / name
        elif name == "THIS":
            folder = section
        else:
            folder = section.parent / name
        value = self.log[(folder.resolve(), directive.get("step", ""))].reports[
            directive.get("reportName", "")
        ]
        return directive.get("useAs", ""), value


# ----------------------------------------------------------------------------------------------------------
# Running a test


class Transport(Protocol):
    """How the engine reaches the system under test. A SOAP Fault is raised as xds.errors.SoapFault."""

    def register(self, request: etree._Element) -> etree._Element: ...  # ITI-42: rs:RegistryResponse

    def query(self, request: etree._Element) -> etree._Element: ...  # ITI-18: query:AdhocQueryResponse

    def feed(self, patient_id: str) -> str: ...  # ITI-8 ADT^A01: MSA-1 of the ACK


class StepFailed(AssertionError):
    pass


@dataclass
class TestRun:
    """Runs NIST tests as the engine does, one Replay log across them (so later tests use earlier ones)."""

    __test__ = False  # not a pytest class

    transport: Transport
    replay: Replay = field(default_factory=Replay)
    # "test/section/step" -> why that step's NIST expectation is not ours (TF and NIST disagree); such a
    # step is sent, and its outcome must then differ from the NIST expectation
    deviations: Mapping[str, str] = field(default_factory=dict)
    steps_run: list[str] = field(default_factory=list)

    def run_test(self, test: str, patient_id: str) -> None:
        """Every section of ``test`` with ``patient_id`` as the engine's configured patient."""
        state = _TestState(test, patient_id)
        for name in in_index(test):
            self._run_section(state, TESTS / test / name)

    def _run_section(self, state: _TestState, section: Path) -> None:
        log = etree.Element("TestResults")  # the section's log.xml, which <Assertions> read as "THIS"
        for step in parse(section / "testplan.xml").iter("TestStep"):
            where = f"{state.test}/{section.name}/{step.get('id')}"
            self.steps_run.append(where)
            try:
                self._run_step(state, section, step, log)
            except StepFailed as failure:
                if where in self.deviations:
                    continue  # the registry follows the TF here, and NIST's expectation fails, as it must
                raise StepFailed(f"{where}: {failure}") from None
            if where in self.deviations:
                raise StepFailed(f"{where} met NIST's expectation, which deviates: {self.deviations[where]}")

    def _run_step(self, state: _TestState, section: Path, step: etree._Element, log: etree._Element) -> None:
        if step.find("NewPatientId") is not None:
            # the engine switches to a new patient; we feed it, so that a later step's failure must come from
            # the rule it is about, not from an unknown patient (11998: RPLC across patients)
            state.patient_id = self.replay.new_patient_id()
            _check(self.transport.feed(state.patient_id) == "AA", "the new patient was not accepted")
        tx = next((t for name in _TRANSACTIONS if (t := step.find(name)) is not None), None)
        if tx is None:
            return
        entry = etree.SubElement(log, "TestStep", id=step.get("id", ""))
        record = self.replay.record(section, step.get("id", ""))
        wait = tx.findtext("WaitBefore")
        if wait:
            time.sleep(min(int(wait) / 1000, MAX_WAIT_SECONDS))
        symbols = fixed_symbols()
        symbols |= dict(self.replay.used(section, u) for u in tx.findall("UseId"))
        symbols |= dict(self.replay.reported(section, u) for u in tx.findall("UseReport"))
        kind = etree.QName(tx).localname
        if kind == "PatientIdentityFeedTransaction":
            ack = self.transport.feed(state.patient_id)
            record.reports["$patientid$"] = state.patient_id
            _judge_status(step, "Success" if ack == "AA" else "Failure")
            return
        if kind == "NullTransaction":
            _judge_assertions(tx, symbols, log)
            return
        if kind == "RegisterTransaction":
            patient = None if tx.find("NoPatientId") is not None else state.patient_id
            if step.find("AltPatientId") is not None:
                patient = self.replay.new_patient_id()  # 11996: an ID never fed to the registry
            request, record.assigned = prepare_submission(
                section / tx.findtext("MetadataFile", "").strip(),
                symbols,
                self.replay.new_uid,
                patient_id=patient,
                assign_uuids=tx.find("AssignUuids") is not None,
                keep_uids=_kept_uids(tx),
            )
            send = self.transport.register
        else:
            request = prepare_query(section / tx.findtext("MetadataFile", "").strip(), symbols)
            send = self.transport.query
        _reports(tx, "InputMetadata", request, record)
        try:
            response = send(request)
        except SoapFault as fault:
            _judge_status(step, "Fault", str(fault))
            return
        result = etree.SubElement(entry, kind)
        etree.SubElement(result, "InputMetadata").append(deepcopy(request))
        etree.SubElement(result, "Result").append(deepcopy(response))
        # README 3: the engine schema-validates every response; a problem there fails the step
        problems = validate(response)
        _check(not problems, f"the response does not validate: {problems[:3]}")
        _reports(tx, "Result", response, record)
        _judge_response(step, response)
        contents = tx.find("ExpectedContents")
        if contents is not None:

            def resolve(directive: etree._Element) -> str:
                return self.replay.used(section, directive)[1]

            _judge_contents(contents, response, resolve)
        _judge_assertions(tx, symbols, log)


@dataclass
class _TestState:
    test: str
    patient_id: str


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise StepFailed(problem)


def _kept_uids(tx: etree._Element) -> frozenset[str] | None:
    """<NoAssignUids id="X"/> keeps the uniqueId of X as sent, <NoAssignUids/> every uniqueId."""
    spared = tx.find("NoAssignUids")
    if spared is None:
        return frozenset()
    return frozenset([spared.get("id", "")]) if spared.get("id") else None


def _reports(tx: etree._Element, section: str, root: etree._Element, record: StepLog) -> None:
    """<Report name section="InputMetadata|Result">XPath</Report>: the first value the XPath selects."""
    for report in tx.findall("Report"):
        if report.get("section") != section:
            continue
        found = etree.ElementTree(deepcopy(root)).xpath((report.text or "").strip())
        if isinstance(found, list):
            _check(bool(found), f"Report {report.get('name')} selects nothing")
            found = found[0]
        text = found.text if isinstance(found, etree._Element) else str(found)
        record.reports[report.get("name", "")] = (text or "").strip()


def _status(response: etree._Element) -> str:
    status = response.get("status", "")
    if status == _PARTIAL_SUCCESS:
        return "PartialSuccess"
    _check(status.startswith(_RESPONSE_STATUS), f"status {status!r} is not an ebRS ResponseStatusType")
    return status.removeprefix(_RESPONSE_STATUS)


def _judge_status(step: etree._Element, status: str, detail: str = "") -> None:
    expected = [s.strip() for s in step.findtext("ExpectedStatus", "Success").split(",")]
    _check(status in expected, f"status {status}, expected {'|'.join(expected)} {detail}".rstrip())


def _judge_response(step: etree._Element, response: etree._Element) -> None:
    errors = [
        (e.get("errorCode", ""), e.get("codeContext", ""), e.get("severity", ""))
        for e in response.iter(f"{{{NS_RS}}}RegistryError")
    ]
    _judge_status(step, _status(response), f"(errors: {errors})")
    message = (step.findtext("ExpectedErrorMessage") or "").strip()
    if message:
        # README 3: a substring of the codeContext or errorCode of a RegistryError of severity Error
        _check(
            any(
                message in code or message in context
                for code, context, sev in errors
                if sev == _ERROR_SEVERITY
            ),
            f"no Error-severity RegistryError with {message!r} (errors: {errors})",
        )
    code = (step.findtext("ExpectedErrorCode") or "").strip()
    if code:
        _check(any(c == code for c, _, _ in errors), f"no RegistryError with errorCode {code} ({errors})")


def _judge_assertions(tx: etree._Element, symbols: Mapping[str, str], log: etree._Element) -> None:
    """<Assertions><Assert>XPath</Assert>: true over the section's log (DataRef file="THIS")."""
    assertions = tx.find("Assertions")
    if assertions is None:
        return
    for assertion in assertions.findall("Assert"):
        expression = substitute((assertion.text or "").strip(), symbols, xml=False)
        outcome = etree.ElementTree(log).xpath(expression)
        _check(bool(outcome), f"Assert {assertion.get('id')} is false: {expression}")


# ----------------------------------------------------------------------------------------------------------
# ExpectedContents: the toolkit's Validator (gov.nist.toolkit.testengine.engine.Validator)


def _simple_type(association_type: str) -> str:
    return association_type.rsplit(":", 1)[-1]


@dataclass
class _Contents:
    r: AdhocQueryResponse
    resolve: Callable[[etree._Element], str]
    problems: list[str] = field(default_factory=list)

    def err(self, problem: str) -> None:
        self.problems.append(problem)

    def count(self, what: str, n: int) -> None:
        found = len(self.objects(what))
        if found != n:
            self.err(f"{found} {what} instead of {n}")

    def objects(self, what: str) -> tuple:
        return {
            "SubmissionSets": self.r.submission_sets,
            "Documents": self.r.document_entries,
            "Folders": self.r.folders,
            "Associations": self.r.associations,
            "ObjectRefs": self.r.object_refs,
        }[what]

    def submission_set(self) -> str | None:
        if not self.r.submission_sets:
            self.err("no SubmissionSet")
            return None
        return self.r.submission_sets[0].entry_uuid

    def has_member(self, source: str | None, targets: list[str]) -> str | None:
        """The id of a HasMember from ``source`` to one of ``targets``."""
        for a in self.r.associations:
            if a.source == source and a.target in targets and _simple_type(a.association_type) == "HasMember":
                return a.entry_uuid
        self.err(f"no HasMember from {source} to {' or '.join(targets) or 'nothing'}")
        return None

    def shape(
        self, docs: int, folders: int | None, associations: int, *, one_in_folder: bool = False
    ) -> None:
        """A GetSubmissionSetAndContents result (Validator ss1Doc, ss2Doc, sswithOneFol, sswithOneDocOneFol,
        sswithTwoDocOneFol, sswithTwoDocOneFolOneDocInFol): the SubmissionSet with exactly these documents,
        folders and associations: SS-DE and SS-FD HasMembers, FD-DE HasMembers (of every document, or of one
        with ``one_in_folder``), and the SS HasMember of each FD-DE."""
        ss = self.submission_set()
        self.count("Documents", docs)
        if folders is not None:
            self.count("Folders", folders)
        if self.problems:
            return
        self.count("Associations", associations)
        doc_ids = [de.entry_uuid for de in self.r.document_entries]
        for target in (*doc_ids, *(f.entry_uuid for f in self.r.folders)):
            self.has_member(ss, [target])
        for folder in (f.entry_uuid for f in self.r.folders):
            if one_in_folder:
                links = [self.has_member(folder, doc_ids)]
            else:
                links = [self.has_member(folder, [d]) for d in doc_ids]
            for link in links:
                if link is not None:
                    self.has_member(ss, [link])

    def nothing(self) -> None:
        for what in ("SubmissionSets", "Documents", "Folders", "Associations"):
            self.count(what, 0)

    def ss_approved(self) -> None:
        ss = self.r.submission_sets
        if not ss:
            self.err("no SubmissionSet")
        elif ss[0].availability_status != Status.APPROVED:
            self.err(f"SubmissionSet status {ss[0].availability_status}")

    def documents(self, status: Status, how_many: str) -> None:
        """Every document (``all``) or exactly one (``one``) has ``status``."""
        n = sum(de.availability_status == status for de in self.r.document_entries)
        if (how_many == "all" and n != len(self.r.document_entries)) or (how_many == "one" and n != 1):
            self.err(f"{n} of {len(self.r.document_entries)} documents {status}, expected {how_many}")

    def folders(self, status: Status) -> None:
        if any(f.availability_status != status for f in self.r.folders):
            self.err(f"a Folder is not {status}")

    def relationship(self, kind: str) -> None:
        """HasRPLC, HasXFRM_RPLC, HasAPND: such an association, and at most one per target."""
        targets = [a.target for a in self.r.associations if _simple_type(a.association_type) == kind]
        if not targets:
            self.err(f"no {kind} association")
        elif len(set(targets)) != len(targets):
            self.err(f"several {kind} associations for one document")

    def must_only_include(self, expected: etree._Element) -> None:
        """<DocumentEntries><MustOnlyInclude><DocumentEntry><UseId/><DocumentEntryType/>: exactly these."""
        documents = {de.entry_uuid: de for de in self.r.document_entries}
        for selection in expected:
            if selection.tag != "MustOnlyInclude":
                self.err(f"DocumentEntries/{selection.tag} is not understood")
                continue
            wanted = []
            for entry in selection.findall("DocumentEntry"):
                entry_uuid = self.resolve(entry.find("UseId"))
                wanted.append(entry_uuid)
                object_type = (entry.findtext("DocumentEntryType") or "").strip()
                if entry_uuid not in documents:
                    self.err(f"document {entry_uuid} not returned")
                elif object_type and documents[entry_uuid].object_type != object_type:
                    self.err(f"document {entry_uuid} has objectType {documents[entry_uuid].object_type}")
            if len(documents) != len(wanted):
                self.err(f"{len(documents)} documents returned, {len(wanted)} expected")


_EXPECTATIONS: dict[str, Callable[[_Contents, etree._Element], None]] = {
    "SSwithOneDoc": lambda c, _: (c.shape(1, None, 1), c.ss_approved()),
    "SSwithOneDocOnly": lambda c, _: c.shape(1, None, 1),
    "SSwithTwoDoc": lambda c, _: (c.shape(2, None, 2), c.ss_approved()),
    "SSwithTwoDocOnly": lambda c, _: c.shape(2, None, 2),
    "SSwithOneFol": lambda c, _: c.shape(0, 1, 1),
    "SSwithOneDocOneFol": lambda c, _: c.shape(1, 1, 4),
    "SSwithTwoDocOneFol": lambda c, _: c.shape(2, 1, 7),
    "SSwithTwoDocOneFolOneDocInFol": lambda c, _: c.shape(2, 1, 5, one_in_folder=True),
    "SSApproved": lambda c, _: c.ss_approved(),
    "None": lambda c, _: c.nothing(),
    "ObjectRefs": lambda c, e: (c.count("ObjectRefs", int(e.get("count", "0"))), c.nothing()),
    "Documents": lambda c, e: c.count("Documents", int(e.get("count", "0"))),
    "Folders": lambda c, e: c.count("Folders", int(e.get("count", "0"))),
    "SubmissionSets": lambda c, e: c.count("SubmissionSets", int(e.get("count", "0"))),
    "Associations": lambda c, e: c.count("Associations", int(e.get("count", "0"))),
    "NoDocument": lambda c, _: c.count("Documents", 0),
    "NoSubmissionSet": lambda c, _: c.count("SubmissionSets", 0),
    "DocApp": lambda c, _: c.documents(Status.APPROVED, "all"),
    "DocDep": lambda c, _: c.documents(Status.DEPRECATED, "all"),
    "OneDocApp": lambda c, _: c.documents(Status.APPROVED, "one"),
    "OneDocDep": lambda c, _: c.documents(Status.DEPRECATED, "one"),
    "FolApp": lambda c, _: c.folders(Status.APPROVED),
    "FolDep": lambda c, _: c.folders(Status.DEPRECATED),
    "HasRPLC": lambda c, _: c.relationship("RPLC"),
    "HasXFRM_RPLC": lambda c, _: c.relationship("XFRM_RPLC"),
    "HasAPND": lambda c, _: c.relationship("APND"),
    "DocumentEntries": lambda c, e: c.must_only_include(e),
}


def _judge_contents(
    contents: etree._Element, response: etree._Element, resolve: Callable[[etree._Element], str]
) -> None:
    """Each child of <ExpectedContents>, as the toolkit's Validator.run_test_assertion judges it."""
    c = _Contents(adhoc_query_response_from_ebrim(response), resolve)
    for expected in contents:
        if not isinstance(expected.tag, str):
            continue
        if expected.tag not in _EXPECTATIONS:
            c.err(f"{expected.tag} is not understood")
            continue
        _EXPECTATIONS[expected.tag](c, expected)
    _check(not c.problems, "ExpectedContents: " + "; ".join(c.problems))

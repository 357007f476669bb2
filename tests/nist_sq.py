"""Replays the NIST XDS Toolkit Stored Query data set (tests 12346 and 12374) into a registry, and reads the
stored-query test steps (11897-11909, 12368, 15803) with their expectations, from the shared conformance
corpus (../shared/conformance; its README sections 3-5 describe what the NIST engine does, done here too).

Loading goes through the registry's own ITI-42 (registry.iti42.register), after the engine's preparation:
ebRIM 2.1 -> 3.0, AssignUuids, patient ID, fresh uniqueIds, sourceId and ``$...$`` substitution.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from registry import store as db
from registry.iti42 import register
from xds.ebrim import adhoc_query_request_from_ebrim, submit_objects_from_ebrim
from xds.model import AdhocQueryRequest
from xds.validation import ValidationConfig
from xds.vocabulary import (
    DE_PATIENT_ID,
    DE_UNIQUE_ID,
    FOLDER_PATIENT_ID,
    FOLDER_UNIQUE_ID,
    NS_LCM,
    NS_RIM,
    SS_PATIENT_ID,
    SS_SOURCE_ID,
    SS_UNIQUE_ID,
    AssociationType,
)

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance"
TESTS = CORPUS / "nist-testkit" / "tests"
DOMAIN_OID = "1.3.6.1.4.1.21367.2005.13.20.1000"
SOURCE_OID = "1.3.6.1.4.1.21367.4"  # nist-testkit/toolkitx-support/xdstest/sourceid.txt
SQ_TESTS = ("11897", "11898", "11899", "11901", "11902", "11903", "11904", "11905", "11906", "11907", "11908")
SQ_TESTS += ("11909", "12368", "15803")

V2_RIM = "urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1"
_RIM_ORDER = ("Slot", "Name", "Description", "VersionInfo", "Classification", "ExternalIdentifier")
_OBJECT_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:"
_STATUS = "urn:oasis:names:tc:ebxml-regrep:StatusType:"
_ASSOCIATION_TYPES = {t.value.rsplit(":", 1)[1]: t.value for t in AssociationType}
_PATIENT_SCHEMES = {DE_PATIENT_ID, SS_PATIENT_ID, FOLDER_PATIENT_ID}
_UNIQUE_ID_SCHEMES = {DE_UNIQUE_ID, SS_UNIQUE_ID, FOLDER_UNIQUE_ID}
_REFERENCES = ("classifiedObject", "registryObject", "sourceObject", "targetObject")
_PLACEHOLDER = re.compile(r"\$[A-Za-z0-9_]+\$")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_blank_text=True, remove_comments=True
)


def rim(local: str) -> str:
    return f"{{{NS_RIM}}}{local}"


def to_v3(root: etree._Element) -> etree._Element:
    """README 4.1 (the engine's TranslateToV3): an ebRIM 2.1 SubmitObjectsRequest as lcm/rim 3.0."""
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


@dataclass
class Replay:
    """What the engine logged per step run: ``{(section dir, step): {"AssignedUuids": {id: uuid}, ...}}``."""

    log: dict[tuple[Path, str], dict[str, dict[str, str]]] = field(default_factory=dict)
    uids: itertools.count = field(default_factory=lambda: itertools.count(1))
    run: str = field(default_factory=lambda: str(uuid.uuid4().int % 10**9))

    def used(self, section: Path, directive: etree._Element) -> tuple[str, str]:
        """A <UseId testdir step section id symbol/> -> (symbol, value)."""
        where = (section / directive.get("testdir", ".")).resolve(), directive.get("step", "")
        value = self.log[where][directive.get("section", "")][directive.get("id", "")]
        return directive.get("symbol", ""), value


def prepare(
    path: Path, replay: Replay, section: Path, step: str, pid: str, symbols: dict[str, str]
) -> etree._Element:
    """README 4.2-4.6 for one RegisterTransaction with <AssignUuids/>; logs what was assigned."""
    text = path.read_text()
    for symbol, value in symbols.items():
        text = text.replace(symbol, escape(value, {'"': "&quot;"}))
    el = to_v3(etree.fromstring(text.encode(), _PARSER))
    assigned: dict[str, dict[str, str]] = {"AssignedUuids": {}, "AssignedUids": {}, "AssignedPatientId": {}}
    for ei in el.iter(rim("ExternalIdentifier")):
        scheme, owner = ei.get("identificationScheme"), ei.get("registryObject", "")
        if scheme in _PATIENT_SCHEMES:
            ei.set("value", pid)
            assigned["AssignedPatientId"][owner] = pid
        elif scheme in _UNIQUE_ID_SCHEMES:
            ei.set("value", f"1.2.42.{replay.run}.{next(replay.uids)}")
            assigned["AssignedUids"][owner] = ei.get("value", "")
        elif scheme == SS_SOURCE_ID:
            ei.set("value", SOURCE_OID)
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
    replay.log[(section.resolve(), step)] = assigned
    return el


def load(store: db.RegistryStore, test: str, pid: str, replay: Replay) -> None:
    """Run the RegisterTransaction steps of ``test`` (12346 or 12374) for patient ``pid``."""
    with store.write() as conn:
        db.save_patient(conn, pid, name="NIST^SQ", birth_date=None, sex=None)
    a_minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y%m%d%H%M%S")
    for name in (TESTS / test / "index.idx").read_text().split():
        section = TESTS / test / name
        plan = etree.parse(str(section / "testplan.xml"), _PARSER).getroot()
        for step in plan.iter("TestStep"):
            tx = step.find("RegisterTransaction")
            if tx is None:
                continue
            symbols = dict(replay.used(section, u) for u in tx.iter("UseId"))
            el = prepare(
                section / tx.findtext("MetadataFile", ""), replay, section, step.get("id", ""), pid, symbols
            )
            # a registration clock a minute back, so that FindFolders up to $now$ is no race (11899)
            register(
                store,
                submit_objects_from_ebrim(el),
                validation=ValidationConfig(),
                clock=lambda: a_minute_ago,
            )


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


def in_index(test: str) -> list[str]:
    return (TESTS / test / "index.idx").read_text().split()


def query_steps(replay: Replay) -> list[QueryStep]:
    """Every StoredQueryTransaction step of the SQ tests, its request with the placeholders resolved."""
    now = datetime.now(UTC)
    fixed = {
        "$now$": now.strftime("%Y%m%d%H%M%S"),
        "$lastyear$": (now - timedelta(days=365)).strftime("%Y%m%d%H%M%S"),
    }
    steps = []
    for test in SQ_TESTS:
        for name in in_index(test):
            section = TESTS / test / name
            plan = etree.parse(str(section / "testplan.xml"), _PARSER).getroot()
            for step in plan.iter("TestStep"):
                tx = step.find("StoredQueryTransaction")
                if tx is None:
                    continue
                symbols = fixed | dict(replay.used(section, u) for u in tx.iter("UseId"))
                el = _query(section / tx.findtext("MetadataFile", ""), symbols)
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


def _query(path: Path, symbols: dict[str, str]) -> etree._Element:
    """README 4.6-4.7: substitute, then drop Values still holding a $...$, emptied Slots, and AdhocQuery
    attributes holding a $."""
    text = path.read_text()
    for symbol, value in symbols.items():
        text = text.replace(symbol, escape(value, {'"': "&quot;"}))
    el = etree.fromstring(text.encode(), _PARSER)
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

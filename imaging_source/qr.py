"""DICOM Query/Retrieve SCP (PS3.4 Annex C): C-FIND, C-MOVE and C-GET on the instance index.

Patient Root and Study Root information models, levels PATIENT / STUDY / SERIES / IMAGE. Matching follows
PS3.4 C.2.2.2: universal (empty), single value, wildcard (``*`` ``?``), list of UIDs (``\\``), and date/time
ranges (``a-b``). C-MOVE destinations come from the configured AE title -> host/port table.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pynetdicom import build_context, evt
from pynetdicom.presentation import PresentationContext
from sqlalchemy import select

from imaging_source import tables as t
from imaging_source.config import ImagingConfig
from imaging_source.send import MOVE_ORIGINATOR, StoredFile
from imaging_source.store import InstanceStore, StoredInstance, sorted_instances
from imaging_source.vocabulary import (
    EXPLICIT_VR_LE,
    STATUS_CANCEL,
    STATUS_IDENTIFIER_MISMATCH,
    STATUS_PENDING,
    STATUS_UNABLE_TO_PROCESS,
    UNCOMPRESSED,
)

log = logging.getLogger(__name__)

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
# PS3.4 C.6.1.1 / C.6.2.1: the keys this SCP matches and returns, per level (and those of levels above)
KEYS: dict[str, tuple[str, ...]] = {
    "PATIENT": (
        "PatientID",
        "PatientName",
        "PatientBirthDate",
        "PatientSex",
        "IssuerOfPatientID",
        "NumberOfPatientRelatedStudies",
    ),
    "STUDY": (
        "StudyInstanceUID",
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "StudyID",
        "StudyDescription",
        "ReferringPhysicianName",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
    ),
    "SERIES": (
        "SeriesInstanceUID",
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "BodyPartExamined",
        "NumberOfSeriesRelatedInstances",
    ),
    "IMAGE": ("SOPInstanceUID", "SOPClassUID", "InstanceNumber"),
}
UID_KEYS = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"}
RANGE_KEYS = {"StudyDate", "StudyTime", "PatientBirthDate"}
CASE_INSENSITIVE = {"PatientName", "ReferringPhysicianName"}  # PS3.4 C.2.2.2.1: PN may match without case


class QueryError(ValueError):
    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


def _value(ds: Dataset, keyword: str) -> str:
    elem = ds.get(keyword)
    if elem is None:
        return ""
    # PS3.4 C.2.2.2.2: a list of UIDs arrives multi-valued (pydicom's MultiValue is neither list nor tuple)
    if isinstance(elem, list | tuple | MultiValue):
        return "\\".join(str(v) for v in elem)
    return str(elem).strip()


def matches(keyword: str, wanted: str, actual: str) -> bool:
    """PS3.4 C.2.2.2 matching of one attribute value."""
    if wanted in ("", "*"):
        return True  # C.2.2.2.3 universal matching
    if keyword in UID_KEYS:
        return actual in wanted.split("\\")  # C.2.2.2.2 list of UID matching
    if keyword in RANGE_KEYS and "-" in wanted:
        low, _, high = wanted.partition("-")  # C.2.2.2.5 range matching
        return (not low or actual >= low) and (not high or actual <= high) and bool(actual)
    if keyword in CASE_INSENSITIVE:
        wanted, actual = wanted.upper(), actual.upper()
    if "*" in wanted or "?" in wanted:
        return fnmatch.fnmatchcase(actual, wanted.replace("[", "[[]"))  # C.2.2.2.4 wild card matching
    return actual == wanted  # C.2.2.2.1 single value matching


@dataclass(frozen=True)
class Query:
    level: str
    keys: Mapping[str, str]  # every key of the identifier (requested for return) with its matching value

    @classmethod
    def of(cls, identifier: Dataset, model_root: str) -> Query:
        level = _value(identifier, "QueryRetrieveLevel").upper()
        # PS3.4 C.4.1.2.1 / Table C.4-1: an identifier the SCP cannot take -> A900 (or C000)
        if level not in LEVELS:
            raise QueryError(STATUS_IDENTIFIER_MISMATCH, f"QueryRetrieveLevel {level!r} is not supported")
        if model_root == "STUDY" and level == "PATIENT":
            # PS3.4 C.6.2: the Study Root model has no PATIENT level
            raise QueryError(STATUS_IDENTIFIER_MISMATCH, "Study Root has no PATIENT level")
        keys = {elem.keyword: _value(identifier, elem.keyword) for elem in identifier if elem.keyword}
        keys.pop("QueryRetrieveLevel", None)
        keys.pop("SpecificCharacterSet", None)
        return cls(level, keys)


def _records(store: InstanceStore, query: Query) -> list[dict[str, Any]]:
    """The index rows at ``query.level`` as keyword -> value, filtered by the SQL-able UID keys."""
    k = query.keys
    studies = select(t.study)
    if k.get("StudyInstanceUID") and "*" not in k["StudyInstanceUID"]:
        studies = studies.where(t.study.c.study_uid.in_(k["StudyInstanceUID"].split("\\")))
    if k.get("PatientID") and "*" not in k["PatientID"] and "?" not in k["PatientID"]:
        studies = studies.where(t.study.c.patient_id == k["PatientID"])
    with store.read() as conn:
        study_rows = {row.study_uid: row for row in conn.execute(studies)}
        if not study_rows:
            return []
        uids = list(study_rows)
        series_rows = [
            row
            for start in range(0, len(uids), 500)
            for row in conn.execute(
                select(t.series).where(t.series.c.study_uid.in_(uids[start : start + 500]))
            )
        ]
        inst_query = select(
            t.instance.c.sop_instance_uid,
            t.instance.c.sop_class_uid,
            t.instance.c.instance_number,
            t.instance.c.series_uid,
            t.instance.c.study_uid,
        )
        if k.get("SeriesInstanceUID") and "*" not in k["SeriesInstanceUID"]:
            inst_query = inst_query.where(t.instance.c.series_uid.in_(k["SeriesInstanceUID"].split("\\")))
        if k.get("SOPInstanceUID") and "*" not in k["SOPInstanceUID"]:
            inst_query = inst_query.where(t.instance.c.sop_instance_uid.in_(k["SOPInstanceUID"].split("\\")))
        inst_rows = [
            row
            for start in range(0, len(uids), 500)
            for row in conn.execute(inst_query.where(t.instance.c.study_uid.in_(uids[start : start + 500])))
        ]
    per_series: dict[str, int] = {}
    for row in inst_rows:
        per_series[row.series_uid] = per_series.get(row.series_uid, 0) + 1
    series_by_uid = {row.series_uid: row for row in series_rows}

    def patient(row: Any) -> dict[str, Any]:
        return {
            "PatientID": row.patient_id,
            "PatientName": row.patient_name,
            "PatientBirthDate": row.birth_date,
            "PatientSex": row.sex,
            "IssuerOfPatientID": row.issuer,
        }

    def study(row: Any) -> dict[str, Any]:
        members = [s for s in series_rows if s.study_uid == row.study_uid]
        return {
            **patient(row),
            "StudyInstanceUID": row.study_uid,
            "StudyDate": row.study_date,
            "StudyTime": row.study_time,
            "AccessionNumber": row.accession,
            "StudyID": row.study_id,
            "StudyDescription": row.description,
            "ReferringPhysicianName": row.referring,
            "ModalitiesInStudy": "\\".join(sorted({s.modality for s in members if s.modality})),
            "NumberOfStudyRelatedSeries": len(members),
            "NumberOfStudyRelatedInstances": sum(per_series.get(s.series_uid, 0) for s in members),
        }

    def series(row: Any) -> dict[str, Any]:
        return {
            **study(study_rows[row.study_uid]),
            "SeriesInstanceUID": row.series_uid,
            "Modality": row.modality,
            "SeriesNumber": row.series_number,
            "SeriesDescription": row.description,
            "BodyPartExamined": row.body_part,
            "NumberOfSeriesRelatedInstances": per_series.get(row.series_uid, 0),
        }

    if query.level == "PATIENT":
        by_patient: dict[str, dict[str, Any]] = {}
        for row in study_rows.values():
            record = by_patient.setdefault(
                row.patient_id, {**patient(row), "NumberOfPatientRelatedStudies": 0}
            )
            record["NumberOfPatientRelatedStudies"] += 1
        return list(by_patient.values())
    if query.level == "STUDY":
        return [study(row) for row in study_rows.values()]
    if query.level == "SERIES":
        return [series(row) for row in series_rows]
    series_cache: dict[str, dict[str, Any]] = {}
    out = []
    for row in inst_rows:
        if row.series_uid not in series_cache:
            series_cache[row.series_uid] = series(series_by_uid[row.series_uid])
        out.append(
            {
                **series_cache[row.series_uid],
                "SOPInstanceUID": row.sop_instance_uid,
                "SOPClassUID": row.sop_class_uid,
                "InstanceNumber": row.instance_number,
            }
        )
    return out


def find(store: InstanceStore, query: Query) -> list[dict[str, Any]]:
    return [
        record
        for record in _records(store, query)
        if all(
            matches(key, value, "" if record.get(key) is None else str(record[key]))
            for key, value in query.keys.items()
            if key in record
        )
    ]


def _identifier(query: Query, record: Mapping[str, Any], charset: str | None) -> Dataset:
    # PS3.4 C.4.1.2.2: the response identifier holds the requested keys (with values) and the level
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.QueryRetrieveLevel = query.level
    for keyword in query.keys:
        value = record.get(keyword)
        setattr(ds, keyword, "" if value is None else value)
    return ds


def _model_root(context_abstract_syntax: str) -> str:
    # PS3.4 C.6: 1.2.840.10008.5.1.4.1.2.1.x Patient Root, .2.2.x Study Root
    return "PATIENT" if ".5.1.4.1.2.1." in context_abstract_syntax else "STUDY"


@dataclass
class QueryRetrieve:
    store: InstanceStore
    config: ImagingConfig
    tls: ssl.SSLContext | None = None  # for the C-MOVE sub-operations (ATNA: the destination's certificate)

    def _query(self, event) -> Query:  # noqa: ANN001
        return Query.of(event.identifier, _model_root(event.context.abstract_syntax))

    def handle_find(self, event) -> Iterator[tuple[int, Dataset | None]]:  # noqa: ANN001
        """EVT_C_FIND: one Pending (FF00) per match, then Success (PS3.4 C.4.1.3)."""
        try:
            query = self._query(event)
            records = find(self.store, query)
        except QueryError as exc:
            yield exc.status, None
            return
        except Exception:
            log.exception("C-FIND failed")
            yield STATUS_UNABLE_TO_PROCESS, None
            return
        charset = _value(event.identifier, "SpecificCharacterSet") or "ISO_IR 192"
        for record in records:
            if event.is_cancelled:
                yield STATUS_CANCEL, None
                return
            yield STATUS_PENDING, _identifier(query, record, charset)

    def instances_for(self, event) -> list[StoredInstance]:  # noqa: ANN001
        # PS3.4 C.4.2.2.1 / C.4.3.2.1: the unique keys down to the retrieve level select the instances
        query = self._query(event)
        if query.level == "PATIENT" and not query.keys.get("PatientID"):
            raise QueryError(STATUS_IDENTIFIER_MISMATCH, "a PATIENT level retrieve names the PatientID")
        image_query = Query("IMAGE", {k: v for k, v in query.keys.items() if v})
        uids = [r["SOPInstanceUID"] for r in find(self.store, image_query)]
        return sorted_instances(self.store.find_instances(sop_uids=uids))

    def handle_move(self, event) -> Iterator[Any]:  # noqa: ANN001
        """EVT_C_MOVE (PS3.4 C.4.2): destination, count, then one C-STORE sub-operation per instance."""
        destination = self.config.destination(str(event.move_destination))
        if destination is None:
            # PS3.4 C.4.2.1.4 Table C.4-2: A801 Refused: Move Destination unknown
            log.warning("C-MOVE to unknown destination %s", event.move_destination)
            yield None, None
            return
        try:
            instances = self.instances_for(event)
        except QueryError as exc:
            # pynetdicom takes a failure only after destination and count: the answer is the failure status
            yield destination.host, destination.port
            yield 1
            yield exc.status, None
            return
        contexts = storage_contexts(instances)
        handlers = [(evt.EVT_CONN_OPEN, nodelay)]
        association: dict[str, Any] = {
            "contexts": contexts,
            "evt_handlers": handlers,
            MOVE_ORIGINATOR: str(event.assoc.requestor.ae_title).strip(),
        }
        if self.tls is not None:
            # ITI TF-2a 3.19.6.1: the sub-association authenticates the destination as any other peer
            association["tls_args"] = (self.tls, destination.host)
        yield destination.host, destination.port, association
        yield len(instances)
        yield from self._send(event, instances)

    def handle_get(self, event) -> Iterator[Any]:  # noqa: ANN001
        """EVT_C_GET (PS3.4 C.4.3): count, then C-STORE sub-operations on the same association."""
        try:
            instances = self.instances_for(event)
        except QueryError as exc:
            yield 1
            yield exc.status, None
            return
        yield len(instances)
        yield from self._send(event, instances)

    @staticmethod
    def _send(event, instances: list[StoredInstance]) -> Iterator[tuple[int, Dataset | None]]:  # noqa: ANN001
        for inst in instances:
            if event.is_cancelled:
                yield STATUS_CANCEL, None
                return
            yield STATUS_PENDING, StoredFile(inst)  # sent from its file as stored (imaging_source.send)


def storage_contexts(instances: list[StoredInstance]) -> list[PresentationContext]:
    """One presentation context per (SOP Class, stored transfer syntax) -- instances go as stored -- and,
    for compressed ones, the SOP Class in Explicit VR Little Endian (PS3.7 Annex D.3.3.2)."""
    pairs: dict[tuple[str, str], None] = {}
    for inst in instances:
        pairs[(inst.sop_class_uid, inst.transfer_syntax_uid)] = None
        if inst.transfer_syntax_uid not in UNCOMPRESSED:
            pairs[(inst.sop_class_uid, EXPLICIT_VR_LE)] = None
    return [build_context(sop, [ts]) for sop, ts in list(pairs)[:128]]


def nodelay(event) -> None:  # noqa: ANN001
    """EVT_CONN_OPEN: TCP_NODELAY on every DICOM socket (DESIGN: ~40 ms stalls per message without it)."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

"""Stored-query parameters -> SQL conditions on registry_object (ITI TF-2a 3.18.4.1.2.3).

Every builder takes the table (``registry_object`` or an alias of it) it constrains, so the same rule serves
the top-level select of a query and the CTEs of the composite ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.sql.selectable import FromClause

from registry.queries.like import PersonMatches
from registry.queries.params import Params
from registry.rows import time_key
from registry.store import MERGED
from registry.tables import ASSOCIATION, object_author, object_code, object_reference, patient
from xds.vocabulary import (
    OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
    OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    AssociationType,
)

_DE = "$XDSDocumentEntry"
HAS_MEMBER = AssociationType.HAS_MEMBER.value


def all_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(true(), *conditions)


def one_of(column: ColumnClause, values: Sequence[str] | None) -> ColumnElement[bool]:
    """``column IN values``; an empty list matches nothing."""
    return column.in_(list(values)) if values else false()


def patient_is(t: FromClause, pid: str) -> ColumnElement[bool]:
    # ITI TF-2a 3.8.4.2.3 (patient merge): a subsumed patient ID is no longer valid; queries for it find
    # nothing, whatever the registry still holds under it
    merged = exists().where(patient.c.pid == pid, patient.c.status == MERGED)
    return and_(t.c.patient_id == pid, ~merged)


def time_range(
    t: FromClause, column: str, p: Params, low: str, high: str, *, unless: ColumnElement[bool] | None = None
) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.3: ``...From`` selects values >= the parameter, ``...To`` values < it.

    Both sides are compared as 14-digit keys (the DTM padded with zeros, registry/rows.time_key), so a
    parameter of lower precision names the start of its period (NIST 11897 creationtime_left_edge /
    right_edge, servicestarttime). Objects matching ``unless`` pass whatever the range."""
    col = t.c[column]
    conditions = []
    start, end = p.time(low), p.time(high)
    if start is not None:
        conditions.append(col >= time_key(start))
    if end is not None:
        conditions.append(col < time_key(end))
    if not conditions or unless is None:
        return conditions
    return [or_(unless, and_(*conditions))]


def service_time_range(
    t: FromClause, column: str, p: Params, low: str, high: str
) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.3.1: a DocumentEntry without serviceStartTime (serviceStopTime) is not
    filtered by the ServiceStartTime (ServiceStopTime) parameters."""
    return time_range(t, column, p, low, high, unless=t.c[column].is_(None))


def creation_time_range(t: FromClause, p: Params) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.7.1 (footnote on $XDSDocumentEntryCreationTimeFrom/To): On-Demand entries are
    not filtered by creationTime."""
    low, high = f"{_DE}CreationTimeFrom", f"{_DE}CreationTimeTo"
    on_demand = t.c.object_type == OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY
    return time_range(t, "creation_time_key", p, low, high, unless=on_demand)


def code_is(t: FromClause, column: str, p: Params, name: str) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.5: the values of a coded parameter are OR-ed (single-valued attributes)."""
    groups = p.codes(name)
    return [] if groups is None else [one_of(t.c[column], group) for group in groups]


def has_codes(t: FromClause, attribute: str, p: Params, name: str) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.5 (AND/OR semantics): the values within one Slot are OR-ed, several Slots of
    the same parameter are AND-ed; an object matches a group when one of its codes is in the group."""
    groups = p.codes(name)
    if groups is None:
        return []
    return [
        exists().where(
            object_code.c.object_seq == t.c.seq,
            object_code.c.attribute == attribute,
            one_of(object_code.c.code, group),
        )
        for group in groups
    ]


def author_is(t: FromClause, patterns: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.7.1 $XDSDocumentEntryAuthorPerson / 3.18.4.1.2.3.7.2: one of the object's
    author persons matches one of the patterns; ITI TF-2a 3.18.4.1.2.3.6 wildcards ``%`` and ``_``."""
    if not patterns:
        return []
    matches = or_(*(PersonMatches(object_author.c.person, pattern) for pattern in patterns))
    return [exists().where(object_author.c.object_seq == t.c.seq, matches)]


def references_are(t: FromClause, groups: Sequence[Sequence[str]] | None) -> list[ColumnElement[bool]]:
    """ITI TF-2a 3.18.4.1.2.3.7.14: one of the entry's referenceIdList values equals one of the given ones
    (exact match on the CXi value; several Slots: AND/OR, ITI TF-2a 3.18.4.1.2.3.5)."""
    return [
        exists().where(object_reference.c.object_seq == t.c.seq, one_of(object_reference.c.reference, group))
        for group in groups or ()
    ]


def entry_types(t: FromClause, p: Params) -> ColumnElement[bool]:
    """ITI TF-2a 3.18.4.1.2.3.7.1 $XDSDocumentEntryType: without it only Stable DocumentEntries match
    (On-Demand Documents; NIST 15803 sends both types to see both)."""
    return one_of(t.c.object_type, p.strings(f"{_DE}Type") or (OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,))


def entry_filters(t: FromClause, p: Params) -> list[ColumnElement[bool]]:
    """The DocumentEntry parameters of FindDocuments (ITI TF-2a 3.18.4.1.2.3.7.1), also used by
    FindDocumentsByReferenceId, GetAll, GetSubmissionSetAndContents and GetFolderAndContents for the ones
    they define (the parse drops parameters a query does not define; all of them define
    $XDSDocumentEntryType, so its default applies)."""
    return [
        *code_is(t, "class_code", p, f"{_DE}ClassCode"),
        *code_is(t, "type_code", p, f"{_DE}TypeCode"),
        *code_is(t, "practice_setting_code", p, f"{_DE}PracticeSettingCode"),
        *code_is(t, "healthcare_facility_type_code", p, f"{_DE}HealthcareFacilityTypeCode"),
        *code_is(t, "format_code", p, f"{_DE}FormatCode"),
        *creation_time_range(t, p),
        *service_time_range(
            t, "service_start_time_key", p, f"{_DE}ServiceStartTimeFrom", f"{_DE}ServiceStartTimeTo"
        ),
        *service_time_range(
            t, "service_stop_time_key", p, f"{_DE}ServiceStopTimeFrom", f"{_DE}ServiceStopTimeTo"
        ),
        *has_codes(t, "eventCodeList", p, f"{_DE}EventCodeList"),
        *has_codes(t, "confidentialityCode", p, f"{_DE}ConfidentialityCode"),
        *author_is(t, p.strings(f"{_DE}AuthorPerson")),
        entry_types(t, p),
    ]


def identified(t: FromClause, kind: str, p: Params, *names: str) -> ColumnElement[bool]:
    """Objects of ``kind`` named by the one given parameter of ``names`` (entryUUID, uniqueId, logicalID:
    ITI TF-2a 3.18.4.1.2.3.7.5 ff. take exactly one of them, checked by the parse)."""
    columns = (t.c.id, t.c.unique_id, t.c.logical_id)
    for name, column in zip(names, columns, strict=False):
        values = p.strings(name)
        if values is not None:
            return and_(t.c.kind == kind, one_of(column, values))
    return false()


def members_of(t: FromClause, containers: Select) -> Select:
    """(id, target) of the HasMember Associations (ITI TF-3 4.2.2.1) whose source is one of ``containers``."""
    return select(t.c.id, t.c.target).where(
        t.c.kind == ASSOCIATION, t.c.object_type == HAS_MEMBER, t.c.source.in_(containers)
    )

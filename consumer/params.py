"""Typed stored-query parameters to the Slot values of an AdhocQuery (ITI-18).

Python values go in (str, lists, ``Code``, lists of lists of ``Code``, datetime, ``Status``); the literal
Slot values of ITI TF-2a 3.18.4.1.2.3.5 come out. Which parameter a query takes, and of which kind, is read
from the one table the registry validates against (``xds.validation.query_tables``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from xds.hl7v2 import CX
from xds.model import Code, QueryParameter
from xds.validation import syntax
from xds.validation.query_tables import QUERIES, Kind, ParamSpec
from xds.vocabulary import (
    OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
    OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    AssociationType,
    Status,
    StoredQuery,
)

_PREFIXES = ("XDSDocumentEntry", "XDSSubmissionSet", "XDSFolder")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

STATUS_NAMES = {s.name.lower(): s for s in Status}
OBJECT_TYPE_NAMES = {
    "stable": OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    "on-demand": OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
}
# short names of the association types: RPLC, APND, XFRM, XFRM_RPLC, signs, HasMember, IsSnapshotOf ...
ASSOCIATION_TYPE_NAMES = {t.value.rsplit(":", 1)[1]: t for t in AssociationType}


class ParameterError(ValueError):
    """A parameter the query does not take, or a value of the wrong shape; nothing was sent."""


def _snake(text: str) -> str:
    return _CAMEL.sub("_", text).lower()


def _full_name(slot_name: str) -> str:
    return _snake(slot_name.lstrip("$").removeprefix("XDS"))


def _short_name(slot_name: str) -> str:
    if slot_name == "$XDSDocumentEntryType":
        return "document_entry_type"  # "type" alone says too little
    bare = slot_name.lstrip("$")
    for prefix in _PREFIXES:
        if bare.startswith(prefix) and len(bare) > len(prefix):
            return _snake(bare[len(prefix) :])
    return _snake(bare)


def parameter_names(query: StoredQuery) -> dict[str, ParamSpec]:
    """Python names of the query's parameters: ``$XDSDocumentEntryClassCode`` is ``class_code``; where two
    would share a name (GetAll's three status parameters) the object stays in it (``folder_status``)."""
    specs = QUERIES[query].params
    shorts = [_short_name(p.name) for p in specs]
    names = {}
    for spec, short in zip(specs, shorts, strict=True):
        names[short if shorts.count(short) == 1 else _full_name(spec.name)] = spec
    return names


def resolve(query: StoredQuery, name: str) -> ParamSpec:
    """The parameter ``name`` (its Slot name, ``$XDSDocumentEntryClassCode``, or its Python name)."""
    spec = QUERIES[query].param(name) or parameter_names(query).get(name.replace("-", "_"))
    if spec is None:
        known = ", ".join(parameter_names(query))
        raise ParameterError(f"{query.name}: no parameter {name!r} (known: {known})")
    return spec


# ITI TF-2a 3.18.4.1.2.3.5: a string value is in single quotes, a quote inside it doubled
def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ITI TF-2a 3.18.4.1.2.3.5: several values of one Slot are a parenthesised, comma-separated list
def quoted_list(values: Iterable[str]) -> str:
    items = [quote(v) for v in values]
    if not items:
        raise ParameterError("an empty list")
    return "(" + ",".join(items) + ")"


def dtm(value: datetime | date | str) -> str:
    """ITI TF-3 Table 4.2.3.1.7-2 DTM (UTC, YYYY[MM[DD[hh[mm[ss]]]]]); an aware datetime is turned to UTC,
    a naive one is taken as UTC; ISO 8601 text is accepted as well as DTM digits."""
    if isinstance(value, str):
        text = value.strip()
        if syntax.is_dtm(text):
            return text
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ParameterError(f"{value!r} is neither a DTM (YYYYMMDD[hhmmss]) nor an ISO date") from None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y%m%d%H%M%S")
    return value.strftime("%Y%m%d")


def code_text(value: Code | str) -> str:
    """``code^^codingScheme``, the coding of code parameters (ITI TF-2a 3.18.4.1.2.3.7.1)."""
    if isinstance(value, Code):
        code, scheme = value.code, value.scheme
    else:
        parts = value.split("^")
        if len(parts) != 3 or not parts[0] or parts[1] or not parts[2]:
            raise ParameterError(f"code {value!r} is not in the form code^^codingScheme")
        code, scheme = parts[0], parts[2]
    if not code or not scheme:
        raise ParameterError(f"code {value!r} needs both code and coding scheme")
    return f"{code}^^{scheme}"


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (str, Code, CX)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _named(value: Any, names: Mapping[str, str], what: str) -> str:
    text = str(value)
    if text in names.values():
        return text
    found = names.get(text) or names.get(text.lower())
    if found is None:
        raise ParameterError(f"{value!r} is not a {what} ({', '.join(names)} or its URN)")
    return found


def _patient_id(value: CX | str) -> str:
    cx = value if isinstance(value, CX) else CX.parse(str(value))
    # ITI TF-3 4.2.3.2.16: the XAD-PID is CX.1 plus CX.4 as &OID&ISO
    problem = syntax.patient_id_problem(cx)
    if problem:
        raise ParameterError(f"patient id {cx.render()!r} {problem}")
    return cx.render()


def _single(spec: ParamSpec, value: Any) -> str:
    if spec.kind == Kind.PATIENT_ID:
        return quote(_patient_id(value))
    if spec.kind == Kind.TIME:
        # ITI TF-2a 3.18.4.1.2.3.5: times are numbers, sent without quotes
        return dtm(value)
    if spec.kind == Kind.NUMBER:
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise ParameterError(f"{spec.name}: {value!r} is not a number")
        return str(int(value))
    if not isinstance(value, str):
        raise ParameterError(f"{spec.name} takes one string, not {type(value).__name__}")
    return quote(value)


def _strings(spec: ParamSpec, values: list[Any]) -> list[str]:
    if spec.kind == Kind.STATUS_LIST:
        return [_named(v, {k: s.value for k, s in STATUS_NAMES.items()}, "status") for v in values]
    if spec.kind == Kind.OBJECT_TYPE_LIST:
        return [_named(v, OBJECT_TYPE_NAMES, "DocumentEntry type") for v in values]
    if spec.kind == Kind.ASSOCIATION_TYPE_LIST:
        names = {k: t.value for k, t in ASSOCIATION_TYPE_NAMES.items()}
        return [_named(v, names, "association type") for v in values]
    if spec.kind == Kind.CODE_LIST:
        return [code_text(v) for v in values]
    for v in values:
        if not isinstance(v, str):
            raise ParameterError(f"{spec.name}: {v!r} is not a string")
    return list(values)


def _is_nested(value: Any) -> bool:
    items = _as_list(value)
    return bool(items) and all(not isinstance(v, (str, Code)) and isinstance(v, Sequence) for v in items)


def encode(spec: ParamSpec, value: Any) -> tuple[QueryParameter, ...]:
    """The Slot(s) for one parameter: one Slot, or for a list of lists one Slot per inner list."""
    if not spec.multiple:
        if isinstance(value, (list, tuple)):
            raise ParameterError(f"{spec.name} takes a single value")
        return (QueryParameter(spec.name, (_single(spec, value),)),)
    if _is_nested(value):
        # ITI TF-2a 3.18.4.1.2.3.5: several Slots of one name are ANDed, the values inside a Slot ORed;
        # only the parameters that allow it (eventCodeList, confidentialityCode, referenceIdList ...)
        if not spec.and_or:
            raise ParameterError(f"{spec.name} takes a list of values, not a list of lists (AND)")
        return tuple(QueryParameter(spec.name, (quoted_list(_strings(spec, list(g))),)) for g in value)
    return (QueryParameter(spec.name, (quoted_list(_strings(spec, _as_list(value))),)),)


def encode_all(query: StoredQuery, params: Mapping[str, Any]) -> tuple[QueryParameter, ...]:
    """Every parameter given (``None`` values left out), in the order given."""
    slots: list[QueryParameter] = []
    for name, value in params.items():
        if value is None:
            continue
        spec = resolve(query, name)
        try:
            slots.extend(encode(spec, value))
        except ParameterError as exc:
            if spec.name in str(exc):
                raise
            raise ParameterError(f"{spec.name}: {exc}") from None
    return tuple(slots)


def query_by_name(name: str) -> StoredQuery:
    """``find-documents``, ``FindDocuments``, ``FIND_DOCUMENTS`` or the query's UUID."""
    if name.startswith("urn:uuid:"):
        try:
            return StoredQuery(name)
        except ValueError:
            raise ParameterError(f"{name} is not a stored query of ITI-18") from None
    key = _snake(name.replace("-", "_")).replace("__", "_").upper()
    try:
        return StoredQuery[key]
    except KeyError:
        known = ", ".join(query_cli_name(q) for q in StoredQuery)
        raise ParameterError(f"unknown stored query {name!r} (known: {known})") from None


def query_cli_name(query: StoredQuery) -> str:
    return query.name.lower().replace("_", "-")

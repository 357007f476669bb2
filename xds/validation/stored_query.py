"""ITI-18 request checks and the typed parse the Registry runs its queries from
(ITI TF-2a 3.18.4.1.2.3: parameter names, cardinality, value syntax)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xds.errors import ErrorCode, RegistryError, XdsError
from xds.hl7v2 import CX
from xds.model import AdhocQueryRequest, Code, QueryParameter
from xds.transactions import Transaction
from xds.validation import syntax as s
from xds.validation.findings import Findings
from xds.validation.query_tables import QUERIES, Kind, ParamSpec, QuerySpec
from xds.vocabulary import DOCUMENT_ENTRY_OBJECT_TYPES, AssociationType, ReturnType, Status, StoredQuery


@dataclass(frozen=True, slots=True)
class StringValue:
    value: str


@dataclass(frozen=True, slots=True)
class StringListValue:
    values: tuple[str, ...]
    # AND/OR parameters (ITI TF-2a 3.18.4.1.2.3.5): the values of each Slot, one OR-group per Slot
    groups: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class CodeListValue:
    """AND of OR-lists: a match needs one code of every group (ITI TF-2a 3.18.4.1.2.3.5)."""

    groups: tuple[tuple[Code, ...], ...]


@dataclass(frozen=True, slots=True)
class TimeValue:
    value: str  # DTM, compared as a prefix-padded string by the Registry


@dataclass(frozen=True, slots=True)
class PatientIdValue:
    value: CX


@dataclass(frozen=True, slots=True)
class NumberValue:
    value: int


ParamValue = StringValue | StringListValue | CodeListValue | TimeValue | PatientIdValue | NumberValue


@dataclass(frozen=True, slots=True)
class StoredQueryCall:
    query: StoredQuery
    params: dict[str, ParamValue]
    return_type: str = ReturnType.LEAF_CLASS
    ignored: tuple[str, ...] = field(default=())  # parameter names the query does not define


class _BadValue(ValueError):
    pass


class _Number(_BadValue):
    pass


class _Missing(_BadValue):
    pass


# ITI TF-2a 3.18.4.1.2.3.6 (value encoding): strings in single quotes (a quote inside doubled), lists
# in parentheses, numbers bare.
_QUOTED = re.compile(r"\s*'((?:[^']|'')*)'\s*")


def _strings(text: str) -> list[str]:
    """"'a'" -> [a]; "('a', 'b')" -> [a, b]."""
    body = text.strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
        if not body.strip():
            raise _BadValue(f"empty list {text!r}")
    values, pos = [], 0
    while True:
        match = _QUOTED.match(body, pos)
        if match is None:
            raise _BadValue(f"{text!r} is not a quoted string or a list of quoted strings")
        values.append(match.group(1).replace("''", "'"))
        pos = match.end()
        if pos == len(body):
            return values
        if body[pos] != ",":
            raise _BadValue(f"{text!r}: expected ',' at {pos}")
        pos += 1


def _code(text: str) -> Code:
    # ITI TF-2a 3.18.4.1.2.3.7.1 (code parameters): "code^^codingScheme"; NIST 11897 sections
    # classcode_scheme_mismatch and old_scheme expect Failure for anything else
    parts = text.split("^")
    if len(parts) != 3 or not parts[0] or parts[1] or not parts[2]:
        raise _BadValue(f"code {text!r} is not in the form code^^codingScheme")
    return Code(parts[0], parts[2])


def _all_values(slots: list[QueryParameter]) -> list[str]:
    return [value for slot in slots for value in slot.values]


def _parse(spec: ParamSpec, slots: list[QueryParameter]) -> ParamValue:
    values = _all_values(slots)
    if not values:
        raise _BadValue("no value")
    if not spec.multiple:
        if len(values) > 1:
            raise _Number(f"{spec.name} takes one value, got {len(values)}")
        raw = values[0].strip()
        if spec.kind in (Kind.TIME, Kind.NUMBER):
            raw = raw.strip("'")  # a quoted number is read as the number it holds
            if spec.kind == Kind.NUMBER:
                if not raw.isdigit():
                    raise _BadValue(f"{raw!r} is not a number")
                return NumberValue(int(raw))
            if not s.is_dtm(raw):
                raise _BadValue(f"{raw!r} is not a DTM time")
            return TimeValue(raw)
        strings = _strings(raw)
        if len(strings) != 1:
            raise _Number(f"{spec.name} takes one value, got {len(strings)}")
        if spec.kind == Kind.PATIENT_ID:
            return PatientIdValue(_patient_id(strings[0]))
        return StringValue(strings[0])
    if spec.kind == Kind.CODE_LIST:
        # several Slots of an AND/OR parameter: AND of the slots' OR-lists; otherwise one OR-list
        groups = [slots] if not spec.and_or else [[slot] for slot in slots]
        return CodeListValue(
            tuple(tuple(_code(x) for v in _all_values(g) for x in _strings(v)) for g in groups)
        )
    items = tuple(x for v in values for x in _strings(v))
    if spec.kind == Kind.STATUS_LIST:
        # ITI TF-2a 3.18.4.1.2.3.6: status values the registry does not know are ignored; a status
        # parameter left without any is missing
        items = tuple(x for x in items if x in set(Status))
        if not items:
            raise _Missing(f"{spec.name} names no known status")
    allowed = {
        Kind.OBJECT_TYPE_LIST: DOCUMENT_ENTRY_OBJECT_TYPES,
        Kind.ASSOCIATION_TYPE_LIST: set(AssociationType),
    }.get(spec.kind)
    for item in items:
        if allowed is not None and item not in allowed:
            raise _BadValue(f"{item!r} is not a valid {spec.kind.value} value")
    if spec.and_or:
        return StringListValue(
            items, tuple(tuple(x for v in slot.values for x in _strings(v)) for slot in slots)
        )
    return StringListValue(items)


def _patient_id(text: str) -> CX:
    try:
        cx = CX.parse(text)
    except ValueError as exc:
        raise _BadValue(str(exc)) from exc
    problem = s.patient_id_problem(cx)
    if problem:
        raise _BadValue(f"patient id {text!r} {problem}")
    return cx


def check_query(findings: Findings, request: AdhocQueryRequest) -> StoredQueryCall | None:
    try:
        query = StoredQuery(request.query_id)
    except ValueError:
        # ITI TF-2a 3.18.4.1.3: XDSUnknownStoredQuery for a query id the Registry does not know
        findings.add(ErrorCode.XDS_UNKNOWN_STORED_QUERY, f"unknown stored query {request.query_id!r}")
        return None
    spec = QUERIES[query]
    # ITI TF-2a 3.18.4.1.2.1: ResponseOption returnType is LeafClass or ObjectRef
    if request.return_type not in tuple(ReturnType):
        findings.add(ErrorCode.XDS_REGISTRY_ERROR, f"returnType {request.return_type!r} is not supported")
    by_name: dict[str, list[QueryParameter]] = {}
    for slot in request.parameters:
        by_name.setdefault(slot.name, []).append(slot)
    params: dict[str, ParamValue] = {}
    # ebRS 3.0 6.3.2.1: "a registry MUST ignore any parameters ... that do not match the parameters
    # defined by the stored query" (this includes the obsolete ...Scheme parameters of old ITI-18)
    ignored = tuple(name for name in by_name if spec.param(name) is None)
    for name, slots in by_name.items():
        param = spec.param(name)
        if param is None:
            continue
        try:
            params[name] = _parse(param, slots)
        except _Number as exc:
            # ITI TF-2a 3.18.4.1.3: XDSStoredQueryParamNumber for several values of a single-valued parameter
            findings.add(ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER, str(exc), name)
        except _Missing as exc:
            findings.add(ErrorCode.XDS_STORED_QUERY_MISSING_PARAM, str(exc), name)
        except _BadValue as exc:
            # a value outside the syntax of ITI TF-2a 3.18.4.1.2.3.6/.7: XDSRegistryError (NIST 11897
            # old_scheme / classcode_scheme_mismatch expect Failure; the toolkit reports this code)
            findings.add(ErrorCode.XDS_REGISTRY_ERROR, f"{name}: {exc}", name)
    _check_presence(findings, spec, by_name)
    return StoredQueryCall(query, params, request.return_type, ignored)


def _check_presence(findings: Findings, spec: QuerySpec, given: dict[str, list[QueryParameter]]) -> None:
    # ITI TF-2a 3.18.4.1.3: XDSStoredQueryMissingParam for a required parameter that is missing
    for param in spec.params:
        if param.required and param.name not in given:
            findings.add(ErrorCode.XDS_STORED_QUERY_MISSING_PARAM, f"{param.name} is required", param.name)
    # "R*" groups (e.g. GetDocuments: EntryUUID or UniqueId): exactly one of them
    for group in spec.one_of:
        present = [name for name in group if name in given]
        if not present:
            findings.add(
                ErrorCode.XDS_STORED_QUERY_MISSING_PARAM, f"one of {', '.join(group)} is required", group[0]
            )
        elif len(present) > 1:
            findings.add(
                ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER, f"only one of {', '.join(present)} may be given"
            )


def parse_stored_query(request: AdhocQueryRequest) -> StoredQueryCall:
    """The typed query call, or XdsError carrying every problem found."""
    findings = Findings(Transaction.ITI_18)
    call = check_query(findings, request)
    errors: list[RegistryError] = [e for e in findings.items if e.is_error]
    if errors or call is None:
        raise XdsError.collect(errors)
    return call


"""Run a plan and turn its rows into the query:AdhocQueryResponse (ITI TF-2a 3.18.4.1.3).

LeafClass answers are assembled from the ``ebrim`` column (the XML the registry stored at registration),
spliced into the answer as bytes, never parsed or re-encoded; ObjectRef answers carry ids only and never
read that column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree
from sqlalchemy import Connection, Row, select, union

from registry.queries.plan import Plan, ro
from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET
from xds.ebrim import adhoc_query_response_to_ebrim
from xds.ebrim.xml import rim
from xds.errors import ErrorCode, XdsError
from xds.model import AdhocQueryResponse, ObjectRef

# the order of the codec (xds.ebrim.object_list): SubmissionSets, Folders, DocumentEntries, Associations;
# within a kind, registration order
_KIND_ORDER = {SUBMISSION_SET: 0, FOLDER: 1, DOCUMENT_ENTRY: 2, ASSOCIATION: 3}
# ITI TF-2a 3.18.4.1.2.3.8 / ITI TF-2b 3.38.4.1.2.1: the elements that carry @home
_HOME_KINDS = frozenset({DOCUMENT_ENTRY, SUBMISSION_SET, FOLDER})
_HOME_ATTRIBUTE = re.compile(r'\s+home="[^"]*"')


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """How many objects one answer may hold before the registry refuses it with XDSTooManyResults
    (ITI TF-3 Table 4.2.4.1-2: the query would return more than the registry allows). ObjectRefs are
    small, so their cap is higher; a consumer told "too many" can ask for ObjectRefs and page through
    GetDocuments."""

    leaf_class: int = 5000
    object_refs: int = 100_000


def select_rows(conn: Connection, plan: Plan, *, leaf_class: bool, limit: int) -> list[Row]:
    """The rows the plan selects in answer order: one statement, at most ``limit`` rows."""
    columns = [ro.c.seq, ro.c.id, ro.c.kind, ro.c.patient_id, ro.c.home_community_id]
    if leaf_class:
        columns.append(ro.c.ebrim)
    if len(plan.branches) == 1:
        statement = select(*columns).where(plan.branches[0])
    else:
        # UNION, not OR: every branch keeps its own index; the CTE removes duplicates
        matched = union(*(select(ro.c.seq).where(branch) for branch in plan.branches)).cte("matched")
        statement = select(*columns).where(ro.c.seq.in_(select(matched.c.seq)))
    rows = conn.execute(statement.limit(limit + 1)).all()
    if len(rows) > limit:
        kind = "LeafClass" if leaf_class else "ObjectRef"
        raise XdsError(
            ErrorCode.XDS_TOO_MANY_RESULTS,
            f"the query selects more than {limit} objects, the most a {kind} answer may hold; refine it",
        )
    return sorted(rows, key=lambda row: (_KIND_ORDER.get(row.kind, 9), row.seq))


def check_single_patient(rows: Sequence[Row]) -> None:
    """ITI TF-2a 3.18.4.1.3: a LeafClass answer holds the metadata of one patient only; otherwise the
    registry answers XDSResultNotSinglePatient (NIST 12368; ObjectRef answers are allowed)."""
    patients = sorted({row.patient_id for row in rows if row.patient_id is not None})
    if len(patients) > 1:
        raise XdsError(
            ErrorCode.XDS_RESULT_NOT_SINGLE_PATIENT,
            f"the objects asked for belong to {len(patients)} patients: {', '.join(patients)}",
        )


def leaf_class_response(rows: Sequence[Row], home_community_id: str | None = None) -> bytes:
    """The serialized query:AdhocQueryResponse: the stored XML of each row spliced in as it is."""
    head, tail = _response_frame()
    parts = [head]
    for row in rows:
        if home_community_id is not None and row.kind in _HOME_KINDS:
            parts.append(with_home(row.ebrim, home_community_id))
        else:
            parts.append(row.ebrim)
    parts.append(tail)
    return "".join(parts).encode()


def object_ref_response(rows: Sequence[Row], home_community_id: str | None = None) -> bytes:
    refs = tuple(ObjectRef(row.id, home_community_id or row.home_community_id) for row in rows)
    return etree.tostring(adhoc_query_response_to_ebrim(AdhocQueryResponse(object_refs=refs)))


_OBJECTS_SLOT = "objects"


def _response_frame() -> tuple[str, str]:
    """A Success response around an empty RegistryObjectList, split where the objects go."""
    root = adhoc_query_response_to_ebrim(AdhocQueryResponse())
    root.find(rim("RegistryObjectList")).append(etree.Comment(_OBJECTS_SLOT))
    head, tail = etree.tostring(root, encoding="unicode").split(f"<!--{_OBJECTS_SLOT}-->")
    return head, tail


def with_home(xml: str, home_community_id: str) -> str:
    """``xml`` (a serialized element) with its @home set to ``home_community_id``."""
    # lxml writes ">" inside attribute values as &gt;, so the first ">" closes the start tag
    end = xml.index(">")
    start = _HOME_ATTRIBUTE.sub("", xml[:end])
    if start.endswith("/"):
        start = start[:-1]
        end -= 1
    return f"{start} home={quoteattr(home_community_id)}{xml[end:]}"

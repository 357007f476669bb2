"""Run a plan and turn its rows into the query:AdhocQueryResponse (ITI TF-2a 3.18.4.1.3).

LeafClass answers are assembled from the ``ebrim`` column (the XML the registry stored at registration),
never re-encoded; ObjectRef answers carry ids only and never read that column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
_HOME_TAGS = frozenset({rim("ExtrinsicObject"), rim("RegistryPackage")})
# the stored XML is the registry's own, still parsed without entities or network access
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


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


def leaf_class_response(rows: Sequence[Row], home_community_id: str | None = None) -> etree._Element:
    root = adhoc_query_response_to_ebrim(AdhocQueryResponse())
    object_list = root.find(rim("RegistryObjectList"))
    for row in rows:
        element = etree.fromstring(bytes(row.ebrim), _PARSER)
        if home_community_id is not None and element.tag in _HOME_TAGS:
            element.set("home", home_community_id)
        object_list.append(element)
    etree.cleanup_namespaces(root)
    return root


def object_ref_response(rows: Sequence[Row], home_community_id: str | None = None) -> etree._Element:
    refs = tuple(ObjectRef(row.id, home_community_id or row.home_community_id) for row in rows)
    return adhoc_query_response_to_ebrim(AdhocQueryResponse(object_refs=refs))

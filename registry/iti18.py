"""ITI-18 Registry Stored Query, Document Registry side (ITI TF-2a 3.18.4.1.3).

The request is parsed and checked (xds.validation: parameter names, cardinality, syntax), planned as SQL
(registry/queries) and answered with a query:AdhocQueryResponse. Failures raise XdsError; the SOAP
boundary turns them into the AdhocQueryResponse with status Failure (xds.ebrim.failure_body). Blocking:
the service runs it in a worker thread.
"""

from __future__ import annotations

from lxml import etree
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from registry.queries import (
    QueryLimits,
    check_single_patient,
    leaf_class_response,
    object_ref_response,
    plan_query,
    select_rows,
)
from registry.store import RegistryStore
from xds.ebrim import adhoc_query_request_from_ebrim
from xds.errors import ErrorCode, XdsError
from xds.model import AdhocQueryRequest
from xds.validation import StoredQueryCall, parse_stored_query
from xds.vocabulary import ReturnType

Request = etree._Element | AdhocQueryRequest | StoredQueryCall
DEFAULT_LIMITS = QueryLimits()


def stored_query(
    source: RegistryStore | Connection,
    request: Request,
    *,
    limits: QueryLimits = DEFAULT_LIMITS,
    home_community_id: str | None = None,
) -> bytes:
    """Answer one Registry Stored Query: the serialized query:AdhocQueryResponse, or XdsError.

    ``request`` is the query:AdhocQueryRequest element of the SOAP body, its decoded form, or an already
    parsed call. ``home_community_id``: when set, the @home of every returned ExtrinsicObject,
    RegistryPackage and ObjectRef (ITI TF-2a 3.18.4.1.2.3.8); the request's own $homeCommunityId and
    AdhocQuery/@home are accepted and ignored (a Document Registry answers for itself; NIST 11901).
    """
    call = _call(request)

    def run(conn: Connection) -> bytes:
        return run_stored_query(conn, call, limits=limits, home_community_id=home_community_id)

    try:
        # a pooled connection that broke (a database restart, xds.db): the query runs once more
        return run(source) if isinstance(source, Connection) else source.query(run)
    except DBAPIError as exc:
        # ITI TF-3 Table 4.2.4.1-2: the registry could not answer (database down, statement failed)
        raise XdsError(ErrorCode.XDS_REGISTRY_ERROR, "the registry could not run the query") from exc


def run_stored_query(
    conn: Connection,
    call: StoredQueryCall,
    *,
    limits: QueryLimits = DEFAULT_LIMITS,
    home_community_id: str | None = None,
) -> bytes:
    """Run a parsed call on an open connection (one SELECT statement) and build the answer."""
    plan = plan_query(call)
    # ITI TF-2a 3.18.4.1.2.1 returnType: LeafClass = full metadata, ObjectRef = references only
    leaf_class = call.return_type == ReturnType.LEAF_CLASS
    limit = limits.leaf_class if leaf_class else limits.object_refs
    rows = select_rows(conn, plan, leaf_class=leaf_class, limit=limit)
    if not leaf_class:
        return object_ref_response(rows, home_community_id)
    if plan.single_patient:
        check_single_patient(rows)
    return leaf_class_response(rows, home_community_id)


def _call(request: Request) -> StoredQueryCall:
    if isinstance(request, StoredQueryCall):
        return request
    if isinstance(request, etree._Element):
        request = adhoc_query_request_from_ebrim(request)
    return parse_stored_query(request)

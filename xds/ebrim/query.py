"""ITI-18 query:AdhocQueryRequest (ITI TF-2a 3.18.4.1.2) and query:AdhocQueryResponse (3.18.4.1.3)."""

from __future__ import annotations

from lxml.etree import _Element

from xds.ebrim.object_list import (
    RegistryObjects,
    registry_object_list_from_ebrim,
    registry_object_list_to_ebrim,
)
from xds.ebrim.registry_response import parse_status, registry_error_list_from_ebrim, write_response_parts
from xds.ebrim.xml import (
    children,
    finish,
    metadata_error,
    new_root,
    query,
    read_slots,
    require_id,
    rim,
    slot_element,
    sub,
)
from xds.model import AdhocQueryRequest, AdhocQueryResponse, QueryParameter

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
# ebRS 3.0 query.xsd ResponseOption/@returnType default (ITI TF-2a 3.18.4.1.2.1 requires it be sent)
_DEFAULT_RETURN_TYPE = "RegistryObject"


def _int_attr(el: _Element, name: str) -> int | None:
    value = el.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise metadata_error(f"{el.tag}: {name} {value!r} is not an integer") from None


def adhoc_query_request_to_ebrim(r: AdhocQueryRequest) -> _Element:
    el = new_root(
        query("AdhocQueryRequest"),
        "query",
        "rim",
        attrib={
            "id": r.request_id,
            "maxResults": str(r.max_results) if r.max_results is not None else None,
            "startIndex": str(r.start_index) if r.start_index is not None else None,
        },
    )
    sub(
        el,
        query("ResponseOption"),
        {
            "returnType": r.return_type,
            "returnComposedObjects": "true" if r.return_composed_objects else "false",
        },
    )
    # ITI TF-2a 3.18.4.1.2.1: AdhocQuery/@id = the stored query id, @home = homeCommunityId
    aq = sub(el, rim("AdhocQuery"), {"id": r.query_id, "home": r.home_community_id})
    for p in r.parameters:
        aq.append(slot_element(p.name, p.values))
    return finish(el)


def adhoc_query_request_from_ebrim(el: _Element) -> AdhocQueryRequest:
    if el.tag != query("AdhocQueryRequest"):
        raise metadata_error(f"expected query:AdhocQueryRequest, got {el.tag}")
    queries = children(el, rim("AdhocQuery"))
    if len(queries) != 1:
        raise metadata_error(f"AdhocQueryRequest holds {len(queries)} AdhocQuery elements, not one")
    aq = queries[0]
    options = children(el, query("ResponseOption"))
    option = options[0] if options else None
    return_type = _DEFAULT_RETURN_TYPE
    composed = False  # ebRS 3.0 query.xsd: returnComposedObjects defaults to false
    if option is not None:
        return_type = option.get("returnType") or _DEFAULT_RETURN_TYPE
        flag = option.get("returnComposedObjects")
        if flag is not None:
            if flag.strip() not in _BOOLEANS:
                raise metadata_error(f"returnComposedObjects {flag!r} is not a boolean")
            composed = _BOOLEANS[flag.strip()]
    # ITI TF-2a 3.18.4.1.2.3.5: a parameter may be repeated as several slots; each is kept, in order
    params = tuple(QueryParameter(s.name, s.values) for s in read_slots(aq, "AdhocQuery"))
    return AdhocQueryRequest(
        query_id=require_id(aq, "AdhocQuery"),
        parameters=params,
        return_type=return_type,
        home_community_id=aq.get("home"),
        return_composed_objects=composed,
        max_results=_int_attr(el, "maxResults"),
        start_index=_int_attr(el, "startIndex"),
        request_id=el.get("id"),
    )


def adhoc_query_response_to_ebrim(r: AdhocQueryResponse) -> _Element:
    el = new_root(query("AdhocQueryResponse"), "query", "rs", "rim")
    write_response_parts(el, r.status, r.errors)
    if r.start_index is not None:
        el.set("startIndex", str(r.start_index))
    if r.total_result_count is not None:
        el.set("totalResultCount", str(r.total_result_count))
    # ebRS 3.0 query.xsd: the RegistryObjectList is always present (possibly empty)
    el.append(
        registry_object_list_to_ebrim(
            RegistryObjects(r.submission_sets, r.document_entries, r.folders, r.associations, r.object_refs)
        )
    )
    return finish(el)


def adhoc_query_response_from_ebrim(el: _Element) -> AdhocQueryResponse:
    if el.tag != query("AdhocQueryResponse"):
        raise metadata_error(f"expected query:AdhocQueryResponse, got {el.tag}")
    lists = children(el, rim("RegistryObjectList"))
    if len(lists) > 1:
        raise metadata_error("AdhocQueryResponse holds more than one RegistryObjectList")
    objs = registry_object_list_from_ebrim(lists[0] if lists else None)
    return AdhocQueryResponse(
        status=parse_status(el.get("status"), "AdhocQueryResponse"),
        errors=registry_error_list_from_ebrim(el),
        document_entries=objs.document_entries,
        submission_sets=objs.submission_sets,
        folders=objs.folders,
        associations=objs.associations,
        object_refs=objs.object_refs,
        start_index=_int_attr(el, "startIndex"),
        total_result_count=_int_attr(el, "totalResultCount"),
    )

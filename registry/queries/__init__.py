"""The 14 stored queries of ITI-18 (ITI TF-2a 3.18.4.1.2.3.7) as SQL over registry/tables.py."""

from __future__ import annotations

from collections.abc import Callable

from registry.queries.contents import get_all, get_folder_and_contents, get_submission_set_and_contents
from registry.queries.find import (
    find_documents,
    find_documents_by_reference_id,
    find_folders,
    find_submission_sets,
)
from registry.queries.get import (
    get_associations,
    get_documents,
    get_documents_and_associations,
    get_folders,
    get_folders_for_document,
    get_related_documents,
    get_submission_sets,
)
from registry.queries.params import Params
from registry.queries.plan import Plan
from registry.queries.results import (
    QueryLimits,
    check_single_patient,
    leaf_class_response,
    object_ref_response,
    select_rows,
)
from xds.validation import StoredQueryCall
from xds.vocabulary import StoredQuery

PLANNERS: dict[StoredQuery, Callable[[Params], Plan]] = {
    StoredQuery.FIND_DOCUMENTS: find_documents,
    StoredQuery.FIND_DOCUMENTS_BY_REFERENCE_ID: find_documents_by_reference_id,
    StoredQuery.FIND_SUBMISSION_SETS: find_submission_sets,
    StoredQuery.FIND_FOLDERS: find_folders,
    StoredQuery.GET_ALL: get_all,
    StoredQuery.GET_DOCUMENTS: get_documents,
    StoredQuery.GET_FOLDERS: get_folders,
    StoredQuery.GET_ASSOCIATIONS: get_associations,
    StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS: get_documents_and_associations,
    StoredQuery.GET_SUBMISSION_SETS: get_submission_sets,
    StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS: get_submission_set_and_contents,
    StoredQuery.GET_FOLDER_AND_CONTENTS: get_folder_and_contents,
    StoredQuery.GET_FOLDERS_FOR_DOCUMENT: get_folders_for_document,
    StoredQuery.GET_RELATED_DOCUMENTS: get_related_documents,
}


def plan_query(call: StoredQueryCall) -> Plan:
    return PLANNERS[call.query](Params(call))


__all__ = [
    "PLANNERS",
    "Plan",
    "QueryLimits",
    "check_single_patient",
    "leaf_class_response",
    "object_ref_response",
    "plan_query",
    "select_rows",
]

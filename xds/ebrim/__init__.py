"""The ebRIM 3.0 wire codec: one symmetric ``*_to_ebrim`` / ``*_from_ebrim`` pair per class (DESIGN 1)."""

from xds.ebrim.association import (
    association_from_ebrim,
    association_to_ebrim,
    object_ref_from_ebrim,
    object_ref_to_ebrim,
)
from xds.ebrim.author import author_from_ebrim, author_to_ebrim
from xds.ebrim.codes import code_from_ebrim, code_to_ebrim
from xds.ebrim.document_entry import document_entry_from_ebrim, document_entry_to_ebrim
from xds.ebrim.failure import failure_body
from xds.ebrim.folder import folder_from_ebrim, folder_to_ebrim
from xds.ebrim.object_list import (
    RegistryObjects,
    registry_object_list_from_ebrim,
    registry_object_list_to_ebrim,
)
from xds.ebrim.query import (
    adhoc_query_request_from_ebrim,
    adhoc_query_request_to_ebrim,
    adhoc_query_response_from_ebrim,
    adhoc_query_response_to_ebrim,
)
from xds.ebrim.registry_response import (
    registry_error_list_from_ebrim,
    registry_error_list_to_ebrim,
    registry_response_from_ebrim,
    registry_response_to_ebrim,
    status_from_errors,
)
from xds.ebrim.retrieve import (
    imaging_retrieve_request_from_ebrim,
    imaging_retrieve_request_to_ebrim,
    retrieve_request_from_ebrim,
    retrieve_request_to_ebrim,
    retrieve_response_from_ebrim,
    retrieve_response_to_ebrim,
)
from xds.ebrim.submission import (
    pnr_from_ebrim,
    pnr_to_ebrim,
    pnr_to_ebrim_with_parts,
    submit_objects_from_ebrim,
    submit_objects_to_ebrim,
)
from xds.ebrim.submission_set import submission_set_from_ebrim, submission_set_to_ebrim

__all__ = [
    "RegistryObjects",
    "adhoc_query_request_from_ebrim",
    "adhoc_query_request_to_ebrim",
    "adhoc_query_response_from_ebrim",
    "adhoc_query_response_to_ebrim",
    "association_from_ebrim",
    "association_to_ebrim",
    "author_from_ebrim",
    "author_to_ebrim",
    "code_from_ebrim",
    "code_to_ebrim",
    "document_entry_from_ebrim",
    "document_entry_to_ebrim",
    "failure_body",
    "folder_from_ebrim",
    "folder_to_ebrim",
    "imaging_retrieve_request_from_ebrim",
    "imaging_retrieve_request_to_ebrim",
    "object_ref_from_ebrim",
    "object_ref_to_ebrim",
    "pnr_from_ebrim",
    "pnr_to_ebrim",
    "pnr_to_ebrim_with_parts",
    "registry_error_list_from_ebrim",
    "registry_error_list_to_ebrim",
    "registry_object_list_from_ebrim",
    "registry_object_list_to_ebrim",
    "registry_response_from_ebrim",
    "registry_response_to_ebrim",
    "retrieve_request_from_ebrim",
    "retrieve_request_to_ebrim",
    "retrieve_response_from_ebrim",
    "retrieve_response_to_ebrim",
    "status_from_errors",
    "submission_set_from_ebrim",
    "submission_set_to_ebrim",
    "submit_objects_from_ebrim",
    "submit_objects_to_ebrim",
]

"""One typed method per stored query of ITI TF-2a 3.18.4.1.2.3.7 (Table 3.18.4.1.2.3.7-1).

Keyword names are the Python names of ``consumer.params.parameter_names``; ``None`` leaves a parameter
out. Codes are ``Code`` or ``"code^^scheme"``; a list is an OR, a list of lists an AND of ORs where the
query allows it (ITI TF-2a 3.18.4.1.2.3.5). Times are ``datetime``/``date`` or DTM text. Each returns the
``AdhocQueryResponse`` (LeafClass objects, or ObjectRefs with ``object_refs=True``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from xds.hl7v2 import CX
from xds.model import AdhocQueryResponse, Code
from xds.vocabulary import AssociationType, Status, StoredQuery

CodeArg = Code | str
Codes = CodeArg | Sequence[CodeArg] | Sequence[Sequence[CodeArg]]
Time = datetime | date | str
Statuses = Status | str | Sequence[Status | str]
Strings = str | Sequence[str]
PatientId = CX | str

_CALL_OPTIONS = ("self", "object_refs", "query", "criteria")


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in _CALL_OPTIONS and v is not None}


class StoredQueries:
    def query(
        self, query: StoredQuery | str, params: Mapping[str, Any] | None = None, *, object_refs: bool = False
    ) -> AdhocQueryResponse:
        raise NotImplementedError

    # ITI TF-2a 3.18.4.1.2.3.7.1
    def find_documents(
        self,
        patient_id: PatientId,
        *,
        status: Statuses = Status.APPROVED,
        class_code: Codes | None = None,
        type_code: Codes | None = None,
        practice_setting_code: Codes | None = None,
        healthcare_facility_type_code: Codes | None = None,
        event_code_list: Codes | None = None,
        confidentiality_code: Codes | None = None,
        format_code: Codes | None = None,
        author_person: Strings | None = None,
        creation_time_from: Time | None = None,
        creation_time_to: Time | None = None,
        service_start_time_from: Time | None = None,
        service_start_time_to: Time | None = None,
        service_stop_time_from: Time | None = None,
        service_stop_time_to: Time | None = None,
        document_entry_type: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        return self.query(StoredQuery.FIND_DOCUMENTS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.14
    def find_documents_by_reference_id(
        self,
        patient_id: PatientId,
        reference_id_list: Strings | Sequence[Sequence[str]],
        *,
        status: Statuses = Status.APPROVED,
        object_refs: bool = False,
        **criteria: Any,
    ) -> AdhocQueryResponse:
        params = _params(locals()) | criteria
        return self.query(StoredQuery.FIND_DOCUMENTS_BY_REFERENCE_ID, params, object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.2
    def find_submission_sets(
        self,
        patient_id: PatientId,
        *,
        status: Statuses = Status.APPROVED,
        source_id: Strings | None = None,
        submission_time_from: Time | None = None,
        submission_time_to: Time | None = None,
        author_person: str | None = None,
        content_type: Codes | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        return self.query(StoredQuery.FIND_SUBMISSION_SETS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.3
    def find_folders(
        self,
        patient_id: PatientId,
        *,
        status: Statuses = Status.APPROVED,
        last_update_time_from: Time | None = None,
        last_update_time_to: Time | None = None,
        code_list: Codes | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        return self.query(StoredQuery.FIND_FOLDERS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.4
    def get_all(
        self,
        patient_id: PatientId,
        *,
        document_entry_status: Statuses = Status.APPROVED,
        submission_set_status: Statuses = Status.APPROVED,
        folder_status: Statuses = Status.APPROVED,
        format_code: Codes | None = None,
        confidentiality_code: Codes | None = None,
        document_entry_type: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        return self.query(StoredQuery.GET_ALL, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.5
    def get_documents(
        self,
        *,
        entry_uuid: Strings | None = None,
        unique_id: Strings | None = None,
        logical_id: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        return self.query(StoredQuery.GET_DOCUMENTS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.6
    def get_folders(
        self,
        *,
        entry_uuid: Strings | None = None,
        unique_id: Strings | None = None,
        logical_id: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        return self.query(StoredQuery.GET_FOLDERS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.7
    def get_associations(self, uuid: Strings, *, object_refs: bool = False) -> AdhocQueryResponse:
        return self.query(StoredQuery.GET_ASSOCIATIONS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.8
    def get_documents_and_associations(
        self,
        *,
        entry_uuid: Strings | None = None,
        unique_id: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        query = StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS
        return self.query(query, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.9
    def get_submission_sets(self, uuid: Strings, *, object_refs: bool = False) -> AdhocQueryResponse:
        return self.query(StoredQuery.GET_SUBMISSION_SETS, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.10
    def get_submission_set_and_contents(
        self,
        *,
        entry_uuid: str | None = None,
        unique_id: str | None = None,
        format_code: Codes | None = None,
        confidentiality_code: Codes | None = None,
        document_entry_type: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        query = StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS
        return self.query(query, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.11
    def get_folder_and_contents(
        self,
        *,
        entry_uuid: str | None = None,
        unique_id: str | None = None,
        format_code: Codes | None = None,
        confidentiality_code: Codes | None = None,
        document_entry_type: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        query = StoredQuery.GET_FOLDER_AND_CONTENTS
        return self.query(query, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.12
    def get_folders_for_document(
        self, *, entry_uuid: str | None = None, unique_id: str | None = None, object_refs: bool = False
    ) -> AdhocQueryResponse:
        query = StoredQuery.GET_FOLDERS_FOR_DOCUMENT
        return self.query(query, _params(locals()), object_refs=object_refs)

    # ITI TF-2a 3.18.4.1.2.3.7.13
    def get_related_documents(
        self,
        association_types: AssociationType | str | Sequence[AssociationType | str],
        *,
        entry_uuid: str | None = None,
        unique_id: str | None = None,
        document_entry_type: Strings | None = None,
        object_refs: bool = False,
    ) -> AdhocQueryResponse:
        query = StoredQuery.GET_RELATED_DOCUMENTS
        return self.query(query, _params(locals()), object_refs=object_refs)

"""The request and response messages of ITI-41/42/18/43 and RAD-69, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

from xds.errors import RegistryError
from xds.model.association import Association, ObjectRef
from xds.model.attachment import Attachment
from xds.model.document_entry import DocumentEntry
from xds.model.submission_set import Folder, SubmissionSet
from xds.vocabulary import ResponseStatus, ReturnType


@dataclass(frozen=True, slots=True)
class Submission:
    """The RegistryObjectList of a SubmitObjectsRequest (ITI TF-2b 3.42.4.1.2)."""

    submission_sets: tuple[SubmissionSet, ...] = ()
    document_entries: tuple[DocumentEntry, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    object_refs: tuple[ObjectRef, ...] = ()

    @property
    def submission_set(self) -> SubmissionSet | None:
        return self.submission_sets[0] if len(self.submission_sets) == 1 else None


@dataclass(frozen=True, slots=True)
class Document:
    """An xdsb:Document of ITI-41: the bytes for the DocumentEntry whose entry id is ``id``."""

    id: str
    content: Attachment


@dataclass(frozen=True, slots=True)
class ProvideAndRegisterRequest:
    """ITI-41 / RAD-68 (ITI TF-2b 3.41.4.1.2)."""

    submission: Submission
    documents: tuple[Document, ...] = ()


@dataclass(frozen=True, slots=True)
class RegistryResponse:
    """rs:RegistryResponse (ITI TF-3 4.2.4)."""

    status: ResponseStatus = ResponseStatus.SUCCESS
    errors: tuple[RegistryError, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueryParameter:
    """One Slot of an AdhocQuery: the name and its values as literally sent ("'a'", "('a','b')")."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdhocQueryRequest:
    """ITI-18 request (ITI TF-2a 3.18.4.1.2)."""

    query_id: str
    parameters: tuple[QueryParameter, ...] = ()
    return_type: str = ReturnType.LEAF_CLASS
    home_community_id: str | None = None
    return_composed_objects: bool = True
    max_results: int | None = None
    start_index: int | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AdhocQueryResponse:
    """ITI-18 response (ITI TF-2a 3.18.4.1.3): LeafClass objects or ObjectRefs, plus status and errors."""

    status: ResponseStatus = ResponseStatus.SUCCESS
    errors: tuple[RegistryError, ...] = ()
    document_entries: tuple[DocumentEntry, ...] = ()
    submission_sets: tuple[SubmissionSet, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    object_refs: tuple[ObjectRef, ...] = ()
    start_index: int | None = None
    total_result_count: int | None = None


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """xdsb:DocumentRequest (ITI TF-2b 3.43.4.1.2)."""

    repository_unique_id: str
    document_unique_id: str
    home_community_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetrieveDocumentSetRequest:
    documents: tuple[DocumentRequest, ...]


@dataclass(frozen=True, slots=True)
class RetrievedDocument:
    """xdsb:DocumentResponse (ITI TF-2b 3.43.4.2.2)."""

    repository_unique_id: str
    document_unique_id: str
    mime_type: str
    content: Attachment
    home_community_id: str | None = None
    new_repository_unique_id: str | None = None
    new_document_unique_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetrieveDocumentSetResponse:
    response: RegistryResponse = field(default_factory=RegistryResponse)
    documents: tuple[RetrievedDocument, ...] = ()


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    series_instance_uid: str
    documents: tuple[DocumentRequest, ...]


@dataclass(frozen=True, slots=True)
class StudyRequest:
    study_instance_uid: str
    series: tuple[SeriesRequest, ...]


@dataclass(frozen=True, slots=True)
class RetrieveImagingDocumentSetRequest:
    """RAD-69 (RAD TF-3 4.69.4.1.2)."""

    studies: tuple[StudyRequest, ...]
    transfer_syntax_uids: tuple[str, ...] = ()

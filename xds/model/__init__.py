"""Plain frozen dataclasses of XDS metadata and messages (no XML here: DESIGN principle 1)."""

from xds.model.association import Association, ObjectRef
from xds.model.attachment import Attachment
from xds.model.author import Author
from xds.model.code import Code, ExtraSlot
from xds.model.document_entry import DocumentEntry
from xds.model.messages import (
    AdhocQueryRequest,
    AdhocQueryResponse,
    Document,
    DocumentRequest,
    ProvideAndRegisterRequest,
    QueryParameter,
    RegistryResponse,
    RetrievedDocument,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
    RetrieveImagingDocumentSetRequest,
    SeriesRequest,
    StudyRequest,
    Submission,
)
from xds.model.submission_set import Folder, SubmissionSet

__all__ = [
    "AdhocQueryRequest",
    "AdhocQueryResponse",
    "Association",
    "Attachment",
    "Author",
    "Code",
    "Document",
    "DocumentEntry",
    "DocumentRequest",
    "ExtraSlot",
    "Folder",
    "ObjectRef",
    "ProvideAndRegisterRequest",
    "QueryParameter",
    "RegistryResponse",
    "RetrieveDocumentSetRequest",
    "RetrieveDocumentSetResponse",
    "RetrieveImagingDocumentSetRequest",
    "RetrievedDocument",
    "SeriesRequest",
    "StudyRequest",
    "Submission",
    "SubmissionSet",
]

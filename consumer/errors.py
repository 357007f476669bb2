"""What goes wrong for a consumer: the peer's RegistryErrors as ``XdsError``, an unreachable peer, and a
short meaning of each standard error code for people reading the CLI's one-line errors."""

from __future__ import annotations

from collections.abc import Sequence

from xds.errors import ErrorCode, RegistryError, XdsError


class PeerUnavailable(XdsError):
    """The registry or repository could not be reached or did not answer with SOAP (ITI TF-3 4.2.4.1:
    XDSRegistryNotAvailable / XDSRepositoryNotAvailable describe the same situation one hop further)."""


def failure(errors: Sequence[RegistryError], default: ErrorCode, what: str) -> XdsError:
    """One ``XdsError`` for a Failure response: the first error with severity Error first, all kept."""
    ordered = [e for e in errors if e.is_error] + [e for e in errors if not e.is_error]
    if not ordered:
        return XdsError(default, f"{what} failed without a RegistryError")
    first, *rest = ordered
    # codes of other profiles or vendors travel as sent
    return XdsError(first.code, first.context, first.location, more=tuple(rest))  # type: ignore[arg-type]


# ITI TF-3 Table 4.2.4.1-2 describes each code; these are our own one-line summaries of it
MEANINGS: dict[str, str] = {
    ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR: "the repository holds no document with this uniqueId",
    ErrorCode.XDS_UNKNOWN_REPOSITORY_ID: "the repositoryUniqueId is not known here",
    ErrorCode.XDS_UNKNOWN_PATIENT_ID: "the patient ID is not known to the registry (feed it first)",
    ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH: "the patient ID differs between the objects of the submission",
    ErrorCode.XDS_REGISTRY_METADATA_ERROR: "the metadata breaks a rule of the registry",
    ErrorCode.XDS_REPOSITORY_METADATA_ERROR: "the metadata breaks a rule of the repository",
    ErrorCode.XDS_REGISTRY_ERROR: "the registry could not carry out the request",
    ErrorCode.XDS_REPOSITORY_ERROR: "the repository could not carry out the request",
    ErrorCode.XDS_REGISTRY_NOT_AVAILABLE: "the registry cannot be reached",
    ErrorCode.XDS_REPOSITORY_NOT_AVAILABLE: "the repository cannot be reached",
    ErrorCode.XDS_STORED_QUERY_MISSING_PARAM: "a parameter the stored query needs is missing",
    ErrorCode.XDS_STORED_QUERY_PARAM_NUMBER: "a parameter is given more often than the query allows",
    ErrorCode.XDS_UNKNOWN_STORED_QUERY: "the registry does not know this stored query",
    ErrorCode.XDS_TOO_MANY_RESULTS: "the answer would be too large; narrow the query or use --object-refs",
    ErrorCode.XDS_RESULT_NOT_SINGLE_PATIENT: "the answer would mix patients",
    ErrorCode.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR: "the document referred to is deprecated",
    ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY: "a uniqueId of the submission is already registered",
    ErrorCode.XDS_NON_IDENTICAL_HASH: "the document's SHA-1 differs from the hash in its metadata",
    ErrorCode.XDS_NON_IDENTICAL_SIZE: "the document's size differs from the size in its metadata",
    ErrorCode.XDS_MISSING_DOCUMENT: "a DocumentEntry has no document",
    ErrorCode.XDS_MISSING_DOCUMENT_METADATA: "a document has no DocumentEntry",
    ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION: "an association points to an object that is not known",
    ErrorCode.XDS_REGISTRY_BUSY: "the registry is busy; try again later",
    ErrorCode.XDS_REPOSITORY_BUSY: "the repository is busy; try again later",
}


def one_line(error: XdsError) -> str:
    """``XDSDocumentUniqueIdError: <meaning> (<context>)``; further errors counted, never a new line."""
    meaning = MEANINGS.get(str(error.code), "")
    detail = " ".join(error.context.split())
    text = f"{error.code}: {meaning}" if meaning else f"{error.code}: {detail}"
    if meaning and detail:
        text += f" ({detail})"
    if error.more:
        text += f" [+{len(error.more)} more]"
    return text

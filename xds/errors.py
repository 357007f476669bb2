"""Error codes of the standard and the one exception that carries them.

ITI TF-3 4.2.4.1 (Table 4.2.4.1-2) lists the error codes a RegistryErrorList may carry; RAD TF-3 4.69
reuses them for RAD-69. Everything that goes wrong in a transaction ends up as an ``XdsError``; the
service boundary (``xds.soap.boundary``) turns it into a RegistryResponse or a SOAP fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xds.vocabulary import Severity


class ErrorCode(StrEnum):
    """RegistryError/@errorCode values, spelled as ITI TF-3 Table 4.2.4.1-2 spells them."""

    DOCUMENT_QUEUED = "DocumentQueued"
    INVALID_DOCUMENT_CONTENT = "InvalidDocumentContent"
    PARTIAL_APPEND_CONTENT_NOT_PROCESSED = "PartialAppendContentNotProcessed"
    PARTIAL_FOLDER_CONTENT_NOT_PROCESSED = "PartialFolderContentNotProcessed"
    PARTIAL_REPLACE_CONTENT_NOT_PROCESSED = "PartialReplaceContentNotProcessed"
    PARTIAL_TRANSFORM_NOT_PROCESSED = "PartialTransformNotProcessed"
    PARTIAL_TRANSFORM_REPLACE_NOT_PROCESSED = "PartialTransformReplaceNotProcessed"
    UNRESOLVED_REFERENCE_EXCEPTION = "UnresolvedReferenceException"
    XDS_DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"
    XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY = "XDSDuplicateUniqueIdInRegistry"
    XDS_EXTRA_METADATA_NOT_SAVED = "XDSExtraMetadataNotSaved"
    XDS_MISSING_DOCUMENT = "XDSMissingDocument"
    XDS_MISSING_DOCUMENT_METADATA = "XDSMissingDocumentMetadata"
    XDS_MISSING_HOME_COMMUNITY_ID = "XDSMissingHomeCommunityId"
    XDS_NON_IDENTICAL_HASH = "XDSNonIdenticalHash"
    XDS_NON_IDENTICAL_SIZE = "XDSNonIdenticalSize"
    XDS_PATIENT_ID_DOES_NOT_MATCH = "XDSPatientIdDoesNotMatch"
    XDS_REGISTRY_BUSY = "XDSRegistryBusy"
    XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR = "XDSRegistryDeprecatedDocumentError"
    XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRegistryDuplicateUniqueIdInMessage"
    XDS_REGISTRY_ERROR = "XDSRegistryError"
    XDS_REGISTRY_METADATA_ERROR = "XDSRegistryMetadataError"
    XDS_REGISTRY_NOT_AVAILABLE = "XDSRegistryNotAvailable"
    XDS_REGISTRY_OUT_OF_RESOURCES = "XDSRegistryOutOfResources"
    XDS_REPOSITORY_BUSY = "XDSRepositoryBusy"
    XDS_REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRepositoryDuplicateUniqueIdInMessage"
    XDS_REPOSITORY_ERROR = "XDSRepositoryError"
    XDS_REPOSITORY_METADATA_ERROR = "XDSRepositoryMetadataError"
    XDS_REPOSITORY_NOT_AVAILABLE = "XDSRepositoryNotAvailable"
    XDS_REPOSITORY_OUT_OF_RESOURCES = "XDSRepositoryOutOfResources"
    XDS_RESULT_NOT_SINGLE_PATIENT = "XDSResultNotSinglePatient"
    XDS_SQL_ERROR = "XDSSqlError"
    XDS_STORED_QUERY_MISSING_PARAM = "XDSStoredQueryMissingParam"
    XDS_STORED_QUERY_PARAM_NUMBER = "XDSStoredQueryParamNumber"
    XDS_TOO_MANY_RESULTS = "XDSTooManyResults"
    XDS_UNAVAILABLE_COMMUNITY = "XDSUnavailableCommunity"
    XDS_UNKNOWN_COMMUNITY = "XDSUnknownCommunity"
    XDS_UNKNOWN_PATIENT_ID = "XDSUnknownPatientId"
    XDS_UNKNOWN_REPOSITORY_ID = "XDSUnknownRepositoryId"
    XDS_UNKNOWN_STORED_QUERY = "XDSUnknownStoredQuery"
    # ITI TF-3 4.2.4.1: Metadata Update (ITI-57) codes, kept so that later transactions need no new enum
    XDS_METADATA_UPDATE_ERROR = "XDSMetadataUpdateError"
    XDS_METADATA_VERSION_ERROR = "XDSMetadataVersionError"
    XDS_METADATA_UPDATE_OPERATION_ERROR = "XDSMetadataUpdateOperationError"
    XDS_PATIENT_ID_RECONCILIATION_ERROR = "XDSPatientIDReconciliationError"
    XDS_METADATA_IDENTIFIER_ERROR = "XDSMetadataIdentifierError"
    # RAD TF-3 4.69.4.2.3 (transfer syntax not supported for RAD-69)
    XDS_RETRIEVE_TRANSFER_SYNTAX_NOT_SUPPORTED = "XDSRetrieveTransferSyntaxNotSupported"


@dataclass(frozen=True, slots=True)
class RegistryError:
    """One entry of a RegistryErrorList (ebRS 3.0 rs:RegistryError)."""

    code: ErrorCode | str
    context: str = ""
    location: str = ""
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR


class XdsError(Exception):
    """A failure the standard has a code for. Raised anywhere; reported once, at the boundary."""

    def __init__(
        self,
        code: ErrorCode,
        context: str = "",
        location: str = "",
        *,
        more: tuple[RegistryError, ...] = (),
    ) -> None:
        super().__init__(f"{code}: {context}" if context else str(code))
        self.code = code
        self.context = context
        self.location = location
        self.more = more

    @property
    def errors(self) -> tuple[RegistryError, ...]:
        """This error first, then any further ones collected with it (validation reports them all)."""
        return (RegistryError(self.code, self.context, self.location), *self.more)

    @classmethod
    def collect(cls, errors: list[RegistryError] | tuple[RegistryError, ...]) -> XdsError:
        first, *rest = errors
        return cls(ErrorCode(first.code), first.context, first.location, more=tuple(rest))


class SoapFaultCode(StrEnum):
    """SOAP 1.2 fault codes (SOAP 1.2 Part 1, 5.4.6)."""

    SENDER = "Sender"
    RECEIVER = "Receiver"
    MUST_UNDERSTAND = "MustUnderstand"
    VERSION_MISMATCH = "VersionMismatch"
    DATA_ENCODING_UNKNOWN = "DataEncodingUnknown"


class SoapFault(Exception):
    """A request that cannot be answered with a RegistryResponse (bad envelope, bad MIME, wrong action).

    ``subcode`` is a qualified name in Clark notation, e.g. WS-Addressing's ``{ns}ActionNotSupported``.
    """

    def __init__(
        self,
        code: SoapFaultCode,
        reason: str,
        subcode: str | None = None,
        detail: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.subcode = subcode
        self.detail = detail
        # SOAP 1.2 Part 2, 7.5.1.2: Sender faults go out as 400, the rest as 500
        self.http_status = http_status or (400 if code == SoapFaultCode.SENDER else 500)

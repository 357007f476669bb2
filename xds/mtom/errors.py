"""The one exception of the MTOM layer and the reasons it carries.

Every malformed MTOM/XOP package ends in an ``MtomError``; the SOAP layer maps it to a SOAP 1.2
``env:Sender`` fault (SOAP 1.2 Part 1 5.4.6). Tests assert ``code``, never the message text.
"""

from __future__ import annotations

from enum import StrEnum


class MtomErrorCode(StrEnum):
    MALFORMED = "MalformedPackage"
    NOT_MULTIPART = "NotMultipartRelated"
    MALFORMED_CONTENT_TYPE = "MalformedContentType"
    MISSING_BOUNDARY = "MissingBoundary"
    BOUNDARY_NOT_FOUND = "BoundaryNotFound"
    TRUNCATED = "Truncated"
    NO_PARTS = "NoParts"
    HEADER_TOO_LARGE = "HeaderTooLarge"
    MALFORMED_HEADER = "MalformedHeader"
    TOO_MANY_PARTS = "TooManyParts"
    MISSING_CONTENT_ID = "MissingContentId"
    DUPLICATE_CONTENT_ID = "DuplicateContentId"
    ROOT_MISSING = "RootMissing"
    ROOT_TOO_LARGE = "RootTooLarge"
    ROOT_CONTENT_TYPE = "RootContentType"
    UNSUPPORTED_TRANSFER_ENCODING = "UnsupportedTransferEncoding"
    BAD_BASE64 = "BadBase64"
    UNRESOLVED_XOP_HREF = "UnresolvedXopHref"


class MtomError(Exception):
    """A malformed or unacceptable MTOM/XOP package; ``str()`` is the reason, ``code`` the kind."""

    def __init__(self, reason: str, code: MtomErrorCode = MtomErrorCode.MALFORMED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

"""Value syntax of XDS metadata (ITI TF-3 4.2.3.1.7 data types and 4.2.3.2.x attribute rules)."""

from __future__ import annotations

import calendar
import re

from xds.hl7v2 import CX

# ITI TF-3 4.2.3.1.7 (OID): ISO/IEC 8824 dotted decimal, no leading zeros in an arc, at most 64 chars.
_OID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+")
OID_MAX_LENGTH = 64
# ITI TF-3 4.2.3.2.26: DocumentEntry.uniqueId = OID or OID^extension, extension at most 16 chars.
EXTENSION_MAX_LENGTH = 16
# RFC 4122 UUID in the urn:uuid form ebRIM ids take (ITI TF-3 4.2.3.1.5 entryUUID).
_UUID_URN = re.compile(r"urn:uuid:[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
# RFC 6838 4.2: type "/" subtype, restricted-name characters.
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MIME = re.compile(rf"{_RESTRICTED_NAME}/{_RESTRICTED_NAME}")
# RFC 5646 language tag, simplified: primary subtag 2-8 letters, then 1-8 alphanumeric subtags.
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
# ITI TF-3 4.2.3.2.24 sourcePatientInfo: one PID field per value, "PID-<n>|<value>".
_PID_LINE = re.compile(r"PID-[1-9][0-9]*\|.*", re.DOTALL)
_DTM_LENGTHS = (4, 6, 8, 10, 12, 14)


def is_oid(value: str) -> bool:
    return len(value) <= OID_MAX_LENGTH and _OID.fullmatch(value) is not None


def is_uuid_urn(value: str) -> bool:
    return _UUID_URN.fullmatch(value) is not None


def is_symbolic_id(value: str) -> bool:
    """A submission-local id (ITI TF-3 4.2.3.1.5: entryUUIDs may be symbolic before registration)."""
    return not value.startswith("urn:uuid:")


def is_document_unique_id(value: str) -> bool:
    oid, caret, extension = value.partition("^")
    if not is_oid(oid):
        return False
    if not caret:
        return True
    return 0 < len(extension) <= EXTENSION_MAX_LENGTH and "^" not in extension and extension.isprintable()


def is_dtm(value: str) -> bool:
    """ITI TF-3 Table 4.2.3.1.7-2 DTM: YYYY[MM[DD[hh[mm[ss]]]]] in UTC, with valid calendar values."""
    if len(value) not in _DTM_LENGTHS or not value.isascii() or not value.isdigit():
        return False
    parts = [int(value[i : i + 2]) for i in range(4, len(value), 2)]
    year = int(value[:4])
    limits = [(1, 12), (1, 31), (0, 23), (0, 59), (0, 59)]
    for part, (low, high) in zip(parts, limits, strict=False):
        if not low <= part <= high:
            return False
    return not (len(parts) >= 2 and parts[1] > calendar.monthrange(year, parts[0])[1])


def is_sha1_hex(value: str) -> bool:
    return _SHA1.fullmatch(value) is not None


def is_mime_type(value: str) -> bool:
    return _MIME.fullmatch(value) is not None


def is_language_code(value: str) -> bool:
    return _LANGUAGE.fullmatch(value) is not None


def is_pid_line(value: str) -> bool:
    return _PID_LINE.fullmatch(value) is not None


def patient_id_problem(cx: CX) -> str | None:
    """ITI TF-3 4.2.3.2.16 (patientId): CX.1 and CX.4 as "&<OID>&ISO"; None when fine."""
    if not cx.id_number:
        return "has no ID number (CX.1)"
    authority = cx.assigning_authority
    if authority is None or not authority.universal_id:
        return "has no assigning authority (CX.4)"
    if authority.universal_id_type != "ISO":
        return "assigning authority type (CX.4.3) is not ISO"
    if not is_oid(authority.universal_id):
        return "assigning authority (CX.4.2) is not an OID"
    return None

"""rs:RegistryResponse with its rs:RegistryErrorList (ITI TF-3 4.2.4, ebRS 3.0 rs.xsd)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml.etree import _Element

from xds.ebrim.xml import children, metadata_error, new_root, rs, set_attrs, sub
from xds.errors import ErrorCode, RegistryError
from xds.model import RegistryResponse
from xds.vocabulary import ResponseStatus, Severity

# ebRS 3.0 names PartialSuccess in its own namespace; ITI TF-3 4.2.4.2 uses urn:ihe:iti:2007:...
_EBRS_PARTIAL_SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess"


def status_from_errors(errors: Sequence[RegistryError]) -> ResponseStatus:
    """ITI TF-3 4.2.4.2: Failure when any error has severity Error; warnings alone leave Success."""
    return ResponseStatus.FAILURE if any(e.is_error for e in errors) else ResponseStatus.SUCCESS


def parse_status(value: str | None, what: str) -> ResponseStatus:
    if value == _EBRS_PARTIAL_SUCCESS:
        return ResponseStatus.PARTIAL_SUCCESS
    try:
        return ResponseStatus(value or "")
    except ValueError:
        raise metadata_error(f"{what}: unknown status {value!r}") from None


def registry_error_list_to_ebrim(errors: Sequence[RegistryError]) -> _Element:
    el = new_root(rs("RegistryErrorList"), "rs")
    # ebRS 3.0 rs.xsd RegistryErrorList/@highestSeverity
    el.set("highestSeverity", Severity.ERROR if any(e.is_error for e in errors) else Severity.WARNING)
    for e in errors:
        sub(
            el,
            rs("RegistryError"),
            {
                "errorCode": str(e.code),
                "codeContext": e.context,
                "location": e.location or None,
                "severity": e.severity,
            },
        )
    return el


def _severity(value: str | None) -> Severity:
    if value is None:
        return Severity.ERROR  # ebRS 3.0 rs.xsd: severity defaults to Error
    for sev in Severity:
        if value in (sev.value, sev.value.rsplit(":", 1)[1]):
            return sev
    raise metadata_error(f"RegistryError severity {value!r} is neither Error nor Warning")


def registry_error_list_from_ebrim(parent: _Element) -> tuple[RegistryError, ...]:
    errors: list[RegistryError] = []
    for lst in children(parent, rs("RegistryErrorList")):
        for e in children(lst, rs("RegistryError")):
            code_text = e.get("errorCode") or ""
            try:
                code: ErrorCode | str = ErrorCode(code_text)
            except ValueError:
                code = code_text  # codes of other profiles / vendors travel as sent
            errors.append(
                RegistryError(
                    code, e.get("codeContext") or "", e.get("location") or "", _severity(e.get("severity"))
                )
            )
    return tuple(errors)


def write_response_parts(
    el: _Element, status: str, errors: Sequence[RegistryError], request_id: str | None = None
) -> None:
    set_attrs(el, {"status": status, "requestId": request_id})
    if errors:
        el.append(registry_error_list_to_ebrim(errors))


def registry_response_to_ebrim(r: RegistryResponse) -> _Element:
    el = new_root(rs("RegistryResponse"), "rs")
    write_response_parts(el, r.status, r.errors, r.request_id)
    return el


def registry_response_from_ebrim(el: _Element) -> RegistryResponse:
    if el.tag != rs("RegistryResponse"):
        raise metadata_error(f"expected rs:RegistryResponse, got {el.tag}")
    return RegistryResponse(
        parse_status(el.get("status"), "RegistryResponse"),
        registry_error_list_from_ebrim(el),
        el.get("requestId"),
    )

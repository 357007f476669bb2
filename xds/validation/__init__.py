"""Metadata validation per transaction (DESIGN.md principle 4; ITI TF-3 4.2, ITI TF-2a/2b, RAD TF-3)."""

from xds.validation.config import CodeValidation, ValidationConfig
from xds.validation.stored_query import (
    CodeListValue,
    NumberValue,
    ParamValue,
    PatientIdValue,
    StoredQueryCall,
    StringListValue,
    StringValue,
    TimeValue,
    parse_stored_query,
)
from xds.validation.validate import validate, validate_or_raise

__all__ = [
    "CodeListValue",
    "CodeValidation",
    "NumberValue",
    "ParamValue",
    "PatientIdValue",
    "StoredQueryCall",
    "StringListValue",
    "StringValue",
    "TimeValue",
    "ValidationConfig",
    "parse_stored_query",
    "validate",
    "validate_or_raise",
]

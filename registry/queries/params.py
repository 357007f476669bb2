"""Typed access to the parsed parameters of one stored-query call (xds.validation.stored_query)."""

from __future__ import annotations

from registry.rows import code_key, patient_key
from xds.hl7v2 import CX
from xds.validation import (
    CodeListValue,
    ParamValue,
    PatientIdValue,
    StoredQueryCall,
    StringListValue,
    StringValue,
    TimeValue,
)


class Params:
    """The values of a call by parameter name; None where the parameter was not given."""

    def __init__(self, call: StoredQueryCall) -> None:
        self.call = call
        self._values: dict[str, ParamValue] = call.params

    def patient(self, name: str) -> str | None:
        value = self._values.get(name)
        return patient_key(value.value) if isinstance(value, PatientIdValue) else None

    def strings(self, name: str) -> tuple[str, ...] | None:
        """A list parameter; a single-valued one given as a one-element list."""
        value = self._values.get(name)
        if isinstance(value, StringListValue):
            return value.values
        if isinstance(value, StringValue):
            return (value.value,)
        return None

    def codes(self, name: str) -> tuple[tuple[str, ...], ...] | None:
        """The AND-groups of OR-ed codes, each as ``code^^scheme`` (registry/rows.code_key)."""
        value = self._values.get(name)
        if not isinstance(value, CodeListValue):
            return None
        return tuple(tuple(code_key(code) or "" for code in group) for group in value.groups)

    def time(self, name: str) -> str | None:
        value = self._values.get(name)
        return value.value if isinstance(value, TimeValue) else None

    def references(self, name: str) -> tuple[tuple[str, ...], ...] | None:
        """The AND-groups of OR-ed referenceIdList values, in the form the registry stores them
        (CX.render: trailing empty components dropped)."""
        value = self._values.get(name)
        if not isinstance(value, StringListValue):
            return None
        groups = value.groups or (value.values,)
        return tuple(tuple(_canonical_cxi(v) for v in group) for group in groups)


def _canonical_cxi(text: str) -> str:
    try:
        return CX.parse(text).render()
    except ValueError:
        return text

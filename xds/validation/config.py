"""How strictly coded values are checked (DESIGN.md: XDS_CODE_VALIDATION reject | warn | ignore)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xds.valuesets import ValueSets


class CodeValidation(StrEnum):
    REJECT = "reject"  # a code outside the value set is an error
    WARN = "warn"  # ... a warning (the default: IHE-DE sets are a recommendation)
    IGNORE = "ignore"  # ... not reported


@dataclass(frozen=True)
class ValidationConfig:
    code_validation: CodeValidation = CodeValidation.WARN
    value_sets: ValueSets | None = None  # None -> the shipped IHE-DE sets

    @property
    def effective_value_sets(self) -> ValueSets:
        return self.value_sets if self.value_sets is not None else ValueSets.ihe_de()

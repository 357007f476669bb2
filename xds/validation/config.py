"""How strictly coded values are checked (DESIGN.md: XDS_CODE_VALIDATION reject | warn | ignore)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xds.config import Settings
from xds.valuesets import ValueSets


class CodeValidation(StrEnum):
    REJECT = "reject"  # a code outside the value set is an error
    WARN = "warn"  # ... a warning (the default: IHE-DE sets are a recommendation)
    IGNORE = "ignore"  # ... not reported


@dataclass(frozen=True)
class ValidationConfig:
    code_validation: CodeValidation = CodeValidation.WARN
    value_sets: ValueSets | None = None  # None -> the shipped IHE-DE sets

    @classmethod
    def from_settings(cls, settings: Settings) -> ValidationConfig:
        """``code_validation`` and ``value_sets_file`` (a ``.xml`` file is read as NIST codes.xml, anything
        else as our TSV; empty: the shipped IHE-DE sets)."""
        path = settings.value_sets_file
        if not path:
            value_sets = None
        elif path.lower().endswith(".xml"):
            value_sets = ValueSets.load_nist_codes_xml(path)
        else:
            value_sets = ValueSets.load_tsv(path)
        return cls(CodeValidation(settings.code_validation), value_sets)

    @property
    def effective_value_sets(self) -> ValueSets:
        return self.value_sets if self.value_sets is not None else ValueSets.ihe_de()

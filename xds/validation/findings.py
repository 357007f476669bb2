"""Collects the findings of one validation run, choosing error codes by transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from xds.errors import ErrorCode, RegistryError
from xds.transactions import Transaction
from xds.vocabulary import Severity

# ITI TF-3 Table 4.2.4.1-2: "the actor name [in the code] indicates where the error was detected". A
# Repository that checks ITI-41/RAD-68 metadata before forwarding it reports XDSRepository... codes; the
# Registry checking ITI-42 reports XDSRegistry... codes.
REPOSITORY_SIDE = frozenset({Transaction.ITI_41, Transaction.RAD_68})


@dataclass
class Findings:
    transaction: Transaction
    items: list[RegistryError] = field(default_factory=list)

    @property
    def at_repository(self) -> bool:
        return self.transaction in REPOSITORY_SIDE

    @property
    def metadata_code(self) -> ErrorCode:
        if self.at_repository:
            return ErrorCode.XDS_REPOSITORY_METADATA_ERROR
        return ErrorCode.XDS_REGISTRY_METADATA_ERROR

    @property
    def duplicate_unique_id_code(self) -> ErrorCode:
        if self.at_repository:
            return ErrorCode.XDS_REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
        return ErrorCode.XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE

    def add(
        self, code: ErrorCode, context: str, location: str = "", severity: Severity = Severity.ERROR
    ) -> None:
        self.items.append(RegistryError(code, context, location, severity))

    def metadata(self, context: str, location: str = "", severity: Severity = Severity.ERROR) -> None:
        self.add(self.metadata_code, context, location, severity)

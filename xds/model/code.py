"""Coded values and extra slots, the two small building blocks of every metadata object."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Code:
    """A coded attribute (ITI TF-3 4.2.3.1.2: classification, nodeRepresentation, codingScheme slot, Name)."""

    code: str
    scheme: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class ExtraSlot:
    """A slot the metadata model does not name (ITI TF-3 4.2.3.1.3 extra metadata: kept, never dropped)."""

    name: str
    values: tuple[str, ...] = ()
    slot_type: str | None = None

"""What DocumentEntry, SubmissionSet, Folder and Association share: reading a rim:RegistryObject into
its parts (slots, name, description, version, classifications by scheme/node, external identifiers)
and writing the common attributes and extra slots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from lxml.etree import _Element

from xds.ebrim.author import author_from_ebrim
from xds.ebrim.codes import code_from_ebrim
from xds.ebrim.xml import (
    SlotReader,
    WireSlot,
    first_localized,
    metadata_error,
    read_slot,
    require_id,
    rim,
    slot_element,
)
from xds.model import Author, Code, ExtraSlot

_SLOT, _NAME, _DESCRIPTION, _VERSION_INFO = rim("Slot"), rim("Name"), rim("Description"), rim("VersionInfo")
_CLASSIFICATION, _IDENTIFIER = rim("Classification"), rim("ExternalIdentifier")


class ObjectReader:
    """One RegistryObject, with the top-level Classifications / ExternalIdentifiers that point at it.

    ITI TF-3 4.2.3.3 / 4.2.3.4: a Classification may be nested in the object it classifies or stand at the
    top of the RegistryObjectList with classifiedObject = the object's id; both are read the same way.
    """

    def __init__(
        self,
        el: _Element,
        what: str,
        extra_classifications: Sequence[_Element] = (),
        extra_identifiers: Sequence[_Element] = (),
    ) -> None:
        self.el = el
        self.id = require_id(el, what)
        self.what = f"{what} {self.id}"
        parts: dict[object, list[_Element]] = defaultdict(list)  # the children by tag, one pass
        for child in el:
            parts[child.tag].append(child)
        self.slots = SlotReader(self.what, [read_slot(s, self.id) for s in parts[_SLOT]])
        self.name = first_localized(parts[_NAME])
        self.description = first_localized(parts[_DESCRIPTION])
        self.version_name = next((vi.get("versionName") for vi in parts[_VERSION_INFO]), None)
        self.classifications = [*parts[_CLASSIFICATION], *extra_classifications]
        self.identifiers = [*parts[_IDENTIFIER], *extra_identifiers]
        self._schemes: dict[str | None, list[_Element]] = defaultdict(list)
        for c in self.classifications:
            self._schemes[c.get("classificationScheme")].append(c)

    def _by_scheme(self, scheme: str) -> list[_Element]:
        return self._schemes.get(scheme, [])

    def codes(self, scheme: str) -> tuple[Code, ...]:
        return tuple(code_from_ebrim(c) for c in self._by_scheme(scheme))

    def code(self, scheme: str, label: str) -> Code | None:
        codes = self.codes(scheme)
        if len(codes) > 1:
            # ITI TF-3 Table 4.2.3.2-1 / 4.2.3.3-1: this coded attribute has cardinality 0..1 / 1..1
            raise metadata_error(f"{self.what}: {len(codes)} {label} classifications", self.id)
        return codes[0] if codes else None

    def authors(self, scheme: str) -> tuple[Author, ...]:
        return tuple(author_from_ebrim(c) for c in self._by_scheme(scheme))

    def has_node(self, node: str) -> bool:
        return any(c.get("classificationNode") == node for c in self.classifications)

    def identifier(self, scheme: str, label: str) -> str | None:
        found = [e for e in self.identifiers if e.get("identificationScheme") == scheme]
        if len(found) > 1:
            # ITI TF-3 4.2.3.2.12 / 4.2.3.2.26 ...: each identifier appears exactly once
            raise metadata_error(f"{self.what}: {len(found)} {label} external identifiers", self.id)
        if not found:
            return None
        value = found[0].get("value")
        if value is None:
            raise metadata_error(f"{self.what}: {label} external identifier without value", self.id)
        return value

    def attr(self, name: str) -> str | None:
        return self.el.get(name)

    def extra_slots(self) -> tuple[ExtraSlot, ...]:
        # ITI TF-3 4.2.3.1.3 extra metadata: slots the model does not name are kept, in order
        return tuple(ExtraSlot(s.name, s.values, s.slot_type) for s in self.slots.rest())


def extra_slot_elements(extra: Sequence[ExtraSlot]) -> list[_Element]:
    return [slot_element(s.name, s.values, s.slot_type) for s in extra]


def slots_of(pairs: Sequence[tuple[str, str | tuple[str, ...] | None]]) -> list[_Element]:
    """Slot elements for the (name, value) pairs that are set; a str is one value, a tuple many."""
    out: list[_Element] = []
    for name, value in pairs:
        if value is None or value == ():
            continue
        out.append(slot_element(name, (value,) if isinstance(value, str) else value))
    return out


__all__ = ["ObjectReader", "WireSlot", "extra_slot_elements", "slots_of"]

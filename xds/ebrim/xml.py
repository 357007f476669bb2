"""Generic ebRIM 3.0 XML helpers: qualified names, element builders, and readers for the parts every
RegistryObject shares (Slot, Name/Description, VersionInfo, Classification, ExternalIdentifier).

Nothing here knows the metadata model (DESIGN principle 1): the readers return plain wire records that
the per-class codecs map onto dataclasses.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from lxml import etree
from lxml.etree import _Element

from xds.errors import ErrorCode, XdsError
from xds.vocabulary import (
    EXTERNAL_IDENTIFIER_NAMES,
    NS_LCM,
    NS_QUERY,
    NS_RIM,
    NS_RS,
    NS_XDSB,
    NS_XDSI,
    NS_XOP,
    OBJECT_TYPE_CLASSIFICATION,
    OBJECT_TYPE_EXTERNAL_IDENTIFIER,
)

PREFIXES = {"rim": NS_RIM, "rs": NS_RS, "lcm": NS_LCM, "query": NS_QUERY, "xdsb": NS_XDSB, "xdsi": NS_XDSI}


@cache
def rim(local: str) -> str:
    return f"{{{NS_RIM}}}{local}"


def rs(local: str) -> str:
    return f"{{{NS_RS}}}{local}"


def lcm(local: str) -> str:
    return f"{{{NS_LCM}}}{local}"


_SLOT, _VALUE_LIST, _VALUE = rim("Slot"), rim("ValueList"), rim("Value")
_LOCALIZED_STRING = rim("LocalizedString")


def query(local: str) -> str:
    return f"{{{NS_QUERY}}}{local}"


def xdsb(local: str) -> str:
    return f"{{{NS_XDSB}}}{local}"


def xdsi(local: str) -> str:
    return f"{{{NS_XDSI}}}{local}"


def xop(local: str) -> str:
    return f"{{{NS_XOP}}}{local}"


def metadata_error(context: str, location: str = "") -> XdsError:
    """ITI TF-3 4.2.4.1 (Table 4.2.4.1-2): metadata that cannot be read is an XDSRegistryMetadataError."""
    return XdsError(ErrorCode.XDS_REGISTRY_METADATA_ERROR, context, location)


# --- building -----------------------------------------------------------------------------------------


def new_root(tag: str, *prefixes: str, attrib: dict[str, str | None] | None = None) -> _Element:
    """A standalone element declaring the given prefixes (rim, rs, lcm, query, xdsb, xdsi, xop)."""
    nsmap = {p: (NS_XOP if p == "xop" else PREFIXES[p]) for p in prefixes}
    el = etree.Element(tag, nsmap=nsmap)  # type: ignore[arg-type]
    set_attrs(el, attrib or {})
    return el


def set_attrs(el: _Element, attrib: dict[str, str | None]) -> None:
    for name, value in attrib.items():
        if value is not None:
            el.set(name, value)


def _present(attrib: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in attrib.items() if value is not None}


def sub(parent: _Element, tag: str, attrib: dict[str, str | None] | None = None, text: str | None = None):
    el = etree.SubElement(parent, tag, _present(attrib)) if attrib else etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def append_all(parent: _Element, children: Iterable[_Element]) -> None:
    for child in children:
        parent.append(child)


def finish(root: _Element) -> _Element:
    """Drop namespace declarations repeated on children that were built standalone."""
    etree.cleanup_namespaces(root)
    return root


_RIM_NSMAP = {"rim": NS_RIM}
_SLOT, _VALUE_LIST, _VALUE, _LOCALIZED_STRING = (
    rim(local) for local in ("Slot", "ValueList", "Value", "LocalizedString")
)


def slot_element(name: str, values: Sequence[str], slot_type: str | None = None) -> _Element:
    """ebRIM 3.0 rim:Slot with a rim:ValueList (regrep-rim-3.0 2.8.2)."""
    attrib = {"name": name} if slot_type is None else {"name": name, "slotType": slot_type}
    el = etree.Element(_SLOT, attrib, nsmap=_RIM_NSMAP)
    value_list = etree.SubElement(el, _VALUE_LIST)
    for value in values:
        etree.SubElement(value_list, _VALUE).text = value
    return el


def localized(tag: str, text: str) -> _Element:
    """rim:Name / rim:Description holding one rim:LocalizedString (regrep-rim-3.0 2.8.4)."""
    el = etree.Element(rim(tag), nsmap=_RIM_NSMAP)
    etree.SubElement(el, _LOCALIZED_STRING, value=text)
    return el


_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "xds-affinity-domain:ebrim:derived-ids")


def derived_id(owner_id: str, role: str) -> str:
    """Deterministic id for a Classification/ExternalIdentifier: same owner and role, same id.

    ebRIM 3.0 requires an id on every Identifiable; the model does not keep these ids (they carry no
    meaning in XDS), so they are derived from the owner's id to make encoding reproducible.
    """
    # RFC 4122 4.3: a name-based UUID, version 5 (SHA-1), as uuid.uuid5 makes it, in fewer steps
    digest = bytearray(hashlib.sha1(_ID_NAMESPACE.bytes + f"{owner_id}\n{role}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def classification_element(
    owner_id: str,
    role: str,
    *,
    scheme: str | None = None,
    node: str | None = None,
    node_representation: str | None = None,
    slots: Sequence[_Element] = (),
    name: str | None = None,
) -> _Element:
    """rim:Classification; children in ebRIM 3.0 order (Slot*, Name?)."""
    attrib = {
        "classificationScheme": scheme,
        "classificationNode": node,
        "classifiedObject": owner_id,
        "nodeRepresentation": node_representation,
        "objectType": OBJECT_TYPE_CLASSIFICATION,
        "id": derived_id(owner_id, role),
    }
    el = etree.Element(rim("Classification"), _present(attrib), nsmap=_RIM_NSMAP)
    append_all(el, slots)
    if name:
        el.append(localized("Name", name))
    return el


def external_identifier_element(owner_id: str, scheme: str, value: str) -> _Element:
    """rim:ExternalIdentifier with @registryObject = owner and the Name the scheme has in ITI TF-3
    (4.2.3.2.12 / 4.2.3.3.12 ...: "XDSDocumentEntry.uniqueId" etc.)."""
    attrib = {
        "identificationScheme": scheme,
        "value": value,
        "registryObject": owner_id,
        "objectType": OBJECT_TYPE_EXTERNAL_IDENTIFIER,
        "id": derived_id(owner_id, "ei:" + scheme),
    }
    el = etree.Element(rim("ExternalIdentifier"), attrib, nsmap=_RIM_NSMAP)
    el.append(localized("Name", EXTERNAL_IDENTIFIER_NAMES[scheme]))
    return el


@dataclass
class RegistryObjectParts:
    """The children of a rim:RegistryObject, in ebRIM 3.0 order (regrep-rim-3.0 2.5.1)."""

    slots: list[_Element] = field(default_factory=list)
    name: str | None = None
    description: str | None = None
    version_name: str | None = None
    classifications: list[_Element] = field(default_factory=list)
    external_identifiers: list[_Element] = field(default_factory=list)

    def identify(self, owner_id: str, scheme: str, value: str | None) -> None:
        """Add the ExternalIdentifier ``scheme`` = ``value``; None adds nothing."""
        if value is not None:
            self.external_identifiers.append(external_identifier_element(owner_id, scheme, value))

    def build_into(self, el: _Element) -> _Element:
        append_all(el, self.slots)
        if self.name is not None:
            el.append(localized("Name", self.name))
        if self.description is not None:
            el.append(localized("Description", self.description))
        if self.version_name is not None:
            sub(el, rim("VersionInfo"), {"versionName": self.version_name})
        append_all(el, self.classifications)
        append_all(el, self.external_identifiers)
        return el


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WireSlot:
    name: str
    values: tuple[str, ...]
    slot_type: str | None = None


def localname(el: _Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def children(el: _Element, tag: str) -> list[_Element]:
    return list(el.iterchildren(tag))


def element_children(el: _Element) -> list[_Element]:
    return [c for c in el if isinstance(c.tag, str)]


def read_slot(el: _Element, owner: str) -> WireSlot:
    name = el.get("name")
    if not name:
        raise metadata_error(f"{owner}: Slot without name", owner)
    values = tuple((v.text or "") for vl in el.iterchildren(_VALUE_LIST) for v in vl.iterchildren(_VALUE))
    return WireSlot(name, values, el.get("slotType"))


def read_slots(el: _Element, owner: str) -> list[WireSlot]:
    return [read_slot(s, owner) for s in el.iterchildren(_SLOT)]


def read_localized(el: _Element, tag: str) -> str | None:
    """The text of the first LocalizedString of rim:Name / rim:Description; None when absent or empty.

    The model keeps one text per attribute (ITI TF-3 4.2.3.2.25 title, 4.2.3.2.6 comments), so a
    second language and xml:lang/charset are not kept.
    """
    return first_localized(el.iterchildren(rim(tag)))


def first_localized(holders: Iterable[_Element]) -> str | None:
    """The first LocalizedString value in these rim:Name or rim:Description elements (read_localized)."""
    for holder in holders:
        for ls in holder.iterchildren(_LOCALIZED_STRING):
            value = ls.get("value")
            if value is not None:
                return value
    return None


class SlotReader:
    """Takes the slots the model names off an object's slot list; what remains are extra slots."""

    def __init__(self, owner: str, slots: Sequence[WireSlot]) -> None:
        self.owner = owner
        self._slots = tuple(slots)
        self._untaken: dict[str, list[WireSlot]] = {}
        for slot in slots:
            self._untaken.setdefault(slot.name, []).append(slot)

    def _take(self, name: str) -> WireSlot | None:
        found = self._untaken.pop(name, None)
        if found is None:
            return None
        if len(found) > 1:
            # regrep-rim-3.0 2.8: slot names are unique within a RegistryObject
            raise metadata_error(f"{self.owner}: slot {name} appears {len(found)} times", self.owner)
        return found[0]

    def many(self, name: str) -> tuple[str, ...]:
        slot = self._take(name)
        return slot.values if slot else ()

    def one(self, name: str) -> str | None:
        """A single-valued slot (ITI TF-3 4.2.3.1.3): exactly one Value when present."""
        slot = self._take(name)
        if slot is None:
            return None
        if len(slot.values) != 1:
            raise metadata_error(
                f"{self.owner}: slot {name} must hold exactly one value, holds {len(slot.values)}", self.owner
            )
        return slot.values[0]

    def rest(self) -> list[WireSlot]:
        return [s for s in self._slots if s.name in self._untaken]


def require_id(el: _Element, what: str) -> str:
    value = el.get("id")
    if not value:
        # regrep-rim-3.0 2.5.2: id is required on every Identifiable
        raise metadata_error(f"{what} without id")
    return value

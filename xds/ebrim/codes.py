"""Code <-> coded Classification (ITI TF-3 4.2.3.1.2): nodeRepresentation = code, Slot codingScheme,
Name = display name. Also the limited-metadata marker classification (ITI TF-3 4.2.5.2)."""

from __future__ import annotations

from lxml.etree import _Element

from xds.ebrim.xml import (
    SlotReader,
    classification_element,
    metadata_error,
    read_localized,
    read_slots,
    slot_element,
)
from xds.model import Code
from xds.vocabulary import Slot


def code_to_ebrim(code: Code, *, scheme: str, classified_object: str, role: str) -> _Element:
    """``role`` names the classification among its owner's (e.g. "classCode", "eventCode/2")."""
    slots = [slot_element(Slot.CODING_SCHEME, (code.scheme,))] if code.scheme else []
    return classification_element(
        classified_object,
        role,
        scheme=scheme,
        node_representation=code.code,
        slots=slots,
        name=code.display_name or None,
    )


def code_from_ebrim(el: _Element) -> Code:
    owner = el.get("classifiedObject") or el.get("id") or "Classification"
    code = el.get("nodeRepresentation")
    if code is None:
        # ITI TF-3 4.2.3.1.2: the code value is the nodeRepresentation attribute
        raise metadata_error(
            f"{owner}: coded classification {el.get('classificationScheme')} lacks nodeRepresentation", owner
        )
    slots = SlotReader(f"{owner} code {code}", read_slots(el, owner))
    scheme = slots.one(Slot.CODING_SCHEME) or ""
    return Code(code, scheme, read_localized(el, "Name") or "")


def limited_metadata_to_ebrim(owner_id: str, node: str) -> _Element:
    """ITI TF-3 4.2.5.2 / 4.1.1.1: the object is marked Limited Metadata by this classification node."""
    return classification_element(owner_id, "limitedMetadata", node=node)

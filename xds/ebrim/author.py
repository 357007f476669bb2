"""Author <-> author Classification (ITI TF-3 4.2.3.1.4): nodeRepresentation "", author slots."""

from __future__ import annotations

from lxml.etree import _Element

from xds.ebrim.values import parse_hl7
from xds.ebrim.xml import SlotReader, classification_element, read_slots, slot_element
from xds.hl7v2 import XCN, XON, XTN
from xds.model import Author
from xds.vocabulary import Slot


def author_to_ebrim(author: Author, *, scheme: str, classified_object: str, role: str) -> _Element:
    """ITI TF-3 4.2.3.1.4: authorPerson (0..1), authorInstitution/Role/Specialty/Telecommunication (0..n)."""
    slots: list[_Element] = []
    if author.person is not None:
        slots.append(slot_element(Slot.AUTHOR_PERSON, (author.person.render(),)))
    for name, values in (
        (Slot.AUTHOR_INSTITUTION, tuple(x.render() for x in author.institutions)),
        (Slot.AUTHOR_ROLE, author.roles),
        (Slot.AUTHOR_SPECIALTY, author.specialties),
        (Slot.AUTHOR_TELECOMMUNICATION, tuple(x.render() for x in author.telecommunications)),
    ):
        if values:
            slots.append(slot_element(name, values))
    return classification_element(classified_object, role, scheme=scheme, node_representation="", slots=slots)


def author_from_ebrim(el: _Element) -> Author:
    owner = el.get("classifiedObject") or el.get("id") or "author"
    where = f"{owner} author"
    slots = SlotReader(where, read_slots(el, owner))
    # ITI TF-3 Table 4.2.3.1.4-1: authorPerson holds at most one value
    person = slots.one(Slot.AUTHOR_PERSON)
    # Other slots on the author classification have no place in the model and are not kept.
    return Author(
        person=parse_hl7(XCN, person, owner, "authorPerson") if person is not None else None,
        institutions=tuple(
            parse_hl7(XON, v, owner, "authorInstitution") for v in slots.many(Slot.AUTHOR_INSTITUTION)
        ),
        roles=slots.many(Slot.AUTHOR_ROLE),
        specialties=slots.many(Slot.AUTHOR_SPECIALTY),
        telecommunications=tuple(
            parse_hl7(XTN, v, owner, "authorTelecommunication")
            for v in slots.many(Slot.AUTHOR_TELECOMMUNICATION)
        ),
    )

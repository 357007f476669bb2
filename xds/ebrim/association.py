"""Association <-> rim:Association (ITI TF-3 4.2.2) and ObjectRef <-> rim:ObjectRef."""

from __future__ import annotations

from collections.abc import Sequence

from lxml.etree import _Element

from xds.ebrim.codes import code_to_ebrim
from xds.ebrim.registry_object import ObjectReader, extra_slot_elements, slots_of
from xds.ebrim.xml import RegistryObjectParts, metadata_error, new_root, require_id, rim
from xds.model import Association, ObjectRef
from xds.vocabulary import ASSOCIATION_DOCUMENTATION, OBJECT_TYPE_ASSOCIATION, Slot


def association_to_ebrim(assoc: Association) -> _Element:
    aid = assoc.entry_uuid
    el = new_root(
        rim("Association"),
        "rim",
        attrib={
            "id": aid,
            "objectType": OBJECT_TYPE_ASSOCIATION,
            "associationType": assoc.association_type,
            "sourceObject": assoc.source,
            "targetObject": assoc.target,
            "status": assoc.availability_status,
            "home": assoc.home_community_id,
        },
    )
    parts = RegistryObjectParts()
    # ITI TF-3 4.2.2.1.2 SubmissionSetStatus; ITI TF-3 4.1.10 / 3.57 PreviousVersion, Original/NewStatus
    parts.slots = slots_of(
        [
            (Slot.SUBMISSION_SET_STATUS, assoc.submission_set_status),
            (Slot.PREVIOUS_VERSION, assoc.previous_version),
            (Slot.ORIGINAL_STATUS, assoc.original_status),
            (Slot.NEW_STATUS, assoc.new_status),
        ]
    ) + extra_slot_elements(assoc.extra_slots)
    if assoc.documentation is not None:
        # ITI TF-3 4.2.2.2 associationDocumentation
        parts.classifications.append(
            code_to_ebrim(
                assoc.documentation,
                scheme=ASSOCIATION_DOCUMENTATION,
                classified_object=aid,
                role="associationDocumentation",
            )
        )
    return parts.build_into(el)


def association_from_ebrim(el: _Element, extra_classifications: Sequence[_Element] = ()) -> Association:
    obj = ObjectReader(el, "Association", extra_classifications)
    values = {}
    for attr in ("associationType", "sourceObject", "targetObject"):
        value = el.get(attr)
        if not value:
            # regrep-rim-3.0 2.6.1: associationType, sourceObject and targetObject are required
            raise metadata_error(f"{obj.what}: no {attr}", obj.id)
        values[attr] = value
    return Association(
        entry_uuid=obj.id,
        association_type=values["associationType"],
        source=values["sourceObject"],
        target=values["targetObject"],
        submission_set_status=obj.slots.one(Slot.SUBMISSION_SET_STATUS),
        documentation=obj.code(ASSOCIATION_DOCUMENTATION, "associationDocumentation"),
        previous_version=obj.slots.one(Slot.PREVIOUS_VERSION),
        original_status=obj.slots.one(Slot.ORIGINAL_STATUS),
        new_status=obj.slots.one(Slot.NEW_STATUS),
        availability_status=obj.attr("status"),
        home_community_id=obj.attr("home"),
        extra_slots=obj.extra_slots(),
    )


def object_ref_to_ebrim(ref: ObjectRef) -> _Element:
    return new_root(rim("ObjectRef"), "rim", attrib={"id": ref.id, "home": ref.home_community_id})


def object_ref_from_ebrim(el: _Element) -> ObjectRef:
    return ObjectRef(require_id(el, "ObjectRef"), el.get("home"))

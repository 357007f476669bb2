"""SubmissionSet <-> rim:RegistryPackage classified as XDSSubmissionSet (ITI TF-3 4.2.3.3, 4.2.5.2)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml.etree import _Element

from xds.ebrim.author import author_to_ebrim
from xds.ebrim.codes import code_to_ebrim, limited_metadata_to_ebrim
from xds.ebrim.registry_object import ObjectReader, extra_slot_elements, slots_of
from xds.ebrim.values import parse_hl7, render_hl7
from xds.ebrim.xml import (
    RegistryObjectParts,
    classification_element,
    new_root,
    rim,
)
from xds.hl7v2 import CX
from xds.model import SubmissionSet
from xds.vocabulary import (
    CLASSIFICATION_NODE_SUBMISSION_SET,
    OBJECT_TYPE_REGISTRY_PACKAGE,
    SS_AUTHOR,
    SS_CONTENT_TYPE_CODE,
    SS_LIMITED_METADATA,
    SS_PATIENT_ID,
    SS_SOURCE_ID,
    SS_UNIQUE_ID,
    Slot,
)


def submission_set_to_ebrim(ss: SubmissionSet) -> _Element:
    sid = ss.entry_uuid
    el = new_root(
        rim("RegistryPackage"),
        "rim",
        attrib={
            "id": sid,
            "objectType": OBJECT_TYPE_REGISTRY_PACKAGE,
            "status": ss.availability_status,
            "home": ss.home_community_id,
        },
    )
    parts = RegistryObjectParts(name=ss.title, description=ss.comments)
    parts.slots = slots_of(
        [(Slot.SUBMISSION_TIME, ss.submission_time), (Slot.INTENDED_RECIPIENT, ss.intended_recipients)]
    ) + extra_slot_elements(ss.extra_slots)
    # ITI TF-3 4.2.3.3 / 4.2.5.2: the package is a SubmissionSet by this classification, emitted inside it
    parts.classifications.append(
        classification_element(sid, "submissionSet", node=CLASSIFICATION_NODE_SUBMISSION_SET)
    )
    parts.classifications.extend(
        author_to_ebrim(a, scheme=SS_AUTHOR, classified_object=sid, role=f"author/{i}")
        for i, a in enumerate(ss.authors)
    )
    if ss.content_type_code is not None:
        parts.classifications.append(
            code_to_ebrim(
                ss.content_type_code,
                scheme=SS_CONTENT_TYPE_CODE,
                classified_object=sid,
                role="contentTypeCode",
            )
        )
    if ss.limited_metadata:
        parts.classifications.append(limited_metadata_to_ebrim(sid, SS_LIMITED_METADATA))
    # ITI TF-3 4.2.3.3.12 uniqueId, 4.2.3.3.10 sourceId, 4.2.3.3.9 patientId
    parts.identify(sid, SS_UNIQUE_ID, ss.unique_id or None)
    parts.identify(sid, SS_SOURCE_ID, ss.source_id or None)
    parts.identify(sid, SS_PATIENT_ID, render_hl7(ss.patient_id))
    return parts.build_into(el)


def submission_set_from_ebrim(
    el: _Element,
    extra_classifications: Sequence[_Element] = (),
    extra_identifiers: Sequence[_Element] = (),
) -> SubmissionSet:
    obj = ObjectReader(el, "SubmissionSet", extra_classifications, extra_identifiers)
    pid = obj.identifier(SS_PATIENT_ID, "patientId")
    return SubmissionSet(
        entry_uuid=obj.id,
        unique_id=obj.identifier(SS_UNIQUE_ID, "uniqueId") or "",
        source_id=obj.identifier(SS_SOURCE_ID, "sourceId") or "",
        patient_id=parse_hl7(CX, pid, obj.id, "patientId") if pid is not None else None,
        submission_time=obj.slots.one(Slot.SUBMISSION_TIME),
        content_type_code=obj.code(SS_CONTENT_TYPE_CODE, "contentTypeCode"),
        authors=obj.authors(SS_AUTHOR),
        # ITI TF-3 4.2.3.3.7 intendedRecipient: XON|XCN|XTN combinations, kept as sent
        intended_recipients=obj.slots.many(Slot.INTENDED_RECIPIENT),
        title=obj.name,
        comments=obj.description,
        availability_status=obj.attr("status"),
        home_community_id=obj.attr("home"),
        limited_metadata=obj.has_node(SS_LIMITED_METADATA),
        extra_slots=obj.extra_slots(),
    )

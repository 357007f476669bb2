"""Folder <-> rim:RegistryPackage classified as XDSFolder (ITI TF-3 4.2.3.4, 4.2.5.2)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml.etree import _Element

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
from xds.model import Folder
from xds.vocabulary import (
    CLASSIFICATION_NODE_FOLDER,
    FOLDER_CODE_LIST,
    FOLDER_LIMITED_METADATA,
    FOLDER_PATIENT_ID,
    FOLDER_UNIQUE_ID,
    OBJECT_TYPE_REGISTRY_PACKAGE,
    Slot,
)


def folder_to_ebrim(folder: Folder) -> _Element:
    fid = folder.entry_uuid
    el = new_root(
        rim("RegistryPackage"),
        "rim",
        attrib={
            "id": fid,
            "objectType": OBJECT_TYPE_REGISTRY_PACKAGE,
            "status": folder.availability_status,
            "home": folder.home_community_id,
            "lid": folder.logical_id,
        },
    )
    parts = RegistryObjectParts(name=folder.title, description=folder.comments, version_name=folder.version)
    parts.slots = slots_of([(Slot.LAST_UPDATE_TIME, folder.last_update_time)]) + extra_slot_elements(
        folder.extra_slots
    )
    # ITI TF-3 4.2.3.4 / 4.2.5.2: the package is a Folder by this classification, emitted inside it
    parts.classifications.append(classification_element(fid, "folder", node=CLASSIFICATION_NODE_FOLDER))
    parts.classifications.extend(
        code_to_ebrim(c, scheme=FOLDER_CODE_LIST, classified_object=fid, role=f"codeList/{i}")
        for i, c in enumerate(folder.codes)
    )
    if folder.limited_metadata:
        parts.classifications.append(limited_metadata_to_ebrim(fid, FOLDER_LIMITED_METADATA))
    # ITI TF-3 4.2.3.4.8 uniqueId, 4.2.3.4.6 patientId
    parts.identify(fid, FOLDER_UNIQUE_ID, folder.unique_id or None)
    parts.identify(fid, FOLDER_PATIENT_ID, render_hl7(folder.patient_id))
    return parts.build_into(el)


def folder_from_ebrim(
    el: _Element,
    extra_classifications: Sequence[_Element] = (),
    extra_identifiers: Sequence[_Element] = (),
) -> Folder:
    obj = ObjectReader(el, "Folder", extra_classifications, extra_identifiers)
    pid = obj.identifier(FOLDER_PATIENT_ID, "patientId")
    return Folder(
        entry_uuid=obj.id,
        unique_id=obj.identifier(FOLDER_UNIQUE_ID, "uniqueId") or "",
        patient_id=parse_hl7(CX, pid, obj.id, "patientId") if pid is not None else None,
        codes=obj.codes(FOLDER_CODE_LIST),
        last_update_time=obj.slots.one(Slot.LAST_UPDATE_TIME),
        title=obj.name,
        comments=obj.description,
        availability_status=obj.attr("status"),
        home_community_id=obj.attr("home"),
        logical_id=obj.attr("lid"),
        version=obj.version_name,
        limited_metadata=obj.has_node(FOLDER_LIMITED_METADATA),
        extra_slots=obj.extra_slots(),
    )

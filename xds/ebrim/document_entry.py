"""DocumentEntry <-> rim:ExtrinsicObject (ITI TF-3 4.2.3.2, 4.2.5.1)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml.etree import _Element

from xds.ebrim.author import author_to_ebrim
from xds.ebrim.codes import code_to_ebrim, limited_metadata_to_ebrim
from xds.ebrim.registry_object import ObjectReader, extra_slot_elements, slots_of
from xds.ebrim.values import join_uri, parse_hl7, parse_size, render_hl7, split_uri
from xds.ebrim.xml import RegistryObjectParts, new_root, rim
from xds.hl7v2 import CX, XCN
from xds.model import DocumentEntry
from xds.vocabulary import (
    DE_AUTHOR,
    DE_CLASS_CODE,
    DE_CONFIDENTIALITY_CODE,
    DE_EVENT_CODE_LIST,
    DE_FORMAT_CODE,
    DE_HEALTHCARE_FACILITY_TYPE_CODE,
    DE_LIMITED_METADATA,
    DE_PATIENT_ID,
    DE_PRACTICE_SETTING_CODE,
    DE_TYPE_CODE,
    DE_UNIQUE_ID,
    OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
    Slot,
)

# ITI TF-3 Table 4.2.3.2-1: the single-valued coded attributes (field, scheme, role)
_SINGLE_CODES = (
    ("class_code", DE_CLASS_CODE, "classCode"),
    ("format_code", DE_FORMAT_CODE, "formatCode"),
    ("healthcare_facility_type_code", DE_HEALTHCARE_FACILITY_TYPE_CODE, "healthcareFacilityTypeCode"),
    ("practice_setting_code", DE_PRACTICE_SETTING_CODE, "practiceSettingCode"),
    ("type_code", DE_TYPE_CODE, "typeCode"),
)
# ... and the multi-valued ones (confidentialityCode 1..n, eventCodeList 0..n)
_MULTI_CODES = (
    ("confidentiality_codes", DE_CONFIDENTIALITY_CODE, "confidentialityCode"),
    ("event_codes", DE_EVENT_CODE_LIST, "eventCode"),
)


def document_entry_to_ebrim(entry: DocumentEntry) -> _Element:
    """rim:ExtrinsicObject: attributes id/objectType/mimeType/status/home/lid, then Slot*, Name?,
    Description?, VersionInfo?, Classification*, ExternalIdentifier* (regrep-rim-3.0 2.5.1, 2.9.1)."""
    eid = entry.entry_uuid
    el = new_root(
        rim("ExtrinsicObject"),
        "rim",
        attrib={
            "id": eid,
            "objectType": entry.object_type,
            "mimeType": entry.mime_type,
            "status": entry.availability_status,
            "home": entry.home_community_id,
            "lid": entry.logical_id,
        },
    )
    parts = RegistryObjectParts(name=entry.title, description=entry.comments, version_name=entry.version)
    # ITI TF-3 4.2.3.2: the slot-encoded attributes
    parts.slots = slots_of(
        [
            (Slot.CREATION_TIME, entry.creation_time),
            (Slot.HASH, entry.hash),
            (Slot.LANGUAGE_CODE, entry.language_code),
            (Slot.LEGAL_AUTHENTICATOR, render_hl7(entry.legal_authenticator)),
            (Slot.SERVICE_START_TIME, entry.service_start_time),
            (Slot.SERVICE_STOP_TIME, entry.service_stop_time),
            (Slot.SIZE, str(entry.size) if entry.size is not None else None),
            (Slot.SOURCE_PATIENT_ID, render_hl7(entry.source_patient_id)),
            (Slot.SOURCE_PATIENT_INFO, entry.source_patient_info),
            (Slot.REPOSITORY_UNIQUE_ID, entry.repository_unique_id),
            (Slot.URI, split_uri(entry.uri) if entry.uri is not None else None),
            (Slot.DOCUMENT_AVAILABILITY, entry.document_availability),
            (Slot.REFERENCE_ID_LIST, tuple(cx.render() for cx in entry.reference_ids)),
        ]
    ) + extra_slot_elements(entry.extra_slots)
    # ITI TF-3 4.2.3.1.4 author classifications, 4.2.3.1.2 coded attributes
    parts.classifications = [
        author_to_ebrim(a, scheme=DE_AUTHOR, classified_object=eid, role=f"author/{i}")
        for i, a in enumerate(entry.authors)
    ]
    for attr, scheme, role in _SINGLE_CODES:
        code = getattr(entry, attr)
        if code is not None:
            parts.classifications.append(code_to_ebrim(code, scheme=scheme, classified_object=eid, role=role))
    for attr, scheme, role in _MULTI_CODES:
        for i, code in enumerate(getattr(entry, attr)):
            parts.classifications.append(
                code_to_ebrim(code, scheme=scheme, classified_object=eid, role=f"{role}/{i}")
            )
    if entry.limited_metadata:
        # ITI TF-3 4.2.5.2: DocumentEntry limitedMetadata classification node
        parts.classifications.append(limited_metadata_to_ebrim(eid, DE_LIMITED_METADATA))
    # ITI TF-3 4.2.3.2.17 patientId, 4.2.3.2.27 uniqueId
    parts.identify(eid, DE_PATIENT_ID, render_hl7(entry.patient_id))
    parts.identify(eid, DE_UNIQUE_ID, entry.unique_id or None)
    return parts.build_into(el)


def document_entry_from_ebrim(
    el: _Element,
    extra_classifications: Sequence[_Element] = (),
    extra_identifiers: Sequence[_Element] = (),
) -> DocumentEntry:
    obj = ObjectReader(el, "ExtrinsicObject", extra_classifications, extra_identifiers)
    oid = obj.id
    s = obj.slots
    legal = s.one(Slot.LEGAL_AUTHENTICATOR)
    size = s.one(Slot.SIZE)
    spid = s.one(Slot.SOURCE_PATIENT_ID)
    uri = s.many(Slot.URI)
    patient_id = obj.identifier(DE_PATIENT_ID, "patientId")
    fields: dict[str, object] = {
        "entry_uuid": oid,
        "unique_id": obj.identifier(DE_UNIQUE_ID, "uniqueId") or "",
        "patient_id": parse_hl7(CX, patient_id, oid, "patientId") if patient_id is not None else None,
        "mime_type": obj.attr("mimeType") or "",
        "object_type": obj.attr("objectType") or OBJECT_TYPE_STABLE_DOCUMENT_ENTRY,
        "availability_status": obj.attr("status"),
        "home_community_id": obj.attr("home"),
        "logical_id": obj.attr("lid"),
        "version": obj.version_name,
        "title": obj.name,
        "comments": obj.description,
        "authors": obj.authors(DE_AUTHOR),
        "creation_time": s.one(Slot.CREATION_TIME),
        "service_start_time": s.one(Slot.SERVICE_START_TIME),
        "service_stop_time": s.one(Slot.SERVICE_STOP_TIME),
        "hash": s.one(Slot.HASH),
        "size": parse_size(size, oid) if size is not None else None,
        "language_code": s.one(Slot.LANGUAGE_CODE),
        "legal_authenticator": None if legal is None else parse_hl7(XCN, legal, oid, "legalAuthenticator"),
        "source_patient_id": None if spid is None else parse_hl7(CX, spid, oid, "sourcePatientId"),
        # ITI TF-3 4.2.3.2.24 sourcePatientInfo: values kept as sent and in order
        "source_patient_info": s.many(Slot.SOURCE_PATIENT_INFO),
        "repository_unique_id": s.one(Slot.REPOSITORY_UNIQUE_ID),
        "uri": join_uri(uri, oid) if uri else None,
        "document_availability": s.one(Slot.DOCUMENT_AVAILABILITY),
        # ITI TF-3 4.2.3.2.28 referenceIdList: CXi values
        "reference_ids": tuple(
            parse_hl7(CX, v, oid, "referenceIdList") for v in s.many(Slot.REFERENCE_ID_LIST)
        ),
        "limited_metadata": obj.has_node(DE_LIMITED_METADATA),
    }
    for attr, scheme, role in _SINGLE_CODES:
        fields[attr] = obj.code(scheme, role)
    for attr, scheme, _role in _MULTI_CODES:
        fields[attr] = obj.codes(scheme)
    fields["extra_slots"] = obj.extra_slots()
    return DocumentEntry(**fields)  # type: ignore[arg-type]

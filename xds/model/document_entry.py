"""DocumentEntry: every attribute of ITI TF-3 4.2.3.2 (stable and on-demand)."""

from __future__ import annotations

from dataclasses import dataclass

from xds.hl7v2 import CX, XCN
from xds.model.author import Author
from xds.model.code import Code, ExtraSlot
from xds.vocabulary import OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY, OBJECT_TYPE_STABLE_DOCUMENT_ENTRY


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    entry_uuid: str  # entryUUID (ExtrinsicObject/@id; a symbolic id before registration)
    unique_id: str = ""
    patient_id: CX | None = None  # XAD-PID
    mime_type: str = ""
    object_type: str = OBJECT_TYPE_STABLE_DOCUMENT_ENTRY
    availability_status: str | None = None  # (set by the registry)
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    confidentiality_codes: tuple[Code, ...] = ()
    event_codes: tuple[Code, ...] = ()  # eventCodeList
    authors: tuple[Author, ...] = ()
    creation_time: str | None = None  # DTM
    service_start_time: str | None = None
    service_stop_time: str | None = None
    hash: str | None = None  # SHA-1, hex
    size: int | None = None
    language_code: str | None = None
    legal_authenticator: XCN | None = None
    source_patient_id: CX | None = None
    source_patient_info: tuple[str, ...] = ()  # ("PID-5|DOE^JOHN^^^" ...)
    repository_unique_id: str | None = None
    home_community_id: str | None = None  # (@home)
    document_availability: str | None = None
    logical_id: str | None = None  # logicalID (@lid)
    version: str | None = None  # (VersionInfo/@versionName)
    reference_ids: tuple[CX, ...] = ()  # referenceIdList (CXi)
    title: str | None = None
    comments: str | None = None
    uri: str | None = None  # (deprecated for XDS.b, still parsed)
    limited_metadata: bool = False
    extra_slots: tuple[ExtraSlot, ...] = ()

    @property
    def is_on_demand(self) -> bool:
        return self.object_type == OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY

"""Registry objects -> the rows of registry/tables.py: the query columns plus the stored LeafClass XML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from lxml import etree

from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET
from xds.ebrim import (
    association_from_ebrim,
    association_to_ebrim,
    document_entry_from_ebrim,
    document_entry_to_ebrim,
    folder_from_ebrim,
    folder_to_ebrim,
    submission_set_from_ebrim,
    submission_set_to_ebrim,
)
from xds.hl7v2 import CX
from xds.model import Association, Code, DocumentEntry, Folder, SubmissionSet

RegistryObject = DocumentEntry | SubmissionSet | Folder | Association

_NOT_DIGIT = re.compile(r"\D")


def code_key(code: Code | None) -> str | None:
    """``code^^scheme``, the form of coded stored-query parameters (ITI TF-2a 3.18.4.1.2.3.5)."""
    return None if code is None else f"{code.code}^^{code.scheme}"


def time_key(dtm: str | None) -> str | None:
    """A DTM (ITI TF-3 Table 4.2.3.1.7-2: YYYY[MM[DD[hh[mm[ss]]]]], UTC) as 14 digits for range
    comparisons: the missing low-order digits are zeros, i.e. the start of the period it names."""
    if not dtm:
        return None
    digits = _NOT_DIGIT.sub("", dtm)[:14]
    return digits.ljust(14, "0") if digits else None


def patient_key(cx: CX | None) -> str | None:
    """The canonical text of a patient ID: ``id^^^&OID&ISO`` (ITI TF-3 4.2.3.2.16), whatever else was sent."""
    if cx is None:
        return None
    return f"{cx.id_number}^^^&{cx.authority_oid}&ISO"


def stored_object(kind: str, ebrim: str) -> RegistryObject:
    """The model object of a registry_object row (its ``kind`` and ``ebrim`` columns)."""
    el = etree.fromstring(ebrim)
    if kind == DOCUMENT_ENTRY:
        return document_entry_from_ebrim(el)
    if kind == SUBMISSION_SET:
        return submission_set_from_ebrim(el)
    if kind == FOLDER:
        return folder_from_ebrim(el)
    return association_from_ebrim(el)


def ebrim_text(obj: RegistryObject) -> str:
    return etree.tostring(to_ebrim(obj), encoding="unicode")


def to_ebrim(obj: RegistryObject) -> etree._Element:
    if isinstance(obj, DocumentEntry):
        return document_entry_to_ebrim(obj)
    if isinstance(obj, SubmissionSet):
        return submission_set_to_ebrim(obj)
    if isinstance(obj, Folder):
        return folder_to_ebrim(obj)
    return association_to_ebrim(obj)


class StoredObject(Protocol):
    """A registry_object row as the store reads it (a SQLAlchemy Row, or the driver's named tuple on the
    PostgreSQL statements of registry/pgstore.py): the columns an ITI-42 registration checks."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def patient_id(self) -> str | None: ...
    @property
    def unique_id(self) -> str | None: ...
    @property
    def object_type(self) -> str | None: ...
    @property
    def hash(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def ebrim(self) -> str: ...


@dataclass
class ObjectRow:
    """One registry_object row and its multi-valued attributes."""

    values: dict[str, Any]
    codes: list[tuple[str, str]] = field(default_factory=list)  # (attribute, code^^scheme)
    authors: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


def _version(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def object_row(obj: RegistryObject, ebrim: str | None = None) -> ObjectRow:
    """The row of a registry object whose ids, status, logicalID and version are final; ``ebrim`` is its
    stored XML when already made (registry/submitted.py), else it is encoded here."""
    values: dict[str, Any] = {
        "id": obj.entry_uuid,
        "status": obj.availability_status,
        "home_community_id": obj.home_community_id,
        "ebrim": ebrim_text(obj) if ebrim is None else ebrim,
    }
    if isinstance(obj, DocumentEntry):
        values.update(
            kind=DOCUMENT_ENTRY,
            patient_id=patient_key(obj.patient_id),
            unique_id=obj.unique_id,
            logical_id=obj.logical_id,
            version=_version(obj.version),
            object_type=obj.object_type,
            class_code=code_key(obj.class_code),
            type_code=code_key(obj.type_code),
            format_code=code_key(obj.format_code),
            practice_setting_code=code_key(obj.practice_setting_code),
            healthcare_facility_type_code=code_key(obj.healthcare_facility_type_code),
            creation_time_key=time_key(obj.creation_time),
            service_start_time_key=time_key(obj.service_start_time),
            service_stop_time_key=time_key(obj.service_stop_time),
            hash=obj.hash.lower() if obj.hash else None,
            size=obj.size,
            repository_unique_id=obj.repository_unique_id,
        )
        row = ObjectRow(values)
        row.codes += [("confidentialityCode", code_key(c)) for c in obj.confidentiality_codes]
        row.codes += [("eventCodeList", code_key(c)) for c in obj.event_codes]
        row.authors += [a.person.render() for a in obj.authors if a.person is not None]
        row.references += [r.render() for r in obj.reference_ids]
        return row
    if isinstance(obj, SubmissionSet):
        values.update(
            kind=SUBMISSION_SET,
            patient_id=patient_key(obj.patient_id),
            unique_id=obj.unique_id,
            source_id=obj.source_id,
            submission_time_key=time_key(obj.submission_time),
            content_type_code=code_key(obj.content_type_code),
        )
        row = ObjectRow(values)
        row.authors += [a.person.render() for a in obj.authors if a.person is not None]
        return row
    if isinstance(obj, Folder):
        values.update(
            kind=FOLDER,
            patient_id=patient_key(obj.patient_id),
            unique_id=obj.unique_id,
            logical_id=obj.logical_id,
            version=_version(obj.version),
            last_update_time_key=time_key(obj.last_update_time),
        )
        row = ObjectRow(values)
        row.codes += [("folderCodeList", code_key(c)) for c in obj.codes]
        return row
    values.update(kind=ASSOCIATION, object_type=obj.association_type, source=obj.source, target=obj.target)
    return ObjectRow(values)

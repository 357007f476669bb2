"""Associations (ITI TF-3 4.2.2) and references to objects held elsewhere (ObjectRef)."""

from __future__ import annotations

from dataclasses import dataclass

from xds.model.code import Code, ExtraSlot


@dataclass(frozen=True, slots=True)
class Association:
    entry_uuid: str
    association_type: str  # an xds.vocabulary.AssociationType value, kept as a str so unknown types survive
    source: str  # sourceObject
    target: str  # targetObject
    submission_set_status: str | None = None  # 4.2.2.1.2 Original | Reference (SS -> DE HasMember)
    documentation: Code | None = None  # 4.2.2.2 associationDocumentation
    previous_version: str | None = None  # ITI-57 PreviousVersion slot
    original_status: str | None = None
    new_status: str | None = None
    availability_status: str | None = None
    home_community_id: str | None = None
    extra_slots: tuple[ExtraSlot, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """rim:ObjectRef: an object known by id only (ITI TF-2a 3.18.4.1.2.1 ObjectRef returns)."""

    id: str
    home_community_id: str | None = None

"""SubmissionSet (ITI TF-3 4.2.3.3) and Folder (ITI TF-3 4.2.3.4)."""

from __future__ import annotations

from dataclasses import dataclass

from xds.hl7v2 import CX
from xds.model.author import Author
from xds.model.code import Code, ExtraSlot


@dataclass(frozen=True, slots=True)
class SubmissionSet:
    entry_uuid: str
    unique_id: str = ""
    source_id: str = ""
    patient_id: CX | None = None
    submission_time: str | None = None  # DTM
    content_type_code: Code | None = None
    authors: tuple[Author, ...] = ()
    intended_recipients: tuple[str, ...] = ()  # XON|XCN|XTN as sent
    title: str | None = None
    comments: str | None = None
    availability_status: str | None = None
    home_community_id: str | None = None
    limited_metadata: bool = False
    extra_slots: tuple[ExtraSlot, ...] = ()


@dataclass(frozen=True, slots=True)
class Folder:
    entry_uuid: str
    unique_id: str = ""
    patient_id: CX | None = None
    codes: tuple[Code, ...] = ()  # codeList
    last_update_time: str | None = None  # (set by the registry)
    title: str | None = None
    comments: str | None = None
    availability_status: str | None = None
    home_community_id: str | None = None
    logical_id: str | None = None
    version: str | None = None
    limited_metadata: bool = False
    extra_slots: tuple[ExtraSlot, ...] = ()

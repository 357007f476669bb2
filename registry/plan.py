"""What one ITI-42 registration will change, gathered while its rules are checked."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.rows import StoredObject, stored_object
from registry.tables import DOCUMENT_ENTRY, FOLDER
from xds.errors import ErrorCode, RegistryError
from xds.model import Association, DocumentEntry, Folder, Submission


@dataclass
class Plan:
    submission: Submission  # ids final (UUIDs)
    patient_id: str | None  # the submission's patient (id^^^&OID&ISO)
    new_ids: set[str]
    existing: dict[str, StoredObject]  # registry rows of every id the submission names
    entries: dict[str, DocumentEntry] = field(default_factory=dict)  # new entries, versioned
    errors: list[RegistryError] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)  # original id -> replacement id
    deprecate: dict[str, DocumentEntry] = field(default_factory=dict)  # stored entries to deprecate
    touched_folders: dict[str, Folder] = field(default_factory=dict)  # stored folders that get members
    extra_associations: list[Association] = field(default_factory=list)  # created by the registry

    def error(self, code: ErrorCode, context: str, location: str = "") -> None:
        error = RegistryError(code, context, location)
        if error not in self.errors:  # e.g. one uniqueId stored twice, both copies differing alike
            self.errors.append(error)

    def touch_folder(self, row: StoredObject) -> None:
        self.touched_folders.setdefault(row.id, stored_object(FOLDER, row.ebrim))


def stored_entry(row: StoredObject) -> DocumentEntry:
    return stored_object(DOCUMENT_ENTRY, row.ebrim)

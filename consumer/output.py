"""What the ``xds`` consumer commands print: plain tables for people, JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from xds.errors import RegistryError
from xds.model import AdhocQueryResponse, Association, DocumentEntry, Folder, ObjectRef, SubmissionSet


def jsonable(value: Any) -> Any:
    """Model objects as JSON values: HL7 v2 types in their encoded form, enums as their values, empty
    fields left out."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "render") and dataclasses.is_dataclass(value):
        return value.render()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None or item == "" or item == ():
                continue
            out[f.name] = jsonable(item)
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


def error_dict(error: RegistryError) -> dict[str, str]:
    return {
        "code": str(error.code),
        "context": error.context,
        "location": error.location,
        "severity": str(error.severity).rsplit(":", 1)[-1],
    }


def short(urn: str | None) -> str:
    """The last part of a status or association type URN (Approved, RPLC)."""
    return (urn or "").rsplit(":", 1)[-1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _code(c: object) -> str:
    return getattr(c, "code", "") or ""


def _clip(text: str | None, width: int = 40) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def entries_table(entries: Sequence[DocumentEntry]) -> str:
    rows = [
        (d.unique_id, short(d.availability_status), d.creation_time, _code(d.class_code), _code(d.type_code),
         d.mime_type, d.size, _clip(d.title), d.entry_uuid)
        for d in entries
    ]
    headers = ("uniqueId", "status", "created", "class", "type", "mimeType", "size", "title", "entryUUID")
    return table(headers, rows)


def _sets_table(sets: Sequence[SubmissionSet]) -> str:
    rows = [(s.unique_id, short(s.availability_status), s.submission_time, s.source_id, _clip(s.title),
             s.entry_uuid) for s in sets]
    return table(("uniqueId", "status", "submitted", "sourceId", "title", "entryUUID"), rows)


def _folders_table(folders: Sequence[Folder]) -> str:
    rows = [(f.unique_id, short(f.availability_status), f.last_update_time, _clip(f.title), f.entry_uuid)
            for f in folders]
    return table(("uniqueId", "status", "lastUpdate", "title", "entryUUID"), rows)


def _associations_table(associations: Sequence[Association]) -> str:
    rows = [(short(a.association_type), a.source, a.target, a.entry_uuid) for a in associations]
    return table(("type", "source", "target", "id"), rows)


def _refs_table(refs: Sequence[ObjectRef]) -> str:
    return table(("ObjectRef",), [(r.id,) for r in refs])


def query_text(response: AdhocQueryResponse) -> str:
    parts = []
    sections = (
        ("DocumentEntries", response.document_entries, entries_table),
        ("SubmissionSets", response.submission_sets, _sets_table),
        ("Folders", response.folders, _folders_table),
        ("Associations", response.associations, _associations_table),
        ("ObjectRefs", response.object_refs, _refs_table),
    )
    for title, items, render in sections:
        if items:
            parts.append(f"{title} ({len(items)})\n{render(items)}")  # type: ignore[operator]
    return "\n\n".join(parts) if parts else "nothing found"


def query_json(response: AdhocQueryResponse) -> str:
    body = {
        "status": short(response.status),
        "document_entries": jsonable(response.document_entries),
        "submission_sets": jsonable(response.submission_sets),
        "folders": jsonable(response.folders),
        "associations": jsonable(response.associations),
        "object_refs": [r.id for r in response.object_refs],
        "errors": [error_dict(e) for e in response.errors],
    }
    return json.dumps(body, indent=2, ensure_ascii=False)

"""Symbolic ids -> UUIDs (ITI TF-3 4.2.3.1.5, ITI TF-2b 3.42.4.1.3.? "the Document Registry shall replace
symbolic ids with UUIDs"): every object the submission creates gets a ``urn:uuid:`` id, and every reference
to it inside the submission follows."""

from __future__ import annotations

import os
from dataclasses import replace

from xds.model import Submission
from xds.validation.syntax import is_uuid_urn


def new_uuid() -> str:
    """A random (version 4) UUID as a URN (RFC 4122 4.4), as uuid.uuid4 makes it, in fewer steps."""
    digest = bytearray(os.urandom(16))
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def created_ids(submission: Submission) -> list[str]:
    """The ids of the objects this submission creates, in submission order."""
    return [
        obj.entry_uuid
        for group in (
            submission.submission_sets,
            submission.document_entries,
            submission.folders,
            submission.associations,
        )
        for obj in group
    ]


def assign_uuids(submission: Submission) -> tuple[Submission, dict[str, str]]:
    """The submission with final ids, and the map symbolic id -> UUID (UUIDs sent stay as they are)."""
    mapping = {i: new_uuid() for i in created_ids(submission) if not is_uuid_urn(i)}
    if not mapping:
        return submission, mapping

    def final(i: str) -> str:
        return mapping.get(i, i)

    return (
        replace(
            submission,
            submission_sets=tuple(
                replace(s, entry_uuid=final(s.entry_uuid)) for s in submission.submission_sets
            ),
            document_entries=tuple(
                replace(d, entry_uuid=final(d.entry_uuid)) for d in submission.document_entries
            ),
            folders=tuple(replace(f, entry_uuid=final(f.entry_uuid)) for f in submission.folders),
            associations=tuple(
                replace(a, entry_uuid=final(a.entry_uuid), source=final(a.source), target=final(a.target))
                for a in submission.associations
            ),
        ),
        mapping,
    )

"""The queries that return a container with its contents (ITI TF-2a 3.18.4.1.2.3.7.4, .10, .11).

In GetSubmissionSetAndContents and GetFolderAndContents an Association comes back only when both its ends
do, so a DocumentEntry left out by a filter takes its Associations with it (and the SubmissionSet's
HasMember to those Associations): the NIST toolkit's rule, and what 11906 / 11907 expect.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, union_all
from sqlalchemy.sql.selectable import FromClause

from registry.queries import filters as f
from registry.queries.params import Params
from registry.queries.plan import Plan, alias, ro
from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET

_DE = "$XDSDocumentEntry"


def _patient_objects(t: FromClause, p: Params) -> ColumnElement[bool]:
    """GetAll's SubmissionSets, DocumentEntries and Folders of the patient, each kind by its status list."""
    kinds = (
        (SUBMISSION_SET, "$XDSSubmissionSetStatus", []),
        (DOCUMENT_ENTRY, f"{_DE}Status", f.entry_filters(t, p)),
        (FOLDER, "$XDSFolderStatus", []),
    )
    per_kind = (
        and_(t.c.kind == kind, f.one_of(t.c.status, p.strings(status)), *more) for kind, status, more in kinds
    )
    return and_(f.patient_is(t, p.patient("$patientId") or ""), or_(*per_kind))


def get_all(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.4 GetAll: the patient's SubmissionSets, DocumentEntries (formatCode,
    confidentialityCode, objectType filters) and Folders with the given statuses, and every Association
    whose source or target is one of them, whatever is at its other end (the NIST registry's reading;
    15803 expects all 15 Associations of the 12346 data set, the HasMember to HasMember ones included)."""
    o = alias("o")
    objects = select(o.c.id).where(_patient_objects(o, p)).cte("objects")
    is_association = ro.c.kind == ASSOCIATION
    return Plan(
        (
            _patient_objects(ro, p),
            is_association & ro.c.source.in_(select(objects.c.id)),
            is_association & ro.c.target.in_(select(objects.c.id)),
        ),
        single_patient=False,
    )


def get_submission_set_and_contents(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.10 GetSubmissionSetAndContents: the SubmissionSet (entryUUID or uniqueId),
    the DocumentEntries (filtered) and Folders it holds by HasMember, the Associations it holds that link
    those, the HasMember Associations from its Folders to its DocumentEntries, and its HasMember
    Associations to everything returned."""
    s, m, d, fo, a = (alias(n) for n in ("s", "m", "d", "fo", "a"))
    ids = ("$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId")
    ss = select(s.c.id).where(f.identified(s, SUBMISSION_SET, p, *ids)).cte("ss")
    members = f.members_of(m, select(ss.c.id)).cte("members")
    held = select(members.c.target)
    docs = (
        select(d.c.id).where(d.c.kind == DOCUMENT_ENTRY, d.c.id.in_(held), *f.entry_filters(d, p)).cte("docs")
    )
    folders = select(fo.c.id).where(fo.c.kind == FOLDER, fo.c.id.in_(held)).cte("folders")
    contents = union_all(select(docs.c.id), select(folders.c.id)).cte("contents")
    links = union_all(
        select(a.c.id).where(
            a.c.kind == ASSOCIATION,
            a.c.id.in_(held),
            a.c.source.in_(select(contents.c.id)),
            a.c.target.in_(select(contents.c.id)),
        ),
        select(a.c.id).where(
            a.c.kind == ASSOCIATION,
            a.c.object_type == f.HAS_MEMBER,
            a.c.source.in_(select(folders.c.id)),
            a.c.target.in_(select(docs.c.id)),
        ),
    ).cte("links")
    return Plan(
        (
            ro.c.id.in_(select(ss.c.id)),
            ro.c.id.in_(select(contents.c.id)),
            ro.c.id.in_(select(links.c.id)),
            ro.c.id.in_(select(members.c.id).where(members.c.target.in_(select(contents.c.id)))),
            ro.c.id.in_(select(members.c.id).where(members.c.target.in_(select(links.c.id)))),
        )
    )


def get_folder_and_contents(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.11 GetFolderAndContents: the Folder (entryUUID or uniqueId), the
    DocumentEntries it holds by HasMember (filtered), and those HasMember Associations."""
    fo, m, d = (alias(n) for n in ("fo", "m", "d"))
    folder = select(fo.c.id).where(f.identified(fo, FOLDER, p, "$XDSFolderEntryUUID", "$XDSFolderUniqueId"))
    folder_cte = folder.cte("folder")
    members = f.members_of(m, select(folder_cte.c.id)).cte("members")
    held = select(members.c.target)
    docs = select(d.c.id).where(d.c.kind == DOCUMENT_ENTRY, d.c.id.in_(held), *f.entry_filters(d, p))
    docs = docs.cte("docs")
    return Plan(
        (
            ro.c.id.in_(select(folder_cte.c.id)),
            ro.c.id.in_(select(docs.c.id)),
            ro.c.id.in_(select(members.c.id).where(members.c.target.in_(select(docs.c.id)))),
        )
    )

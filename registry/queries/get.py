"""The Get queries that name their objects directly (ITI TF-2a 3.18.4.1.2.3.7.5-9, .12, .13).

They select by entryUUID / uniqueId / logicalID, so no status filter applies, and the answer may span
patients (refused for LeafClass where the TF says so: Plan.single_patient). Sub-selects run on aliases of
registry_object and on CTEs, each resolved through an index (id, unique_id, logical_id, source, target)."""

from __future__ import annotations

from sqlalchemy import exists, select, union_all

from registry.queries import filters as f
from registry.queries.params import Params
from registry.queries.plan import Plan, alias, ro
from registry.tables import ASSOCIATION, DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET

_DE = "$XDSDocumentEntry"
_DE_IDS = (f"{_DE}EntryUUID", f"{_DE}UniqueId", f"{_DE}LogicalID")


def get_documents(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.5 GetDocuments: the DocumentEntries with the given entryUUIDs or uniqueIds
    (or, XDS Metadata Update, logicalIDs: every version)."""
    return Plan((f.identified(ro, DOCUMENT_ENTRY, p, *_DE_IDS),))


def get_folders(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.6 GetFolders: the Folders with the given entryUUIDs, uniqueIds, logicalIDs."""
    names = ("$XDSFolderEntryUUID", "$XDSFolderUniqueId", "$XDSFolderLogicalID")
    return Plan((f.identified(ro, FOLDER, p, *names),))


def get_associations(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.7 GetAssociations: the Associations whose sourceObject or targetObject is
    one of $uuid."""
    uuids = p.strings("$uuid")
    is_association = ro.c.kind == ASSOCIATION
    from_one = is_association & f.one_of(ro.c.source, uuids)
    to_one = is_association & f.one_of(ro.c.target, uuids)
    return Plan((from_one, to_one), single_patient=False)


def get_documents_and_associations(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.8 GetDocumentsAndAssociations: the DocumentEntries as GetDocuments, and
    the Associations that have one of them as source or target."""
    d = alias("d")
    docs = select(d.c.id).where(f.identified(d, DOCUMENT_ENTRY, p, *_DE_IDS)).cte("docs")
    is_association = ro.c.kind == ASSOCIATION
    return Plan(
        (
            f.identified(ro, DOCUMENT_ENTRY, p, *_DE_IDS),
            is_association & ro.c.source.in_(select(docs.c.id)),
            is_association & ro.c.target.in_(select(docs.c.id)),
        )
    )


def get_submission_sets(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.9 GetSubmissionSets: the SubmissionSets that hold one of $uuid (a
    DocumentEntry, Folder or Association) through a HasMember Association, and those Associations."""
    m = alias("m")
    s = alias("s")
    members = (
        select(m.c.id, m.c.source)
        .where(
            m.c.kind == ASSOCIATION,
            m.c.object_type == f.HAS_MEMBER,
            f.one_of(m.c.target, p.strings("$uuid")),
            exists().where(s.c.id == m.c.source, s.c.kind == SUBMISSION_SET),
        )
        .cte("members")
    )
    return Plan((ro.c.id.in_(select(members.c.id)), ro.c.id.in_(select(members.c.source))))


def get_folders_for_document(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.12 GetFoldersForDocument: the Folders holding the DocumentEntry (entryUUID
    or uniqueId) through a HasMember Association."""
    d = alias("d")
    m = alias("m")
    doc = select(d.c.id).where(f.identified(d, DOCUMENT_ENTRY, p, *_DE_IDS)).cte("doc")
    holders = select(m.c.source).where(
        m.c.kind == ASSOCIATION, m.c.object_type == f.HAS_MEMBER, m.c.target.in_(select(doc.c.id))
    )
    return Plan(((ro.c.kind == FOLDER) & ro.c.id.in_(holders),), single_patient=False)


def get_related_documents(p: Params) -> Plan:
    """ITI TF-2a 3.18.4.1.2.3.7.13 GetRelatedDocuments: the Associations of one of $AssociationTypes between
    the DocumentEntry (entryUUID or uniqueId) and another DocumentEntry, the DocumentEntries at their other
    ends, and the original itself; nothing when there is no such Association (NIST 11909: HasMember from a
    Folder does not relate documents, a replaced document and its replacement come back together)."""
    d = alias("d")
    a = alias("a")
    e = alias("e")
    original = select(d.c.id).where(f.identified(d, DOCUMENT_ENTRY, p, *_DE_IDS), f.entry_types(d, p))
    original = original.cte("original")

    def is_entry(column) -> object:  # noqa: ANN001 - a column of ``a``
        return exists().where(e.c.id == column, e.c.kind == DOCUMENT_ENTRY, f.entry_types(e, p))

    typed = (a.c.kind == ASSOCIATION) & f.one_of(a.c.object_type, p.strings("$AssociationTypes"))
    related = union_all(
        select(a.c.id, a.c.source, a.c.target).where(
            typed, a.c.source.in_(select(original.c.id)), is_entry(a.c.target)
        ),
        select(a.c.id, a.c.source, a.c.target).where(
            typed, a.c.target.in_(select(original.c.id)), is_entry(a.c.source)
        ),
    ).cte("related")
    return Plan(
        (
            ro.c.id.in_(select(related.c.id)),
            ro.c.id.in_(select(related.c.source)),
            ro.c.id.in_(select(related.c.target)),
        ),
        single_patient=False,
    )

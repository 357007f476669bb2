"""ITI-42 rules for associations that reach objects already in the registry, and what they cause:
deprecation of replaced documents (with their transforms and addenda) and folder membership of the
replacements (ITI TF-2b 3.42.4.1.3.4-6, ITI TF-3 4.2.2)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from registry import store as db
from registry.identifiers import new_uuid
from registry.plan import Plan, stored_entry
from registry.rows import StoredObject
from registry.tables import DOCUMENT_ENTRY, FOLDER
from xds.errors import ErrorCode
from xds.model import Association
from xds.vocabulary import (
    OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
    AssociationType,
    Status,
    SubmissionSetStatus,
)

REPLACEMENTS = frozenset({AssociationType.RPLC, AssociationType.XFRM_RPLC})
TRANSFORMS = frozenset({AssociationType.XFRM, AssociationType.XFRM_RPLC})
# ITI TF-3 4.2.2.2.3: replacing a document deprecates its transforms and addenda as well
DEPENDENTS = frozenset({AssociationType.XFRM, AssociationType.APND})


def check_associations(conn: Connection, plan: Plan) -> None:
    for assoc in plan.submission.associations:
        if not _ends_resolve(plan, assoc):
            continue
        if assoc.association_type == AssociationType.HAS_MEMBER:
            _check_membership(plan, assoc)
        else:
            _check_relationship(conn, plan, assoc)
    for original, replacement in plan.replaced.items():
        _deprecate_dependents(conn, plan, original)
        _propagate_folders(conn, plan, original, replacement)


def _ends_resolve(plan: Plan, assoc: Association) -> bool:
    ok = True
    for end in (assoc.source, assoc.target):
        if end not in plan.new_ids and end not in plan.existing:
            # ITI TF-2b 3.42.4.1.3.5: a reference must resolve in the submission or in the registry
            plan.error(
                ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION,
                f"association {assoc.entry_uuid}: {end} is neither in the submission nor in the registry",
                assoc.entry_uuid,
            )
            ok = False
    return ok


def _same_patient(plan: Plan, assoc: Association, row: StoredObject) -> bool:
    # ITI TF-2b 3.42.4.1.3.3.2, ITI TF-3 4.2.2.1.4: associations do not cross patients
    if row.patient_id is None or row.patient_id == plan.patient_id:
        return True
    plan.error(
        ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH,
        f"association {assoc.entry_uuid} links {plan.patient_id} to {row.id} of patient {row.patient_id}",
        assoc.entry_uuid,
    )
    return False


def _approved_entry(plan: Plan, assoc: Association, row: StoredObject) -> bool:
    if row.kind != DOCUMENT_ENTRY:
        plan.error(
            ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION,
            f"association {assoc.entry_uuid}: {row.id} is a {row.kind}, not a DocumentEntry",
            assoc.entry_uuid,
        )
        return False
    if row.status != Status.APPROVED:
        # ITI TF-3 4.2.2: once deprecated, a DocumentEntry is not referenced by new associations
        plan.error(
            ErrorCode.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
            f"association {assoc.entry_uuid}: DocumentEntry {row.id} is deprecated",
            assoc.entry_uuid,
        )
        return False
    return True


def _check_membership(plan: Plan, assoc: Association) -> None:
    source = plan.existing.get(assoc.source)
    target = plan.existing.get(assoc.target)
    if source is not None:
        # ITI TF-3 4.2.1.2: no association is added to or from a SubmissionSet once it was submitted; a
        # HasMember from a stored object adds a document to a stored Folder (4.2.2.1.5)
        if source.kind != FOLDER:
            plan.error(
                ErrorCode.XDS_REGISTRY_METADATA_ERROR,
                f"HasMember {assoc.entry_uuid}: source {source.id} is a stored {source.kind}, not a Folder",
                assoc.entry_uuid,
            )
            return
        if not _same_patient(plan, assoc, source):
            return
        plan.touch_folder(source)  # ITI TF-2b 3.42.4.1.3.6: lastUpdateTime
    if target is None:
        return
    is_reference = assoc.submission_set_status == SubmissionSetStatus.REFERENCE
    if assoc.source == _submission_set_id(plan) and target.kind != DOCUMENT_ENTRY:
        # ITI TF-3 4.1.2.1: SubmissionSet-to-Folder HasMember names the submission that created the Folder
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"HasMember {assoc.entry_uuid}: a SubmissionSet cannot take the stored {target.kind} {target.id}",
            assoc.entry_uuid,
        )
        return
    # ITI TF-2b 3.42.4.1.3.4: the member of a Folder is an Approved DocumentEntry
    if not _approved_entry(plan, assoc, target):
        return
    # ITI TF-3 4.2.2.1.1: a SubmissionSet may reference a document of another patient (Reference)
    if not is_reference:
        _same_patient(plan, assoc, target)


def _submission_set_id(plan: Plan) -> str | None:
    ss = plan.submission.submission_set
    return ss.entry_uuid if ss is not None else None


def _check_relationship(conn: Connection, plan: Plan, assoc: Association) -> None:
    target = plan.existing.get(assoc.target)
    if target is None:
        return  # a DocumentEntry of this submission (validation checked which types allow that)
    if not _approved_entry(plan, assoc, target) or not _same_patient(plan, assoc, target):
        return
    kind = assoc.association_type
    if kind == AssociationType.IS_SNAPSHOT_OF and target.object_type != OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY:
        # ITI TF-3 4.2.2.2.6: a snapshot is taken of an On-Demand DocumentEntry
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"IsSnapshotOf {assoc.entry_uuid}: {target.id} is not an On-Demand DocumentEntry",
            assoc.entry_uuid,
        )
    elif kind == AssociationType.APND and db.associations(conn, types=TRANSFORMS, sources=[target.id]):
        # ITI TF-3 4.2.2.2.1: a transformation is not appended to
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"APND {assoc.entry_uuid}: {target.id} is a transformation, which cannot be appended to",
            assoc.entry_uuid,
        )
    elif kind in REPLACEMENTS:
        _replace(plan, assoc, target)


def _replace(plan: Plan, assoc: Association, target: StoredObject) -> None:
    if target.id in plan.replaced:
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"DocumentEntry {target.id} is replaced twice in one submission",
            assoc.entry_uuid,
        )
        return
    original = stored_entry(target)
    plan.replaced[target.id] = assoc.source
    plan.deprecate[target.id] = original
    # XDS Metadata Update supplement (logicalID, version): the replacement is the next version of the
    # original's logical document
    version = int(original.version) + 1 if original.version and original.version.isdigit() else 2
    plan.entries[assoc.source] = replace(
        plan.entries[assoc.source],
        logical_id=original.logical_id or original.entry_uuid,
        version=str(version),
    )


def _deprecate_dependents(conn: Connection, plan: Plan, original: str) -> None:
    """ITI TF-3 4.2.2.2.3: the transforms and addenda of a replaced document are deprecated with it."""
    pending = [original]
    while pending:
        links = db.associations(conn, types=DEPENDENTS, targets=pending)
        rows = db.objects_by_id(conn, (a.source for a in links))
        pending = []
        for row in rows.values():
            if row.kind == DOCUMENT_ENTRY and row.status == Status.APPROVED and row.id not in plan.deprecate:
                plan.deprecate[row.id] = stored_entry(row)
                pending.append(row.id)


def _propagate_folders(conn: Connection, plan: Plan, original: str, replacement: str) -> None:
    """ITI TF-2b 3.42.4.1.3.5: the replacement joins every Folder of the original: a Folder HasMember, its
    SubmissionSet HasMember, and a new lastUpdateTime for the Folder."""
    memberships = db.associations(conn, types=[AssociationType.HAS_MEMBER], targets=[original])
    folders = db.objects_by_id(conn, (a.source for a in memberships))
    ss_id = _submission_set_id(plan)
    for folder in folders.values():
        if folder.kind != FOLDER or folder.status != Status.APPROVED:
            continue
        link = Association(new_uuid(), AssociationType.HAS_MEMBER, folder.id, replacement)
        if not _same_patient(plan, link, folder):
            continue
        plan.extra_associations.append(link)
        if ss_id is not None:
            plan.extra_associations.append(
                Association(new_uuid(), AssociationType.HAS_MEMBER, ss_id, link.entry_uuid)
            )
        plan.touch_folder(folder)

"""ITI-42 Register Document Set-b, Document Registry side (ITI TF-2b 3.42.4.1.3).

The submission is validated (xds.validation, ITI-42 rules), its symbolic ids become UUIDs, and then, in
one write transaction, checked against what the registry holds: the patient, uniqueIds, the objects its
associations point at, and the document lifecycle (RPLC, XFRM, APND, XFRM_RPLC, signs). Either every
object is stored, Approved, with the originals of replacements deprecated and folders' lastUpdateTime
set — or nothing is, and the RegistryResponse lists every error found (ITI TF-2b 3.42.4.1.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from lxml import etree
from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError, IntegrityError

from registry import store as db
from registry.identifiers import assign_uuids, created_ids
from registry.rows import object_row, patient_key
from registry.tables import DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET
from xds.ebrim import document_entry_from_ebrim, folder_from_ebrim
from xds.errors import ErrorCode, RegistryError, XdsError
from xds.model import Association, DocumentEntry, Folder, Submission
from xds.transactions import Transaction
from xds.validation import ValidationConfig, validate_or_raise
from xds.vocabulary import AssociationType, Status

# ITI TF-3 4.2.2.2: relationships whose source is a new DocumentEntry and whose target must be an
# Approved DocumentEntry (4.2.2.2.1 RPLC, .2 XFRM, .3 APND, .4 XFRM_RPLC, .5 signs)
RELATIONSHIPS = frozenset(
    {
        AssociationType.RPLC,
        AssociationType.XFRM,
        AssociationType.APND,
        AssociationType.XFRM_RPLC,
        AssociationType.SIGNS,
    }
)
# ITI TF-3 4.2.2.2.1 / 4.2.2.2.4: these deprecate their target
REPLACEMENTS = frozenset({AssociationType.RPLC, AssociationType.XFRM_RPLC})


@dataclass
class _Plan:
    """What one registration will write, gathered while checking."""

    submission: Submission
    existing: dict[str, Row]
    errors: list[RegistryError] = field(default_factory=list)
    deprecate: dict[str, DocumentEntry] = field(default_factory=dict)  # originals of replacements
    touched_folders: dict[str, Folder] = field(default_factory=dict)  # existing folders that get members
    extra_associations: list[Association] = field(default_factory=list)

    def error(self, code: ErrorCode, context: str, location: str = "") -> None:
        self.errors.append(RegistryError(code, context, location))


def register(
    store: db.RegistryStore,
    submission: Submission,
    *,
    validation: ValidationConfig,
    clock: Callable[[], str] = db.now_dtm,
) -> list[RegistryError]:
    """Register ``submission``; the warnings on success, XdsError with every error otherwise."""
    warnings = validate_or_raise(submission, Transaction.ITI_42, validation)
    submission, _ = assign_uuids(submission)
    for attempt in (1, 2):
        try:
            with store.write() as conn:
                _register(conn, submission, clock())
            return warnings
        except IntegrityError:
            # a concurrent submission took a uniqueId or entryUUID between our checks and our insert; the
            # second attempt's checks see it and report the precise error code
            if attempt == 2:
                break
        except DBAPIError as exc:
            raise XdsError(
                ErrorCode.XDS_REGISTRY_ERROR, "the registry could not store the submission"
            ) from exc
    raise XdsError(ErrorCode.XDS_REGISTRY_ERROR, "the registry could not store the submission")


def _register(conn: Connection, submission: Submission, now: str) -> None:
    new_ids = set(created_ids(submission))
    referenced = {i for a in submission.associations for i in (a.source, a.target)} - new_ids
    existing = db.objects_by_id(conn, new_ids | referenced)
    plan = _Plan(submission, existing)
    _check_patient(conn, plan)
    _check_new_ids(plan, new_ids)
    _check_unique_ids(conn, plan)
    entries = _check_associations(plan, new_ids)
    if plan.errors:
        raise XdsError.collect(plan.errors)
    db.insert_objects(conn, [object_row(obj) for obj in _final_objects(submission, entries, now)])
    for original in plan.deprecate.values():
        if not db.replace_object(
            conn,
            object_row(replace(original, availability_status=Status.DEPRECATED)),
            expected_status=Status.APPROVED,
        ):
            # ITI TF-3 4.2.2.2.1: only an Approved document can be replaced; another submission won the race
            raise XdsError(
                ErrorCode.XDS_REGISTRY_METADATA_ERROR,
                f"DocumentEntry {original.entry_uuid} was replaced by another submission meanwhile",
                original.entry_uuid,
            )
    for folder in plan.touched_folders.values():
        db.replace_object(conn, object_row(replace(folder, last_update_time=now)))


def _check_patient(conn: Connection, plan: _Plan) -> None:
    ss = plan.submission.submission_set
    pid = patient_key(ss.patient_id) if ss is not None else None
    if pid is None:
        return  # validation reported the missing patient already
    known = db.get_patient(conn, pid)
    # ITI TF-2b 3.42.4.1.3: the patient ID must be known from the Patient Identity Feed; a subsumed (merged)
    # ID is no longer active (ITI TF-2a 3.8.4.2.3)
    if known is None or known.status != db.ACTIVE:
        why = "is not known to the registry" if known is None else f"was merged into {known.merged_into}"
        plan.error(ErrorCode.XDS_UNKNOWN_PATIENT_ID, f"patient {pid} {why}", pid)


def _check_new_ids(plan: _Plan, new_ids: set[str]) -> None:
    # ITI TF-3 4.2.3.1.5: an entryUUID identifies one object; a UUID sent for a new object must be new
    for object_id in sorted(new_ids & plan.existing.keys()):
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR, f"{object_id} is already in the registry", object_id
        )


def _check_unique_ids(conn: Connection, plan: _Plan) -> None:
    sub = plan.submission
    entries = {de.unique_id: de for de in sub.document_entries}
    for row in db.objects_by_unique_id(conn, DOCUMENT_ENTRY, entries):
        de = entries[row.unique_id]
        # ITI TF-3 Table 4.2.4.1-2: a known uniqueId with another hash is XDSNonIdenticalHash, with another
        # size XDSNonIdenticalSize, otherwise XDSDuplicateUniqueIdInRegistry
        if de.hash and row.hash and de.hash.lower() != row.hash:
            plan.error(
                ErrorCode.XDS_NON_IDENTICAL_HASH, f"document {de.unique_id}: hash differs", de.unique_id
            )
        elif de.size is not None and row.size is not None and de.size != row.size:
            plan.error(
                ErrorCode.XDS_NON_IDENTICAL_SIZE, f"document {de.unique_id}: size differs", de.unique_id
            )
        else:
            plan.error(
                ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY, f"document {de.unique_id} exists", de.unique_id
            )
    for kind, objects in ((SUBMISSION_SET, sub.submission_sets), (FOLDER, sub.folders)):
        for row in db.objects_by_unique_id(conn, kind, (o.unique_id for o in objects)):
            plan.error(
                ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY, f"{kind} {row.unique_id} exists", row.unique_id
            )


def _stored_entry(row: Row) -> DocumentEntry:
    return document_entry_from_ebrim(etree.fromstring(row.ebrim))


def _check_associations(plan: _Plan, new_ids: set[str]) -> dict[str, DocumentEntry]:
    """Check every association that reaches an existing object; returns the new DocumentEntries with
    their logicalID and version set (ITI TF-3 4.1.? document versioning)."""
    sub = plan.submission
    ss = sub.submission_set
    pid = patient_key(ss.patient_id) if ss is not None else None
    entries = {de.entry_uuid: de for de in sub.document_entries}
    for assoc in sub.associations:
        for end in (assoc.source, assoc.target):
            if end in new_ids:
                continue
            row = plan.existing.get(end)
            if row is None:
                # ITI TF-3 4.2.2: an association names objects of the submission or of the registry
                plan.error(
                    ErrorCode.XDS_REGISTRY_METADATA_ERROR,
                    f"association {assoc.entry_uuid} refers to {end}, which is neither in the submission "
                    "nor in the registry",
                    assoc.entry_uuid,
                )
            elif row.patient_id is not None and row.patient_id != pid:
                # ITI TF-2b 3.42.4.1.3: associations do not cross patients
                plan.error(
                    ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH,
                    f"association {assoc.entry_uuid} links {pid} to {end} of patient {row.patient_id}",
                    assoc.entry_uuid,
                )
        if assoc.association_type in RELATIONSHIPS:
            _check_relationship(plan, assoc, entries)
        elif assoc.association_type == AssociationType.HAS_MEMBER:
            _check_membership(plan, assoc, new_ids)
    return entries


def _check_relationship(plan: _Plan, assoc: Association, entries: dict[str, DocumentEntry]) -> None:
    target_row = plan.existing.get(assoc.target)
    if target_row is None:
        return  # target in the submission (validation checked it) or reported unknown above
    if target_row.kind != DOCUMENT_ENTRY or target_row.status != Status.APPROVED:
        # ITI TF-3 4.2.2.2: the target of RPLC/XFRM/APND/XFRM_RPLC/signs is an Approved DocumentEntry
        what = "not a DocumentEntry" if target_row.kind != DOCUMENT_ENTRY else "deprecated"
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"association {assoc.entry_uuid}: target {assoc.target} is {what}",
            assoc.entry_uuid,
        )
        return
    if assoc.association_type not in REPLACEMENTS or assoc.source not in entries:
        return
    if assoc.target in plan.deprecate:
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"DocumentEntry {assoc.target} is replaced twice in one submission",
            assoc.entry_uuid,
        )
        return
    original = _stored_entry(target_row)
    plan.deprecate[assoc.target] = original
    # ITI TF-3 4.1.? (document versioning): the replacement continues the original's logicalID with the
    # next version
    version = int(original.version) + 1 if original.version and original.version.isdigit() else 2
    entries[assoc.source] = replace(
        entries[assoc.source], logical_id=original.logical_id or original.entry_uuid, version=str(version)
    )


def _check_membership(plan: _Plan, assoc: Association, new_ids: set[str]) -> None:
    source_row = plan.existing.get(assoc.source)
    if source_row is None:
        return  # source in the submission
    if source_row.kind != FOLDER:
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"HasMember {assoc.entry_uuid}: source {assoc.source} is neither the SubmissionSet nor a Folder",
            assoc.entry_uuid,
        )
        return
    if source_row.status != Status.APPROVED:
        plan.error(
            ErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"HasMember {assoc.entry_uuid}: Folder {assoc.source} is not Approved",
            assoc.entry_uuid,
        )
        return
    # ITI TF-3 4.2.3.4.? lastUpdateTime: set by the registry whenever a document is added to the folder
    plan.touched_folders.setdefault(assoc.source, folder_from_ebrim(etree.fromstring(source_row.ebrim)))


def _final_objects(
    submission: Submission, entries: dict[str, DocumentEntry], now: str
) -> list[DocumentEntry | Folder | Association]:
    approved = Status.APPROVED
    objects: list = [replace(ss, availability_status=approved) for ss in submission.submission_sets]
    for de in entries.values():
        objects.append(
            replace(
                de,
                availability_status=approved,
                logical_id=de.logical_id or de.entry_uuid,
                version=de.version or "1",
            )
        )
    for folder in submission.folders:
        objects.append(
            replace(
                folder,
                availability_status=approved,
                last_update_time=now,
                logical_id=folder.logical_id or folder.entry_uuid,
                version=folder.version or "1",
            )
        )
    objects += [replace(a, availability_status=approved) for a in submission.associations]
    return objects

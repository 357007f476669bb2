"""ITI-42 Register Document Set-b, Document Registry side (ITI TF-2b 3.42.4.1.3).

The submission is validated (xds.validation, ITI-42 rules), its symbolic ids become UUIDs, and then, in
one write transaction, checked against what the registry holds: the patient, uniqueIds, the objects its
associations point at, and the document lifecycle (RPLC, XFRM, APND, XFRM_RPLC, signs). Either every
object is stored, Approved, with the originals of replacements deprecated and folders' lastUpdateTime
set — or nothing is, and the RegistryResponse lists every error found (ITI TF-2b 3.42.4.1.3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from registry import store as db
from registry.associations import check_associations
from registry.identifiers import assign_uuids, created_ids
from registry.plan import Plan
from registry.rows import RegistryObject, StoredObject, object_row, patient_key
from registry.submitted import Submitted, stored_text
from registry.tables import DOCUMENT_ENTRY
from xds.errors import ErrorCode, RegistryError, XdsError
from xds.model import Submission
from xds.transactions import Transaction
from xds.validation import ValidationConfig, validate_or_raise
from xds.vocabulary import Status

NOT_STORED = "the registry could not store the submission"


def register(
    store: db.RegistryStore,
    submission: Submission,
    *,
    validation: ValidationConfig,
    clock: Callable[[], str] = db.now_dtm,
    submitted: Mapping[str, Submitted] | None = None,
) -> list[RegistryError]:
    """Register ``submission``; the warnings on success, XdsError with every error otherwise.

    ``submitted``: the elements the objects were decoded from, by the id they were sent with
    (registry.submitted.submitted_objects), to store them from; without it they are encoded again.
    """
    warnings = validate_or_raise(submission, Transaction.ITI_42, validation)
    submission, uuids = assign_uuids(submission)
    sent = {uuids.get(sent_id, sent_id): element for sent_id, element in (submitted or {}).items()}
    for attempt in (1, 2):
        try:
            # a connection that broke before the COMMIT was run again there; one lost in the COMMIT may have
            # stored it all, and running it again would find its own uniqueIds: XDSRegistryError below
            store.transact(lambda conn: _register(conn, submission, clock(), sent))
            return warnings
        except IntegrityError:
            # a concurrent submission took a uniqueId or entryUUID between our checks and our insert; the
            # second attempt's checks see it and report the precise error code
            if attempt == 2:
                break
        except DBAPIError as exc:
            raise XdsError(ErrorCode.XDS_REGISTRY_ERROR, NOT_STORED) from exc
    raise XdsError(ErrorCode.XDS_REGISTRY_ERROR, NOT_STORED)


def _register(conn: Connection, submission: Submission, now: str, sent: Mapping[str, Submitted]) -> None:
    new_ids = set(created_ids(submission))
    referenced = {i for a in submission.associations for i in (a.source, a.target)} - new_ids
    ss = submission.submission_set
    pid = patient_key(ss.patient_id) if ss is not None else None
    # one document uniqueId at a time across writers, so the hash/size comparison below stays true; the
    # patient is read in the same round trip
    known = db.lock_and_get_patient(conn, (de.unique_id for de in submission.document_entries), pid)
    # one look-up: the stored objects the submission names by entryUUID, and those holding its uniqueIds
    named_ids = new_ids | referenced
    packages = (*submission.submission_sets, *submission.folders)
    unique_ids = {o.unique_id for o in (*submission.document_entries, *packages)}
    named = db.objects_named(conn, named_ids, unique_ids)
    plan = Plan(
        submission,
        pid,
        new_ids,
        {row.id: row for row in named if row.id in named_ids},
        # a new entry is the first version of its logical document unless it replaces one (associations.py)
        entries={
            de.entry_uuid: replace(de, logical_id=de.entry_uuid, version="1")
            for de in submission.document_entries
        },
    )
    _check_patient(plan, known)
    _check_new_ids(plan)
    _check_unique_ids(plan, [row for row in named if row.unique_id in unique_ids])
    check_associations(conn, plan)
    if plan.errors:
        raise XdsError.collect(plan.errors)
    final = _final_objects(plan, now)
    db.insert_objects(conn, [object_row(obj, stored_text(obj, sent.get(obj.entry_uuid))) for obj in final])
    for original_id, original in plan.deprecate.items():
        deprecated = object_row(replace(original, availability_status=Status.DEPRECATED))
        changed = db.replace_object(conn, deprecated, expected_status=Status.APPROVED)
        if not changed and original_id in plan.replaced:
            # ITI TF-3 4.2.2.2.1: only an Approved document is replaced; another submission won the race
            raise XdsError(
                ErrorCode.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
                f"DocumentEntry {original_id} was replaced by another submission meanwhile",
                original_id,
            )
    for folder in plan.touched_folders.values():
        db.replace_object(conn, object_row(replace(folder, last_update_time=now)))


def _check_patient(plan: Plan, known: db.KnownPatient | None) -> None:
    pid = plan.patient_id
    if pid is None:
        return  # validation reported the missing patient already
    # ITI TF-2b 3.42.4.1.3.3.2: the patient ID must be known from the Patient Identity Feed; a subsumed
    # (merged) ID is no longer one (ITI TF-2a 3.8.4.2.4)
    if known is None or known.status != db.ACTIVE:
        why = "is not known to the registry" if known is None else f"was merged into {known.merged_into}"
        plan.error(ErrorCode.XDS_UNKNOWN_PATIENT_ID, f"patient {pid} {why}", pid)


def _check_new_ids(plan: Plan) -> None:
    # ITI TF-3 4.2.3.1.5: an entryUUID identifies one object for good; one sent for a new object must be new
    for object_id in sorted(plan.new_ids & plan.existing.keys()):
        plan.error(ErrorCode.XDS_REGISTRY_METADATA_ERROR, f"{object_id} is already registered", object_id)


def _check_unique_ids(plan: Plan, same_unique_id: list[StoredObject]) -> None:
    entries = {de.unique_id: de for de in plan.submission.document_entries}
    for row in same_unique_id:
        de = entries.get(row.unique_id)
        if de is None or row.kind != DOCUMENT_ENTRY:
            # ITI TF-2b 3.42.4.1.3.3.7, ITI TF-3 Table 4.2.4.1-2: a SubmissionSet or Folder uniqueId is not
            # used by any other object
            plan.error(
                ErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
                f"uniqueId {row.unique_id} is already used by {row.kind} {row.id}",
                row.unique_id,
            )
        elif de.hash and row.hash and de.hash.lower() != row.hash:
            # ITI TF-2b 3.42.4.1.3.3.1: the same document again is accepted; other content under its
            # uniqueId is XDSNonIdenticalHash / XDSNonIdenticalSize
            plan.error(ErrorCode.XDS_NON_IDENTICAL_HASH, f"document {de.unique_id}: other hash", de.unique_id)
        elif de.size is not None and row.size is not None and de.size != row.size:
            plan.error(ErrorCode.XDS_NON_IDENTICAL_SIZE, f"document {de.unique_id}: other size", de.unique_id)


def _final_objects(plan: Plan, now: str) -> list[RegistryObject]:
    """Everything to insert, as the registry stores it (ITI TF-2b 3.42.4.1.3.3.5: Approved)."""
    approved = Status.APPROVED
    sub = plan.submission
    objects: list[RegistryObject] = [replace(ss, availability_status=approved) for ss in sub.submission_sets]
    objects += [replace(de, availability_status=approved) for de in plan.entries.values()]
    for folder in sub.folders:
        # ITI TF-2b 3.42.4.1.3.6: the registry sets lastUpdateTime, whatever was sent
        objects.append(
            replace(
                folder,
                availability_status=approved,
                last_update_time=now,
                logical_id=folder.entry_uuid,
                version="1",
            )
        )
    associations = (*sub.associations, *plan.extra_associations)
    objects += [replace(a, availability_status=approved) for a in associations]
    return objects

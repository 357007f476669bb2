"""Association rules of a submission (ITI TF-3 4.2.2)."""

from __future__ import annotations

from collections import Counter

from xds.errors import ErrorCode
from xds.model import Association, Submission
from xds.validation import syntax as s
from xds.validation.findings import Findings
from xds.vocabulary import DOCUMENT_RELATIONSHIPS, AssociationType, SubmissionSetStatus

# ITI TF-3 4.2.2: what a submission (ITI-41/42, RAD-68) may carry; UpdateAvailabilityStatus and
# SubmitAssociation belong to Metadata Update (ITI-57).
SUBMISSION_ASSOCIATION_TYPES = frozenset({AssociationType.HAS_MEMBER, *DOCUMENT_RELATIONSHIPS})
REGISTERED_TARGETS = frozenset(
    {AssociationType.RPLC, AssociationType.XFRM_RPLC, AssociationType.IS_SNAPSHOT_OF}
)


def check_associations(findings: Findings, submission: Submission) -> None:
    ss = submission.submission_set
    ss_id = ss.entry_uuid if ss is not None else None
    de_ids = {de.entry_uuid for de in submission.document_entries}
    folder_ids = {folder.entry_uuid for folder in submission.folders}
    assoc_ids = {a.entry_uuid for a in submission.associations}
    local_ids = de_ids | folder_ids | assoc_ids | {x.entry_uuid for x in submission.submission_sets}
    local_ids |= {ref.id for ref in submission.object_refs}

    for assoc in submission.associations:
        _check_one(findings, assoc, ss_id, de_ids, local_ids)

    members = [a for a in submission.associations if a.association_type == AssociationType.HAS_MEMBER]
    ss_targets = Counter(a.target for a in members if a.source == ss_id)
    # ITI TF-3 4.2.2.1.1: every DocumentEntry of the submission is linked to the SubmissionSet by exactly
    # one HasMember association
    for de_id in sorted(de_ids):
        if ss_id is not None and ss_targets[de_id] != 1:
            findings.metadata(
                f"DocumentEntry {de_id} needs exactly one SubmissionSet HasMember, has {ss_targets[de_id]}",
                de_id,
            )
    # ITI TF-3 4.2.2.1.1: every Folder of the submission is a member of the SubmissionSet
    for folder_id in sorted(folder_ids):
        if ss_id is not None and ss_targets[folder_id] == 0:
            findings.metadata(f"Folder {folder_id} is not a member of the SubmissionSet", folder_id)
    # ITI TF-3 4.2.2.1.3 (Folder membership): a Folder-to-DocumentEntry HasMember is itself a member of the
    # SubmissionSet (SubmissionSet HasMember targeting that association)
    for assoc in members:
        if ss_id is not None and assoc.source != ss_id and ss_targets[assoc.entry_uuid] == 0:
            findings.metadata(
                f"Folder HasMember {assoc.entry_uuid} is not linked from the SubmissionSet by a HasMember",
                assoc.entry_uuid,
            )


def _check_one(
    findings: Findings, assoc: Association, ss_id: str | None, de_ids: set[str], local_ids: set[str]
) -> None:
    where = assoc.entry_uuid
    if not s.is_symbolic_id(assoc.entry_uuid) and not s.is_uuid_urn(assoc.entry_uuid):
        findings.metadata(f"Association id {assoc.entry_uuid!r} is not a urn:uuid UUID", where)
    if assoc.association_type not in SUBMISSION_ASSOCIATION_TYPES:
        findings.metadata(f"associationType {assoc.association_type!r} is not allowed here", where)
        return
    # ITI TF-3 Table 4.2.4.1-2 UnresolvedReferenceException ("cannot resolve an entryUUID reference in
    # the transaction", the ebRS 3.0 exception of the same name): a symbolic id must name an object of
    # this request; urn:uuid ids may name registered objects, which the Registry resolves.
    unresolved = False
    for end, ref in (("sourceObject", assoc.source), ("targetObject", assoc.target)):
        if not ref or (s.is_symbolic_id(ref) and ref not in local_ids):
            findings.add(ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION, f"{end} {ref!r} is not resolvable", where)
            unresolved = True
        elif not s.is_symbolic_id(ref) and not s.is_uuid_urn(ref):
            findings.metadata(f"{end} {ref!r} is not a urn:uuid UUID", where)
    if unresolved:
        return
    if assoc.association_type == AssociationType.HAS_MEMBER:
        _check_has_member(findings, assoc, ss_id, de_ids, local_ids)
    else:
        _check_relationship(findings, assoc, de_ids, local_ids)


def _check_has_member(
    findings: Findings, assoc: Association, ss_id: str | None, de_ids: set[str], local_ids: set[str]
) -> None:
    where = assoc.entry_uuid
    # NIST test 12370 / ITI TF-3 4.2.2.2: associationDocumentation only on document relationships
    if assoc.documentation is not None:
        findings.metadata("associationDocumentation is not allowed on a HasMember association", where)
    registered_target = assoc.target not in local_ids  # resolved above, so a urn:uuid of the Registry
    if assoc.source != ss_id or not (assoc.target in de_ids or registered_target):
        return
    # ITI TF-3 4.2.2.1.2: SubmissionSet-to-DocumentEntry HasMember carries SubmissionSetStatus,
    # Original (entry submitted here) or Reference (entry registered before)
    status = assoc.submission_set_status
    if status not in tuple(SubmissionSetStatus):
        findings.metadata(f"SubmissionSetStatus {status!r} is not Original or Reference", where)
    elif status == SubmissionSetStatus.ORIGINAL and assoc.target not in de_ids:
        findings.metadata(f"SubmissionSetStatus Original names {assoc.target}, not in this submission", where)
    elif status == SubmissionSetStatus.REFERENCE and assoc.target in de_ids:
        findings.metadata(f"SubmissionSetStatus Reference names {assoc.target}, submitted here", where)


def _check_relationship(
    findings: Findings, assoc: Association, de_ids: set[str], local_ids: set[str]
) -> None:
    # ITI TF-2b 3.42.4.1.3.5 document relationships: the source is a new DocumentEntry of this submission;
    # the target of RPLC, XFRM_RPLC and IsSnapshotOf is a registered DocumentEntry, that of XFRM, APND and
    # signs a registered one or one of this submission. Anything else does not resolve.
    where = assoc.entry_uuid
    if assoc.source not in de_ids:
        findings.add(
            ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION,
            f"source {assoc.source!r} is not a DocumentEntry of this submission",
            where,
        )
    if assoc.target in local_ids and (
        assoc.association_type in REGISTERED_TARGETS or assoc.target not in de_ids
    ):
        findings.add(
            ErrorCode.UNRESOLVED_REFERENCE_EXCEPTION,
            f"target {assoc.target!r} of {assoc.association_type} must be a registered DocumentEntry",
            where,
        )

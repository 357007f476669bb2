"""ITI-8 Patient Identity Feed, Document Registry side (ITI TF-2a 3.8.4.1.4, 3.8.4.2.4).

A01, A04 and A05 make the affinity-domain patient ID of PID-3 known, so that submissions for it are
accepted; A08 is acknowledged and changes nothing; A40 merges the patient of MRG-1 into the patient of
PID-3: every SubmissionSet, DocumentEntry and Folder of the subsumed ID now carries the surviving ID, and the
subsumed ID is unknown from then on (later submissions get XDSUnknownPatientId, queries find nothing).
Identifiers of other assigning authorities are ignored. Every message is answered with an HL7 ACK (AA, or
AE/AR with an ERR segment naming the problem) and is one database transaction.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from registry import store as db
from registry.rows import object_row, patient_key, stored_object
from registry.tables import ASSOCIATION
from xds.hl7v2 import (
    CX,
    ErrorCondition,
    ErrorLocation,
    FeedAction,
    Hl7Error,
    PatientFeedMessage,
    build_ack,
    parse_patient_feed,
)

log = logging.getLogger(__name__)

PID_3 = ErrorLocation("PID", field=3)
MRG_1 = ErrorLocation("MRG", field=1)


def handle_feed(store: db.RegistryStore, domain_oid: str, message: bytes) -> bytes:
    """The ACK for one ITI-8 message (blocking: database work)."""
    try:
        feed = parse_patient_feed(message)
        # a connection that broke before the COMMIT: stored by a second run (RegistryStore.transact)
        store.transact(lambda conn: _apply(conn, domain_oid, feed))
    except Hl7Error as error:
        return build_ack(message, error.ack_code, error=error)
    except DBAPIError:
        log.exception("patient feed %r not stored", message[:200])
        error = Hl7Error(ErrorCondition.APPLICATION_INTERNAL_ERROR, "the registry could not store it")
        return build_ack(feed, "AR", error=error)
    return build_ack(feed, "AA")


def _domain_id(ids: tuple[CX, ...], domain_oid: str, location: ErrorLocation) -> str:
    # ITI TF-2a 3.8.4.1.4: only the identifier of the affinity domain's assigning authority is kept
    for cx in ids:
        if cx.authority_oid == domain_oid and cx.id_number:
            return patient_key(cx) or ""
    raise Hl7Error(
        ErrorCondition.UNKNOWN_KEY_IDENTIFIER,
        f"no identifier of the affinity domain (assigning authority {domain_oid})",
        location,
    )


def _apply(conn: Connection, domain_oid: str, feed: PatientFeedMessage) -> None:
    if feed.action == FeedAction.UPDATE:
        return  # ITI TF-2a 3.8.4.1.4: the Document Registry ignores A08
    pid = _domain_id(feed.patient_identifiers, domain_oid, PID_3)
    if feed.action == FeedAction.CREATE:
        known = db.get_patient(conn, pid)
        if known is not None and known.status != db.ACTIVE:
            # ITI TF-2a 3.8.4.2.4: a subsumed ID is never used again
            raise Hl7Error(
                ErrorCondition.UNKNOWN_KEY_IDENTIFIER, f"{pid} was merged into {known.merged_into}", PID_3
            )
        name = feed.patient_names[0].render() if feed.patient_names else None
        db.save_patient(conn, pid, name=name, birth_date=feed.birth_date or None, sex=feed.sex or None)
        return
    subsumed = _domain_id(feed.prior_patient_identifiers, domain_oid, MRG_1)
    _merge(conn, subsumed, pid)


def _merge(conn: Connection, subsumed: str, survivor: str) -> None:
    # ITI TF-2a 3.8.4.2.4: both IDs are active patients of the domain, and differ; otherwise nothing changes
    if subsumed == survivor:
        raise Hl7Error(ErrorCondition.UNKNOWN_KEY_IDENTIFIER, "MRG-1 and PID-3 name the same patient", MRG_1)
    for pid, location in ((subsumed, MRG_1), (survivor, PID_3)):
        known = db.get_patient(conn, pid)
        if known is None or known.status != db.ACTIVE:
            why = "is not known" if known is None else f"was merged into {known.merged_into}"
            raise Hl7Error(ErrorCondition.UNKNOWN_KEY_IDENTIFIER, f"patient {pid} {why}", location)
    survivor_cx = CX.parse(survivor)
    moved = 0
    for row in db.objects_of_patient(conn, subsumed):
        if row.kind == ASSOCIATION:
            continue
        obj = replace(stored_object(row.kind, row.ebrim), patient_id=survivor_cx)
        db.replace_object(conn, object_row(obj))
        moved += 1
    db.mark_merged(conn, subsumed, survivor)
    log.info("patient %s merged into %s: %d registry objects moved", subsumed, survivor, moved)

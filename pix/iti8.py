"""ITI-8 Patient Identity Feed, PIX Manager side (ITI TF-2a 3.8.4.1.3, 3.8.4.2.3).

Every local identifier (CX.1 + assigning authority CX.4) of PID-3 is linked to one master patient:
- A01, A04, A05: identifiers already known name the master patient; unknown ones are linked to it. When none
  is known a new master patient is created with the XAD-PID of the message (an identifier of the domain's
  assigning authority) or a new one from ``id_format``. Demographics that differ are stored.
- A08: as above for a known patient (its demographics are replaced); an unknown patient is an error.
- A40: MRG-1 (the prior identifier) is merged into the PID-3 identifier of the same domain. Two master
  patients become one: all identifiers of the subsumed one move to the survivor, whose XAD-PID remains;
  the prior identifier (and a subsumed XAD-PID) is retired and never accepted again.
Each accepted change is queued in the outbox in the same transaction: A01/A08/A40 for the registry
(Patient Identity Source) and A31 for the ITI-10 subscribers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError, IntegrityError

from pix import iti10
from pix import store as db
from pix.config import REGISTRY_TARGET, PixConfig
from pix.identity_source import registry_feed
from pix.model import Demographics, Domain
from pix.tables import ACTIVE
from xds.hl7v2 import (
    CX,
    HD,
    XPN,
    ErrorCondition,
    ErrorLocation,
    FeedAction,
    Hl7Error,
    PatientFeedMessage,
    build_ack,
    parse_patient_feed,
)

log = logging.getLogger(__name__)

_ATTEMPTS = 3  # concurrent feeds of one new identifier: the loser's insert fails and it runs again


def _at(
    segment: str, field_no: int, repetition: int | None = None, component: int | None = None
) -> ErrorLocation:
    return ErrorLocation(segment, 1, field_no, repetition, component)


@dataclass
class _Item:
    """One identifier of the message, its domain and what the PIX Manager knows of it."""

    repetition: int
    domain: Domain
    id_number: str
    link: db.Link | None


@dataclass
class _Changes:
    targets: set[str] = field(default_factory=set)
    domains: list[Domain] = field(default_factory=list)


class FeedHandler:
    def __init__(self, store: db.PixStore, config: PixConfig) -> None:
        self.store = store
        self.config = config
        self._xad_hd = HD("", config.domain_oid, "ISO")

    def handle(self, message: bytes, feed: PatientFeedMessage | None = None) -> tuple[bytes, set[str]]:
        """(ACK, outbox targets with new messages) for one ITI-8 message (blocking: database work)."""
        try:
            feed = feed or parse_patient_feed(message)
            changes = self._store(feed)
        except Hl7Error as error:
            return build_ack(message, error.ack_code, error=error), set()
        except DBAPIError:
            log.exception("patient feed %r not stored", message[:200])
            error = Hl7Error(ErrorCondition.APPLICATION_INTERNAL_ERROR, "the PIX Manager could not store it")
            return build_ack(message, "AR", error=error), set()
        return build_ack(feed, "AA"), changes.targets

    def _store(self, feed: PatientFeedMessage) -> _Changes:
        def work(conn: Connection) -> _Changes:
            changes = _Changes()
            self._apply(conn, feed, changes)
            return changes

        for attempt in range(1, _ATTEMPTS + 1):
            try:
                changes: _Changes = self.store.transact(work)
            except IntegrityError:  # a lone job collided with another process's insert
                self.store.forget()
                if attempt == _ATTEMPTS:
                    raise
                continue
            self.store.remember(changes.domains)
            return changes
        raise AssertionError("unreachable")

    # --- reading the message -----------------------------------------------------------------------------

    def _items(
        self, conn: Connection, ids: tuple[CX, ...], segment: str, field_no: int, changes: _Changes
    ) -> list[_Item]:
        items: list[_Item] = []
        for number, cx in enumerate(ids, start=1):
            hd = cx.assigning_authority
            # ITI TF-2a 3.8.4.1.2.3: the PIX Manager needs the assigning authority (CX.4) of every identifier
            if hd is None or not (hd.universal_id or hd.namespace_id):
                raise Hl7Error(
                    ErrorCondition.REQUIRED_FIELD_MISSING,
                    "identifier without assigning authority (CX.4)",
                    _at(segment, field_no, number, 4),
                )
            dom = self.store.find_domain(conn, hd)
            if dom is None:
                dom = self.store.ensure_domain(conn, hd)
                changes.domains.append(dom)
            if any(seen.domain.key == dom.key and seen.id_number == cx.id_number for seen in items):
                continue  # the same identifier twice
            link = db.find_link(self.store, conn, dom, cx.id_number)
            # ITI TF-2a 3.8.4.2.3: an identifier merged away is not used again
            if link is not None and link.status != ACTIVE:
                raise Hl7Error(
                    ErrorCondition.UNKNOWN_KEY_IDENTIFIER,
                    f"{cx.id_number} was merged away",
                    _at(segment, field_no, number),
                )
            items.append(_Item(number, dom, cx.id_number, link))
        return items

    def _is_xad(self, dom: Domain) -> bool:
        return dom.universal_id == self.config.domain_oid

    # --- applying it -------------------------------------------------------------------------------------

    def _apply(self, conn: Connection, feed: PatientFeedMessage, changes: _Changes) -> None:
        if feed.action == FeedAction.MERGE:
            self._merge(conn, feed, changes)
            return
        items = self._items(conn, feed.patient_identifiers, "PID", 3, changes)
        masters: list[int] = []
        for item in items:
            if item.link is not None and item.link.patient_id not in masters:
                masters.append(item.link.patient_id)
                if len(masters) > 1:
                    # ITI TF-2a 3.8.4.1.3: identifiers of two different patients; that takes an A40 merge
                    raise Hl7Error(
                        ErrorCondition.DUPLICATE_KEY_IDENTIFIER,
                        f"{item.id_number} belongs to another patient",
                        _at("PID", 3, item.repetition),
                    )
        demographics = Demographics.of_feed(feed)
        if not masters:
            if feed.action == FeedAction.UPDATE:
                # ITI TF-2a 3.8.4.1.3: A08 updates a patient the PIX Manager knows
                raise Hl7Error(
                    ErrorCondition.UNKNOWN_KEY_IDENTIFIER, "no identifier of PID-3 is known", _at("PID", 3)
                )
            first = feed.patient_names[0] if feed.patient_names else None
            self._create(conn, items, demographics, changes, first)
            return
        row = db.get_patient(conn, masters[0])
        assert row is not None
        new = [item for item in items if item.link is None]
        for item in new:
            if self._is_xad(item.domain):
                # the affinity domain gives a patient exactly one XAD-PID
                raise Hl7Error(
                    ErrorCondition.DUPLICATE_KEY_IDENTIFIER,
                    f"the patient has the XAD-PID {row.xad_pid}",
                    _at("PID", 3, item.repetition),
                )
            db.link(conn, item.domain, item.id_number, row.id)
        changed = not demographics.is_empty and db.update_demographics(conn, row, demographics)
        if changed:
            # ITI TF-2a 3.8.4.1: the Patient Identity Source sends A08 when demographics change
            self._to_registry(conn, "A08", row.xad_pid, demographics, changes)
        if new or changed:
            self._notify(conn, row.id, changes)

    def _create(
        self,
        conn: Connection,
        items: list[_Item],
        demographics: Demographics,
        changes: _Changes,
        first_name: XPN | None,
    ) -> None:
        given = [item for item in items if self._is_xad(item.domain)]
        if len(given) > 1:
            raise Hl7Error(
                ErrorCondition.DUPLICATE_KEY_IDENTIFIER,
                "two XAD-PIDs for one patient",
                _at("PID", 3, given[1].repetition),
            )
        if given:
            xad_pid = given[0].id_number
            patient_id = db.create_patient(conn, demographics, xad_pid, first_name)
        else:
            patient_id = db.create_patient(conn, demographics, None, first_name)
            xad_pid = self._new_xad_pid(conn, patient_id)
        links = [(item.domain, item.id_number) for item in items]
        if not given:
            xad_domain = self.store.find_domain(conn, self._xad_hd)
            if xad_domain is None:
                xad_domain = self.store.ensure_domain(conn, self._xad_hd)
                changes.domains.append(xad_domain)
            links.append((xad_domain, xad_pid))
        db.link_all(conn, links, patient_id)
        # ITI TF-2a 3.8.4.1: a new patient of the affinity domain is announced with an A01
        self._to_registry(conn, "A01", xad_pid, demographics, changes)
        self._notify(conn, patient_id, changes)

    def _new_xad_pid(self, conn: Connection, number: int) -> str:
        """Give the new patient ``id_format`` of its row number (no counter row for concurrent feeds to queue
        on); in the rare case that a message brought that very ID for another patient, a suffix."""
        base = candidate = self.config.id_format.format(n=number)
        suffix = 0
        while not db.set_xad_pid(conn, number, candidate):
            suffix += 1
            candidate = f"{base}-{suffix}"
        return candidate

    def _merge(self, conn: Connection, feed: PatientFeedMessage, changes: _Changes) -> None:
        prior = self._items(conn, feed.prior_patient_identifiers[:1], "MRG", 1, changes)[0]
        # ITI TF-2a 3.8.4.2.3: the merge happens within one domain: PID-3's identifier of MRG-1's domain
        items = self._items(conn, feed.patient_identifiers, "PID", 3, changes)
        survivor = next((item for item in items if item.domain.key == prior.domain.key), None)
        if survivor is None:
            raise Hl7Error(
                ErrorCondition.UNKNOWN_KEY_IDENTIFIER,
                "PID-3 holds no identifier of the domain of MRG-1",
                _at("PID", 3),
            )
        if prior.link is None:
            raise Hl7Error(
                ErrorCondition.UNKNOWN_KEY_IDENTIFIER, f"{prior.id_number} is not known", _at("MRG", 1, 1)
            )
        if prior.id_number == survivor.id_number:
            raise Hl7Error(
                ErrorCondition.UNKNOWN_KEY_IDENTIFIER,
                "MRG-1 and PID-3 name the same identifier",
                _at("MRG", 1, 1),
            )
        subsumed = prior.link.patient_id
        if survivor.link is None:
            if self._is_xad(prior.domain):
                raise Hl7Error(
                    ErrorCondition.UNKNOWN_KEY_IDENTIFIER,
                    f"XAD-PID {survivor.id_number} is not known",
                    _at("PID", 3, survivor.repetition),
                )
            # the local ID changed: the new one takes the old one's place
            db.link(conn, survivor.domain, survivor.id_number, subsumed)
            db.retire(conn, prior.domain, prior.id_number, subsumed)
            self._notify(conn, subsumed, changes)
            return
        target = survivor.link.patient_id
        db.retire(conn, prior.domain, prior.id_number, target)
        if target == subsumed:  # two local IDs of one patient: the prior one goes
            self._notify(conn, target, changes)
            return
        rows = db.patients(conn, [subsumed, target])
        gone, kept = rows[subsumed], rows[target]
        db.move_identifiers(conn, subsumed, target)
        xad_domain = self.store.find_domain(conn, self._xad_hd)
        if xad_domain is not None and gone.xad_pid:
            db.retire(conn, xad_domain, gone.xad_pid, target)
        db.mark_merged(conn, subsumed, kept.xad_pid)
        # ITI TF-2a 3.8.4.2: the registry merges the subsumed XAD-PID into the surviving one
        self._to_registry(conn, "A40", kept.xad_pid, Demographics.of_row(kept), changes, gone.xad_pid)
        self._notify(conn, target, changes)

    # --- outbox ------------------------------------------------------------------------------------------

    def _to_registry(
        self,
        conn: Connection,
        event: str,
        xad_pid: str,
        demographics: Demographics,
        changes: _Changes,
        prior: str | None = None,
    ) -> None:
        if self.config.registry is None:
            return
        control, message = registry_feed(self.config, event, xad_pid, demographics, prior)
        db.enqueue(conn, REGISTRY_TARGET, event, control, message)
        changes.targets.add(REGISTRY_TARGET)

    def _notify(self, conn: Connection, patient_id: int, changes: _Changes) -> None:
        if not self.config.subscribers:
            return
        row: Row | None = db.get_patient(conn, patient_id)
        assert row is not None
        links = db.identifiers_of(self.store, conn, [patient_id])[patient_id]
        for subscriber, control, message in iti10.notifications(self.config, links, Demographics.of_row(row)):
            db.enqueue(conn, subscriber.name, "A31", control, message)
            changes.targets.add(subscriber.name)

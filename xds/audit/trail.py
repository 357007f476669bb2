"""The node's audit trail: one per process, installed by ``xds up`` / ``xds serve``, used by the protocol
layers so that every actor's transactions are audited without the actor doing anything.

The SOAP endpoint (xds.soap) and the MLLP listener (xds.mllp) call ``current()`` after each answer and hand
it the exchange; with no trail installed (a library user, most unit tests) nothing is recorded.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from xds.audit.events import ANONYMOUS, Exchange, Node, StudyPatients, hl7_record, soap_record
from xds.audit.message import AuditMessage
from xds.audit.sender import AuditSender, Destination, Outbox
from xds.config import ConfigError, Settings
from xds.tls import client_context
from xds.transactions import Transaction

log = logging.getLogger(__name__)

_current: AuditTrail | None = None
_study_patients: StudyPatients | None = None
_lock = threading.Lock()


class AuditTrail:
    def __init__(self, settings: Settings) -> None:
        host = socket.gethostname()
        self.node = Node(settings.audit_source_id or host, settings.domain_oid, host)
        destination = audit_destination(settings)
        tls = client_context(settings)
        self.sender = AuditSender(
            Outbox(outbox_path(settings)),
            destination,
            hostname=host,
            app_name="xds",
            tls=tls if destination is None or destination.scheme == "tls" else None,
        )

    def record(self, message: AuditMessage) -> None:
        self.sender.record(message)

    def soap(self, exchange: Exchange, *, initiator: bool = False) -> None:
        """Record a SOAP transaction this node answered (or sent); an audit failure is logged, never the
        transaction's. An answered request is no longer touched by anyone, so its record is built on the
        writer thread (with any database look-up it needs); a sent one may be reused by the caller, so
        its record is built at once."""

        def build() -> list[AuditMessage]:
            message = soap_record(self.node, exchange, initiator=initiator, study_patients=_study_patients)
            return [] if message is None else [message]

        if not initiator:
            self.sender.record(build)
            return
        try:
            for message in build():
                self.record(message)
        except Exception:
            log.exception("audit: cannot record %s", exchange.transaction.info.code)

    def sent(self, transaction: Transaction, url: str, request: etree._Element, status: str | None) -> None:
        """Record a SOAP request this node sent to ``url`` (ITI-41/42 as source, ITI-18/43 as consumer)."""
        exchange = Exchange(transaction, ANONYMOUS, self.node.host, url, request, status,
                            endpoint_host=urlsplit(url).hostname)
        self.soap(exchange, initiator=True)

    def hl7(
        self, request: bytes, reply: bytes, peer_host: str | None, endpoint: str, *, initiator: bool = False
    ) -> None:
        """Record an HL7 v2 message this node answered (ITI-8, ITI-9, ITI-21) or, ``initiator``, sent to
        ``peer_host`` and had answered (ITI-8 as Patient Identity Source, ITI-10 as PIX Manager)."""
        def build() -> list[AuditMessage]:  # the messages are bytes: built later, on the writer thread
            message = hl7_record(self.node, request, reply, peer_host, endpoint, initiator=initiator)
            return [] if message is None else [message]

        self.sender.record(build)

    def build(self, what: str, builder: Callable[[Node], Iterable[AuditMessage]]) -> None:
        """Record the messages ``builder`` makes for this node (the DICOM services use the builders of
        xds.audit.events); like every audit failure, one here is logged, never the transaction's."""
        try:
            for message in builder(self.node):
                self.record(message)
        except Exception:
            log.exception("audit: cannot record %s", what)

    def start(self) -> None:
        self.sender.start()

    def stop(self) -> None:
        self.sender.stop()


def audit_destination(settings: Settings) -> Destination | None:
    """The configured Audit Record Repository; ConfigError for one this node cannot reach as configured."""
    if not settings.audit_repository:
        return None
    destination = Destination.parse(settings.audit_repository)
    if destination.scheme == "tls" and not settings.tls_cert:
        # RFC 5425 is syslog over TLS: without the node's certificate there is no such connection
        raise ConfigError("audit_repository: tls:// needs tls_cert, tls_key and tls_ca (or use tcp://)")
    return destination


def outbox_path(settings: Settings) -> Path:
    return settings.data_dir / "audit" / "outbox.sqlite"


def install(trail: AuditTrail | None) -> None:
    global _current
    with _lock:
        _current = trail


def current() -> AuditTrail | None:
    return _current


def set_study_patients(resolver: StudyPatients | None) -> None:
    """Who the patients of studies are, for the records of requests that name only studies (RAD-69); the
    Imaging Document Source of this process sets it."""
    global _study_patients
    _study_patients = resolver

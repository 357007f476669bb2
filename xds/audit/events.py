"""The audit record of each transaction, as the responding actor writes it (ITI TF-2a 3.18.5.1, ITI TF-2b
3.41.5.1, 3.42.5.1, 3.43.5.1, ITI TF-2a 3.8.5.1, 3.9.5.1, 3.21.5.1, RAD TF-3 4.69.5).

Built from the request as it arrived (ebRIM elements, HL7 v2 fields) and the outcome, so that any actor
that serves the transaction gets the same record: the event, the two active participants (Source = the
requestor, Destination = this node), and the participant objects the framework names (patient,
SubmissionSet, documents, query).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from xds.audit.message import (
    Action,
    ActiveParticipant,
    AuditMessage,
    ObjectRole,
    ObjectType,
    Outcome,
    ParticipantObject,
)
from xds.hl7v2 import Er7Message, Hl7Error, split_message
from xds.transactions import Transaction
from xds.vocabulary import (
    AUDIT_EVENT_EXPORT,
    AUDIT_EVENT_IMPORT,
    AUDIT_EVENT_PATIENT_RECORD,
    AUDIT_EVENT_QUERY,
    AUDIT_ID_PATIENT_NUMBER,
    AUDIT_ID_REPORT_NUMBER,
    AUDIT_ID_SUBMISSION_SET,
    AUDIT_ROLE_DESTINATION,
    AUDIT_ROLE_SOURCE,
    AUDIT_SOURCE_APPLICATION_SERVER,
    CLASSIFICATION_NODE_SUBMISSION_SET,
    NS_RIM,
    NS_XDSB,
    SS_PATIENT_ID,
    SS_UNIQUE_ID,
    ResponseStatus,
)

ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
_RIM = f"{{{NS_RIM}}}"
_XDSB = f"{{{NS_XDSB}}}"
# what the responder of each SOAP transaction records: EventID and EventActionCode
_SOAP_EVENTS = {
    Transaction.ITI_18: (AUDIT_EVENT_QUERY, Action.EXECUTE),
    Transaction.ITI_41: (AUDIT_EVENT_IMPORT, Action.CREATE),
    Transaction.ITI_42: (AUDIT_EVENT_IMPORT, Action.CREATE),
    Transaction.ITI_43: (AUDIT_EVENT_EXPORT, Action.READ),
    Transaction.RAD_69: (AUDIT_EVENT_EXPORT, Action.READ),
}
# and what the initiator records (the source sends, the consumer queries and imports)
_CLIENT_EVENTS = {
    Transaction.ITI_18: (AUDIT_EVENT_QUERY, Action.EXECUTE),
    Transaction.ITI_41: (AUDIT_EVENT_EXPORT, Action.READ),
    Transaction.ITI_42: (AUDIT_EVENT_EXPORT, Action.READ),
    Transaction.ITI_43: (AUDIT_EVENT_IMPORT, Action.CREATE),
    Transaction.RAD_69: (AUDIT_EVENT_IMPORT, Action.CREATE),
}


@dataclass(frozen=True)
class Node:
    """Who writes the records: AuditSourceID, the enterprise site (the affinity domain) and our host."""

    source_id: str
    site: str | None
    host: str


@dataclass(frozen=True)
class Exchange:
    """One request answered by this node."""

    transaction: Transaction
    requestor: str  # WS-A ReplyTo, or the MLLP sending application
    requestor_host: str | None
    endpoint: str  # where we answered: URL or host:port
    request: etree._Element | None  # the SOAP Body child
    status: str | None  # the answer's ResponseStatus / HL7 acknowledgment code
    query_xml: bytes | None = None  # ITI-18: the AdhocQueryRequest as received
    endpoint_host: str | None = None  # None: this node (it answered)


def outcome_of(status: str | None) -> Outcome:
    # ITI TF-2a 3.20.7: EventOutcomeIndicator 0 success, 4 minor failure (partial), 8 serious failure
    if status in (ResponseStatus.SUCCESS, "AA", "CA"):
        return Outcome.SUCCESS
    if status == ResponseStatus.PARTIAL_SUCCESS:
        return Outcome.MINOR_FAILURE
    return Outcome.SERIOUS_FAILURE


def soap_record(node: Node, exchange: Exchange, *, initiator: bool = False) -> AuditMessage | None:
    """The record of a SOAP transaction this node answered (or, ``initiator``, sent); None for one that
    is not audited."""
    event = (_CLIENT_EVENTS if initiator else _SOAP_EVENTS).get(exchange.transaction)
    if event is None:
        return None
    event_id, action = event
    return AuditMessage(
        event=event_id,
        action=action,
        outcome=outcome_of(exchange.status),
        source_id=node.source_id,
        enterprise_site=node.site,
        source_type=AUDIT_SOURCE_APPLICATION_SERVER,
        event_types=(exchange.transaction.info.audit_event,),
        participants=participants(node, exchange),
        objects=tuple(_objects(exchange)),
    )


def participants(node: Node, exchange: Exchange) -> tuple[ActiveParticipant, ...]:
    # ITI TF-2a 3.20.7 (and each transaction's 5.1 table): Source = the requestor, Destination = us
    return (
        ActiveParticipant(exchange.requestor, True, AUDIT_ROLE_SOURCE,
                          network_access_point=exchange.requestor_host),
        ActiveParticipant(exchange.endpoint, False, AUDIT_ROLE_DESTINATION,
                          network_access_point=exchange.endpoint_host or node.host),
    )


def patient(patient_id: str) -> ParticipantObject:
    return ParticipantObject(patient_id, ObjectType.PERSON, ObjectRole.PATIENT, AUDIT_ID_PATIENT_NUMBER)


def _objects(exchange: Exchange) -> list[ParticipantObject]:
    request, tx = exchange.request, exchange.transaction
    if request is None:
        return []
    if tx in (Transaction.ITI_41, Transaction.ITI_42):
        return _submission_objects(request)
    if tx == Transaction.ITI_18:
        return _query_objects(request, exchange.query_xml)
    return _retrieve_objects(request)


def _submission_objects(request: etree._Element) -> list[ParticipantObject]:
    """ITI TF-2b 3.42.5.1.2: the patient and the SubmissionSet (its uniqueId)."""
    objects: list[ParticipantObject] = []
    for package in request.iter(f"{_RIM}RegistryPackage"):
        package_id = package.get("id")
        nodes = [
            c for c in request.iter(f"{_RIM}Classification")
            if c.get("classifiedObject") == package_id
            and c.get("classificationNode") == CLASSIFICATION_NODE_SUBMISSION_SET
        ]
        if not nodes:
            continue
        identifiers = {
            e.get("identificationScheme"): e.get("value")
            for e in request.iter(f"{_RIM}ExternalIdentifier")
            if e.get("registryObject") == package_id
        }
        if identifiers.get(SS_PATIENT_ID):
            objects.append(patient(identifiers[SS_PATIENT_ID]))
        if identifiers.get(SS_UNIQUE_ID):
            objects.append(ParticipantObject(identifiers[SS_UNIQUE_ID], ObjectType.SYSTEM, ObjectRole.JOB,
                                             AUDIT_ID_SUBMISSION_SET))
    return objects


def _query_objects(request: etree._Element, query_xml: bytes | None) -> list[ParticipantObject]:
    """ITI TF-2a 3.18.5.1.2: the patient named by the query, and the query itself (base64 of the
    AdhocQueryRequest, QueryEncoding UTF-8)."""
    objects: list[ParticipantObject] = []
    query = request.find(f"{_RIM}AdhocQuery")
    if query is None:
        return objects
    for slot in query.iter(f"{_RIM}Slot"):
        if slot.get("name", "").endswith("PatientId"):
            for value in slot.iter(f"{_RIM}Value"):
                objects.append(patient((value.text or "").strip().strip("'")))
    body = query_xml if query_xml is not None else etree.tostring(request)
    objects.append(
        ParticipantObject(
            query.get("id", ""),
            ObjectType.SYSTEM,
            ObjectRole.QUERY,
            Transaction.ITI_18.info.audit_event,
            query=body,
            details=(("QueryEncoding", b"UTF-8"),),
        )
    )
    return objects


def _retrieve_objects(request: etree._Element) -> list[ParticipantObject]:
    """ITI TF-2b 3.43.5.1.2 / RAD TF-3 4.69.5: one object per requested document, with its repository and
    community."""
    objects = []
    for document in request.iter(f"{_XDSB}DocumentRequest"):
        unique_id = document.findtext(f"{_XDSB}DocumentUniqueId") or ""
        details = [("Repository Unique Id", (document.findtext(f"{_XDSB}RepositoryUniqueId") or "").encode())]
        home = document.findtext(f"{_XDSB}HomeCommunityId")
        if home:
            details.append(("ihe:homeCommunityID", home.encode()))
        objects.append(ParticipantObject(unique_id, ObjectType.SYSTEM, ObjectRole.REPORT,
                                         AUDIT_ID_REPORT_NUMBER, details=tuple(details)))
    return objects


def feed_record(node: Node, exchange: Exchange, patient_ids: list[str], update: bool) -> AuditMessage:
    """ITI TF-2a 3.8.5.1: Patient Record event, Create (A01/A04/A05) or Update (A08/A40), per patient."""
    return AuditMessage(
        event=AUDIT_EVENT_PATIENT_RECORD,
        action=Action.UPDATE if update else Action.CREATE,
        outcome=outcome_of(exchange.status),
        source_id=node.source_id,
        enterprise_site=node.site,
        source_type=AUDIT_SOURCE_APPLICATION_SERVER,
        event_types=(exchange.transaction.info.audit_event,),
        participants=participants(node, exchange),
        objects=tuple(patient(p) for p in patient_ids),
    )


# --- HL7 v2 over MLLP -----------------------------------------------------------------------------------

# ITI TF-2a 3.8.5.1: A01/A04/A05 create a patient record, A08 and A40 update one
_FEED_UPDATES = frozenset({"A08", "A40"})
_FEED_EVENTS = frozenset({"A01", "A04", "A05"}) | _FEED_UPDATES
_QUERIES = {"Q23": Transaction.ITI_9, "Q22": Transaction.ITI_21}


def hl7_record(
    node: Node, request: bytes, reply: bytes, peer_host: str | None, endpoint: str
) -> AuditMessage | None:
    """The record of an HL7 v2 message this node answered: ITI-8 (ADT) or ITI-9/ITI-21 (QBP)."""
    try:
        message = split_message(request)
        answer = split_message(reply)
    except Hl7Error:
        return None  # not HL7 enough to say what was asked; the ACK said why
    msh = message.msh
    kind = msh.value(9).split("^")
    if len(kind) < 2:
        return None
    msa = answer.find("MSA")
    status = msa[0].value(1) if msa else None
    requestor = "|".join(filter(None, (msh.value(3), msh.value(4)))) or "unknown"
    receiver = "|".join(filter(None, (msh.value(5), msh.value(6)))) or endpoint
    if kind[0] == "ADT" and kind[1] in _FEED_EVENTS:
        exchange = Exchange(Transaction.ITI_8, requestor, peer_host, receiver, None, status)
        ids = [cx for pid in message.find("PID") for cx in pid.repetitions(3)]
        ids += [mrg.value(1) for mrg in message.find("MRG")]  # A40: the subsumed ID as well
        return feed_record(node, exchange, [i for i in ids if i], kind[1] in _FEED_UPDATES)
    if kind[0] == "QBP" and kind[1] in _QUERIES:
        tx = _QUERIES[kind[1]]
        exchange = Exchange(tx, requestor, peer_host, receiver, None, status)
        return _hl7_query_record(node, exchange, message, msh.value(10))
    return None


def _hl7_query_record(node: Node, exchange: Exchange, message: Er7Message, control_id: str) -> AuditMessage:
    """ITI TF-2a 3.9.5.1 / 3.21.5.1: the patient asked about (ITI-9), and the query: QPD as sent, base64,
    with MSH-10 as a detail."""
    qpd = message.find("QPD")
    objects: list[ParticipantObject] = []
    if exchange.transaction == Transaction.ITI_9 and qpd and qpd[0].value(3):
        objects.append(patient(qpd[0].value(3)))
    if qpd:
        text = exchange.transaction.info.audit_event
        segment = qpd[0].encoding.field.join((qpd[0].name, *qpd[0].fields))
        objects.append(
            ParticipantObject(
                qpd[0].value(1).split("^")[0] or text[0],
                ObjectType.SYSTEM,
                ObjectRole.QUERY,
                text,
                query=segment.encode("utf-8"),
                details=(("MSH-10", control_id.encode()),),
            )
        )
    return AuditMessage(
        event=AUDIT_EVENT_QUERY,
        action=Action.EXECUTE,
        outcome=outcome_of(exchange.status),
        source_id=node.source_id,
        enterprise_site=node.site,
        source_type=AUDIT_SOURCE_APPLICATION_SERVER,
        event_types=(exchange.transaction.info.audit_event,),
        participants=participants(node, exchange),
        objects=tuple(objects),
    )

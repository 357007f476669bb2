"""The audit record of each transaction, as the responding actor writes it (ITI TF-2a 3.18.5.1, ITI TF-2b
3.41.5.1, 3.42.5.1, 3.43.5.1, ITI TF-2a 3.8.5.1, 3.9.5.1, 3.21.5.1, RAD TF-3 4.69.5).

Built from the request as it arrived (ebRIM elements, HL7 v2 fields) and the outcome, so that any actor
that serves the transaction gets the same record: the event, the two active participants (Source = the
requestor, Destination = this node), and the participant objects the framework names (patient,
SubmissionSet, documents, query).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from xds.audit.message import (
    Action,
    ActiveParticipant,
    AuditMessage,
    Coded,
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
    AUDIT_EVENT_INSTANCES_TRANSFERRED,
    AUDIT_EVENT_PATIENT_RECORD,
    AUDIT_EVENT_QUERY,
    AUDIT_ID_PATIENT_NUMBER,
    AUDIT_ID_REPORT_NUMBER,
    AUDIT_ID_SOP_CLASS_UID,
    AUDIT_ID_STUDY_INSTANCE_UID,
    AUDIT_ID_SUBMISSION_SET,
    AUDIT_ROLE_DESTINATION,
    AUDIT_ROLE_SOURCE,
    AUDIT_SOURCE_APPLICATION_SERVER,
    CLASSIFICATION_NODE_SUBMISSION_SET,
    NS_RIM,
    NS_RS,
    NS_XDSB,
    NS_XDSI,
    SS_PATIENT_ID,
    SS_UNIQUE_ID,
    ResponseStatus,
)

ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
_RIM = f"{{{NS_RIM}}}"
_XDSB = f"{{{NS_XDSB}}}"
_XDSI = f"{{{NS_XDSI}}}"
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
    Transaction.RAD_68: (AUDIT_EVENT_EXPORT, Action.READ),  # RAD TF-3 4.68.5: as the ITI-41 source
    Transaction.RAD_69: (AUDIT_EVENT_IMPORT, Action.CREATE),
}
# the patients of studies (Study Instance UID -> patient ID), for records whose request names only studies
StudyPatients = Callable[[Sequence[str]], Mapping[str, str]]


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


def answer_status(answer: etree._Element | bytes | None) -> str | None:
    """The ResponseStatus of a SOAP answer: RegistryResponse / AdhocQueryResponse carry it; a
    RetrieveDocumentSetResponse in its RegistryResponse; a serialized answer on its root element."""
    if answer is None:
        return None
    if isinstance(answer, etree._Element):
        if answer.get("status") is not None:
            return answer.get("status")
        return next((e.get("status") for e in answer.iter(_REGISTRY_RESPONSE)), None)
    match = _STATUS.search(answer, 0, 2048)
    return match.group(1).decode() if match else None


_REGISTRY_RESPONSE = f"{{{NS_RS}}}RegistryResponse"
_STATUS = re.compile(rb'<[^>]*?\sstatus="([^"]*)"')


def outcome_of(status: str | None) -> Outcome:
    # ITI TF-2a 3.20.7: EventOutcomeIndicator 0 success, 4 minor failure (partial), 8 serious failure
    if status in (ResponseStatus.SUCCESS, "AA", "CA"):
        return Outcome.SUCCESS
    if status == ResponseStatus.PARTIAL_SUCCESS:
        return Outcome.MINOR_FAILURE
    return Outcome.SERIOUS_FAILURE


def soap_record(
    node: Node, exchange: Exchange, *, initiator: bool = False, study_patients: StudyPatients | None = None
) -> AuditMessage | None:
    """The record of a SOAP transaction this node answered (or, ``initiator``, sent); None for one that
    is not audited. ``study_patients`` names the patients of the studies a RAD-69 request asks for."""
    event = (_CLIENT_EVENTS if initiator else _SOAP_EVENTS).get(exchange.transaction)
    if event is None:
        return None
    event_id, action = event
    objects = _objects(exchange)
    if exchange.transaction == Transaction.RAD_69 and exchange.request is not None:
        objects = _imaging_retrieve_objects(exchange.request, study_patients) + objects
    return exchange_record(node, exchange, event_id, action, objects)


# data flowing to the requestor: the answering node is the Source (ITI TF-2b 3.43.5.1, RAD TF-3 4.69.5)
_TO_REQUESTOR = frozenset({Transaction.ITI_43, Transaction.RAD_69})


def exchange_record(
    node: Node, exchange: Exchange, event: Coded, action: Action, objects: Sequence[ParticipantObject]
) -> AuditMessage:
    """The record of one request/answer exchange: its outcome, the transaction, both participants."""
    return AuditMessage(
        event=event,
        action=action,
        outcome=outcome_of(exchange.status),
        source_id=node.source_id,
        enterprise_site=node.site,
        source_type=AUDIT_SOURCE_APPLICATION_SERVER,
        event_types=(exchange.transaction.info.audit_event,),
        participants=participants(node, exchange),
        objects=tuple(objects),
    )


def participants(node: Node, exchange: Exchange) -> tuple[ActiveParticipant, ...]:
    # ITI TF-2a 3.20.7 (and each transaction's 5.1 table): Source = the requestor, Destination = the node
    # that answered -- except for a retrieve, where the documents go from the answering node to the requestor
    to_requestor = exchange.transaction in _TO_REQUESTOR
    return (
        ActiveParticipant(exchange.requestor, True,
                          AUDIT_ROLE_DESTINATION if to_requestor else AUDIT_ROLE_SOURCE,
                          network_access_point=exchange.requestor_host),
        ActiveParticipant(exchange.endpoint, False,
                          AUDIT_ROLE_SOURCE if to_requestor else AUDIT_ROLE_DESTINATION,
                          network_access_point=exchange.endpoint_host or node.host),
    )


def patient(patient_id: str) -> ParticipantObject:
    return ParticipantObject(patient_id, ObjectType.PERSON, ObjectRole.PATIENT, AUDIT_ID_PATIENT_NUMBER)


def _objects(exchange: Exchange) -> list[ParticipantObject]:
    request, tx = exchange.request, exchange.transaction
    if request is None:
        return []
    if tx in (Transaction.ITI_41, Transaction.ITI_42, Transaction.RAD_68):
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


def _imaging_retrieve_objects(
    request: etree._Element, study_patients: StudyPatients | None
) -> list[ParticipantObject]:
    """RAD TF-3 4.69.5 (after PS3.15 A.5.3.4 Export): the patient and the studies asked for, before the
    requested instances (one object each, as ITI-43 names its documents)."""
    studies = [s.get("studyInstanceUID") or "" for s in request.iter(f"{_XDSI}StudyRequest")]
    known = study_patients(studies) if study_patients is not None else {}
    patients = list(dict.fromkeys(known[s] for s in studies if known.get(s)))
    return [patient(p) for p in patients] + [study_object(s) for s in dict.fromkeys(studies) if s]


def feed_record(node: Node, exchange: Exchange, patient_ids: list[str], update: bool) -> AuditMessage:
    """ITI TF-2a 3.8.5.1: Patient Record event, Create (A01/A04/A05) or Update (A08/A40), per patient."""
    action = Action.UPDATE if update else Action.CREATE
    objects = [patient(p) for p in patient_ids]
    return exchange_record(node, exchange, AUDIT_EVENT_PATIENT_RECORD, action, objects)


# --- HL7 v2 over MLLP -----------------------------------------------------------------------------------

# ITI TF-2a 3.8.5.1: A01/A04/A05 create a patient record, A08 and A40 update one
_FEED_UPDATES = frozenset({"A08", "A40"})
_FEED_EVENTS = frozenset({"A01", "A04", "A05"}) | _FEED_UPDATES
_QUERIES = {"Q23": Transaction.ITI_9, "Q22": Transaction.ITI_21}
_NOTIFICATION = "A31"  # ITI TF-2a 3.10.4.1: the PIX Update Notification


def ack_code(reply: bytes) -> str | None:
    """MSA-1 of an acknowledgment (HL7 v2.5 2.14.8), read without parsing the whole message."""
    if len(reply) < 4 or not reply.startswith(b"MSH"):
        return None
    separator = reply[3:4]
    for segment in reply.replace(b"\n", b"\r").split(b"\r"):
        if segment.startswith(b"MSA" + separator):
            fields = segment.split(separator)
            return fields[1].decode("ascii", "replace") if len(fields) > 1 else None
    return None


def hl7_record(
    node: Node, request: bytes, reply: bytes, peer_host: str | None, endpoint: str, *, initiator: bool = False
) -> AuditMessage | None:
    """The record of an HL7 v2 message this node answered: ITI-8 (ADT) or ITI-9/ITI-21 (QBP); with
    ``initiator``, of one it sent to ``peer_host`` (the Patient Identity Source's ITI-8, ITI TF-2a 3.8.5.1.1,
    and the PIX Manager's ITI-10, 3.10.5.1.1). MSH-3/4 is the Source, MSH-5/6 the Destination either way."""
    try:
        message = split_message(request)
    except Hl7Error:
        return None  # not HL7 enough to say what was asked; the ACK said why
    msh = message.msh
    kind = msh.value(9).split("^")
    if len(kind) < 2:
        return None
    status = ack_code(reply)
    requestor = "|".join(filter(None, (msh.value(3), msh.value(4)))) or "unknown"
    receiver = "|".join(filter(None, (msh.value(5), msh.value(6)))) or endpoint

    def exchange(tx: Transaction) -> Exchange:
        if initiator:  # we sent it from this host; the peer answered
            return Exchange(tx, requestor, node.host, receiver, None, status, endpoint_host=peer_host)
        return Exchange(tx, requestor, peer_host, receiver, None, status)

    if kind[0] == "ADT" and kind[1] in _FEED_EVENTS | {_NOTIFICATION}:
        tx = Transaction.ITI_10 if kind[1] == _NOTIFICATION else Transaction.ITI_8
        ids = [cx for pid in message.find("PID") for cx in pid.repetitions(3)]
        ids += [mrg.value(1) for mrg in message.find("MRG")]  # A40: the subsumed ID as well
        # ITI TF-2a 3.10.5.1: an update notification changes the patient's record at the consumer
        update = kind[1] in _FEED_UPDATES or tx == Transaction.ITI_10
        return feed_record(node, exchange(tx), [i for i in ids if i], update)
    if kind[0] == "QBP" and kind[1] in _QUERIES:
        return _hl7_query_record(node, exchange(_QUERIES[kind[1]]), message, msh.value(10))
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
    return exchange_record(node, exchange, AUDIT_EVENT_QUERY, Action.EXECUTE, objects)


# --- DICOM (PS3.15 A.5.3) and DICOMweb at the Imaging Document Source ----------------------------------


@dataclass(frozen=True)
class DicomPeer:
    """One side of a DICOM association (AE title and host), or a web client (user and host)."""

    ae_title: str
    host: str | None
    web: bool = False  # a DICOMweb client: no AE title

    def participant(self, requestor: bool, role: Coded | None) -> ActiveParticipant:
        # PS3.15 A.5.2.1: the AE titles of a DICOM application go in AlternativeUserID as "AETITLES=..."
        alternative = None if self.web else f"AETITLES={self.ae_title}"
        return ActiveParticipant(self.ae_title, requestor, role, alternative_user_id=alternative,
                                 network_access_point=self.host)


@dataclass
class StudyTransfer:
    """The instances of one study that went in one association (or one web request)."""

    study_uid: str
    patient_id: str | None
    sop_classes: dict[str, int] = field(default_factory=dict)  # SOP Class UID -> number of instances

    def add(self, sop_class_uid: str) -> None:
        self.sop_classes[sop_class_uid] = self.sop_classes.get(sop_class_uid, 0) + 1


def study_object(study_uid: str, sop_classes: Mapping[str, int] | None = None) -> ParticipantObject:
    """PS3.15 A.5.3.7 / A.5.3.4: a study is ParticipantObjectTypeCode 2, role 3 (Report), ID type 110180;
    its SOP Classes and their instance counts go in the description (our schema has no SOPClass element)."""
    counts = sorted((sop_classes or {}).items())
    descriptions = tuple(f"SOPClass {uid} NumberOfInstances {n}" for uid, n in counts)
    return ParticipantObject(study_uid, ObjectType.SYSTEM, ObjectRole.REPORT, AUDIT_ID_STUDY_INSTANCE_UID,
                             descriptions=descriptions)


def _by_patient(studies: Sequence[StudyTransfer]) -> dict[str | None, list[StudyTransfer]]:
    groups: dict[str | None, list[StudyTransfer]] = {}
    for study in studies:
        groups.setdefault(study.patient_id or None, []).append(study)
    return groups


def _dicom_message(
    node: Node, event: Coded, action: Action, outcome: Outcome, event_type: Coded | None,
    participants: Sequence[ActiveParticipant], objects: Sequence[ParticipantObject], description: str | None,
) -> AuditMessage:
    return AuditMessage(
        event=event,
        action=action,
        outcome=outcome,
        source_id=node.source_id,
        enterprise_site=node.site,
        source_type=AUDIT_SOURCE_APPLICATION_SERVER,
        event_types=(event_type,) if event_type else (),
        participants=tuple(participants),
        objects=tuple(objects),
        outcome_description=description,
    )


def transfer_participants(
    source: DicomPeer, destination: DicomPeer, requestor: DicomPeer
) -> list[ActiveParticipant]:
    """PS3.15 A.5.3.7: the process that sent (Source), the one that received (Destination), and any other
    known participant -- the C-MOVE requestor when it is neither."""
    out = [
        source.participant(source == requestor, AUDIT_ROLE_SOURCE),
        destination.participant(destination == requestor, AUDIT_ROLE_DESTINATION),
    ]
    if requestor not in (source, destination):
        out.append(requestor.participant(True, None))
    return out


def instances_transferred(
    node: Node,
    studies: Sequence[StudyTransfer],
    *,
    source: DicomPeer,
    destination: DicomPeer,
    requestor: DicomPeer,
    action: Action,
    outcome: Outcome,
    event_type: Coded | None,
    description: str | None = None,
) -> list[AuditMessage]:
    """PS3.15 A.5.3.7 DICOM Instances Transferred: one message per patient (the message "may only include
    information about a single patient"), naming every study of that patient the association carried --
    not one message per instance. ``action`` is C (the receiver creates copies) or R (the sender read
    them out: C-MOVE / C-GET / export)."""
    return [
        _dicom_message(
            node, AUDIT_EVENT_INSTANCES_TRANSFERRED, action, outcome, event_type,
            transfer_participants(source, destination, requestor),
            ([patient(pid)] if pid else []) + [study_object(s.study_uid, s.sop_classes) for s in group],
            description,
        )
        for pid, group in (_by_patient(studies) or {None: []}).items()  # nothing moved: the failure
    ]


def exported(
    node: Node,
    studies: Sequence[StudyTransfer],
    *,
    source: DicomPeer,
    destination: DicomPeer,
    outcome: Outcome,
    event_type: Coded,
    description: str | None = None,
) -> list[AuditMessage]:
    """PS3.15 A.5.3.4 Export (RAD-55 WADO-URI, RAD-107 WADO-RS): the exporting process (Source), the web
    client that asked (Destination, the requestor), the patient and the studies; one message per patient."""
    participants = [source.participant(False, AUDIT_ROLE_SOURCE),
                    destination.participant(True, AUDIT_ROLE_DESTINATION)]
    return [
        _dicom_message(
            node, AUDIT_EVENT_EXPORT, Action.READ, outcome, event_type, participants,
            ([patient(pid)] if pid else []) + [study_object(s.study_uid, s.sop_classes) for s in group],
            description,
        )
        for pid, group in (_by_patient(studies) or {None: []}).items()  # nothing moved: the failure
    ]


def dicom_query(
    node: Node,
    *,
    requestor: DicomPeer,
    responder: DicomPeer,
    sop_class_uid: str,
    identifier: bytes,
    transfer_syntax_uid: str,
    patient_id: str | None,
    outcome: Outcome,
    event_type: Coded | None,
    description: str | None = None,
) -> AuditMessage:
    """PS3.15 A.5.3.10 Query (C-FIND, RAD-14): the querying process (Source, the requestor), the responder
    (Destination), and the SOP Class queried (ID type 110181) with the C-FIND identifier as sent in
    ParticipantObjectQuery and its transfer syntax as detail; the patient when the query names one."""
    query = ParticipantObject(
        sop_class_uid, ObjectType.SYSTEM, ObjectRole.REPORT, AUDIT_ID_SOP_CLASS_UID,
        query=identifier, details=(("TransferSyntax", transfer_syntax_uid.encode("ascii")),),
    )
    objects = ([patient(patient_id)] if patient_id else []) + [query]
    participants = [requestor.participant(True, AUDIT_ROLE_SOURCE),
                    responder.participant(False, AUDIT_ROLE_DESTINATION)]
    return _dicom_message(node, AUDIT_EVENT_QUERY, Action.EXECUTE, outcome, event_type, participants, objects,
                          description)

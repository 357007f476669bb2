"""One audit record in the DICOM audit message format (DICOM PS3.15 A.5.1), as ITI-20 sends it.

The model is plain data; ``to_xml`` writes the AuditMessage element in the schema's order: one
EventIdentification, the ActiveParticipants, one AuditSourceIdentification, the ParticipantObjects.
``schemas/audit/dicom-audit-message.xsd`` (ours, written from PS3.15 A.5.1) checks what we write.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

from lxml import etree

Coded = tuple[str, str, str]  # (csd-code, codeSystemName, originalText) as in xds.vocabulary


class Action(StrEnum):
    """EventActionCode (PS3.15 A.5.1 / RFC 3881 5.1.2)."""

    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"


class Outcome(IntEnum):
    """EventOutcomeIndicator (PS3.15 A.5.1 / RFC 3881 5.1.4)."""

    SUCCESS = 0
    MINOR_FAILURE = 4
    SERIOUS_FAILURE = 8
    MAJOR_FAILURE = 12


class ObjectType(IntEnum):
    """ParticipantObjectTypeCode (RFC 3881 5.5.1)."""

    PERSON = 1
    SYSTEM = 2
    ORGANIZATION = 3
    OTHER = 4


class ObjectRole(IntEnum):
    """ParticipantObjectTypeCodeRole (RFC 3881 5.5.2), the roles the transactions use."""

    PATIENT = 1
    REPORT = 3
    JOB = 20
    QUERY = 24


@dataclass(frozen=True)
class ActiveParticipant:
    user_id: str
    requestor: bool
    role: Coded | None = None
    alternative_user_id: str | None = None
    user_name: str | None = None
    network_access_point: str | None = None  # host name (type 1) or IP address (type 2)

    @property
    def network_access_point_type(self) -> str | None:
        if self.network_access_point is None:
            return None
        point = self.network_access_point
        # RFC 3881 5.3.5: 1 = machine name, 2 = IP address
        return "2" if point.replace(".", "").isdigit() or ":" in point else "1"


@dataclass(frozen=True)
class ParticipantObject:
    object_id: str
    type_code: ObjectType
    role: ObjectRole
    id_type: Coded
    name: str | None = None
    query: bytes | None = None  # ParticipantObjectQuery, sent base64 encoded
    details: tuple[tuple[str, bytes], ...] = ()  # ParticipantObjectDetail type / value
    descriptions: tuple[str, ...] = ()  # ParticipantObjectDescription, e.g. the SOP Classes of a study


@dataclass(frozen=True)
class AuditMessage:
    event: Coded
    action: Action
    outcome: Outcome
    source_id: str  # AuditSourceIdentification/@AuditSourceID: this node
    participants: tuple[ActiveParticipant, ...]
    objects: tuple[ParticipantObject, ...] = ()
    event_types: tuple[Coded, ...] = ()  # the transaction (ITI TF-2a 3.20.7.1: e.g. ITI-42)
    outcome_description: str | None = None
    enterprise_site: str | None = None
    source_type: Coded | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def patients(self) -> list[str]:
        return [o.object_id for o in self.objects if o.role == ObjectRole.PATIENT]

    def to_xml(self) -> bytes:
        root = etree.Element("AuditMessage")
        event = etree.SubElement(
            root,
            "EventIdentification",
            EventActionCode=self.action.value,
            EventDateTime=self.time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            EventOutcomeIndicator=str(int(self.outcome)),
        )
        _coded(event, "EventID", self.event)
        for event_type in self.event_types:
            _coded(event, "EventTypeCode", event_type)
        if self.outcome_description:
            etree.SubElement(event, "EventOutcomeDescription").text = _safe(self.outcome_description)
        for p in self.participants:
            attributes = {
                "UserID": p.user_id,
                "AlternativeUserID": p.alternative_user_id,
                "UserName": p.user_name,
                "UserIsRequestor": "true" if p.requestor else "false",
                "NetworkAccessPointID": p.network_access_point,
                "NetworkAccessPointTypeCode": p.network_access_point_type,
            }
            element = etree.SubElement(root, "ActiveParticipant", _present(attributes))
            if p.role is not None:
                _coded(element, "RoleIDCode", p.role)
        source = etree.SubElement(
            root,
            "AuditSourceIdentification",
            _present({"AuditEnterpriseSiteID": self.enterprise_site, "AuditSourceID": self.source_id}),
        )
        if self.source_type is not None:
            _coded(source, "AuditSourceTypeCode", self.source_type)
        for o in self.objects:
            element = etree.SubElement(
                root,
                "ParticipantObjectIdentification",
                ParticipantObjectID=_safe(o.object_id),
                ParticipantObjectTypeCode=str(int(o.type_code)),
                ParticipantObjectTypeCodeRole=str(int(o.role)),
            )
            _coded(element, "ParticipantObjectIDTypeCode", o.id_type)
            # PS3.15 A.5.1: a name or a query, not both
            if o.query is not None:
                etree.SubElement(element, "ParticipantObjectQuery").text = base64.b64encode(o.query).decode()
            elif o.name is not None:
                etree.SubElement(element, "ParticipantObjectName").text = _safe(o.name)
            for detail_type, value in o.details:
                encoded = base64.b64encode(value).decode()
                etree.SubElement(element, "ParticipantObjectDetail", type=_safe(detail_type), value=encoded)
            for description in o.descriptions:
                etree.SubElement(element, "ParticipantObjectDescription").text = _safe(description)
        return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _coded(parent: etree._Element, tag: str, value: Coded) -> None:
    code, system, text = value
    values = {"csd-code": code, "codeSystemName": system, "originalText": text}
    etree.SubElement(parent, tag, {k: _safe(v) for k, v in values.items()})


def _present(attributes: dict[str, str | None]) -> dict[str, str]:
    return {k: _safe(v) for k, v in attributes.items() if v is not None}


# XML 1.0 section 2.2: the characters a document may hold; anything else a peer sent (a control character
# in an HL7 field, say) is replaced, so that the record is still written and says what came in
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)

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
        # written as text, not through an element tree: an audit record is made for every transaction,
        # and this is several times faster; the schema tests check the result
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<AuditMessage>']
        when = self.time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out.append(
            _start("EventIdentification", EventActionCode=self.action.value, EventDateTime=when,
                   EventOutcomeIndicator=str(int(self.outcome)))
        )
        out.append(_coded("EventID", self.event))
        out += [_coded("EventTypeCode", event_type) for event_type in self.event_types]
        if self.outcome_description:
            out.append(_text("EventOutcomeDescription", self.outcome_description))
        out.append("</EventIdentification>")
        for p in self.participants:
            out.append(
                _start(
                    "ActiveParticipant",
                    UserID=p.user_id,
                    AlternativeUserID=p.alternative_user_id,
                    UserName=p.user_name,
                    UserIsRequestor="true" if p.requestor else "false",
                    NetworkAccessPointID=p.network_access_point,
                    NetworkAccessPointTypeCode=p.network_access_point_type,
                )
            )
            if p.role is not None:
                out.append(_coded("RoleIDCode", p.role))
            out.append("</ActiveParticipant>")
        out.append(
            _start("AuditSourceIdentification", AuditEnterpriseSiteID=self.enterprise_site,
                   AuditSourceID=self.source_id)
        )
        if self.source_type is not None:
            out.append(_coded("AuditSourceTypeCode", self.source_type))
        out.append("</AuditSourceIdentification>")
        for o in self.objects:
            out.append(
                _start(
                    "ParticipantObjectIdentification",
                    ParticipantObjectID=o.object_id,
                    ParticipantObjectTypeCode=str(int(o.type_code)),
                    ParticipantObjectTypeCodeRole=str(int(o.role)),
                )
            )
            out.append(_coded("ParticipantObjectIDTypeCode", o.id_type))
            # PS3.15 A.5.1: a name or a query, not both
            if o.query is not None:
                out.append(_text("ParticipantObjectQuery", base64.b64encode(o.query).decode()))
            elif o.name is not None:
                out.append(_text("ParticipantObjectName", o.name))
            for detail_type, value in o.details:
                encoded = base64.b64encode(value).decode()
                out.append(_start("ParticipantObjectDetail", type=detail_type, value=encoded, empty=True))
            out += [_text("ParticipantObjectDescription", d) for d in o.descriptions]
            out.append("</ParticipantObjectIdentification>")
        out.append("</AuditMessage>")
        return "".join(out).encode("utf-8")


def _coded(tag: str, value: Coded) -> str:
    code, system, text = value
    return _start(tag, empty=True, **{"csd-code": code, "codeSystemName": system, "originalText": text})


def _start(tag: str, *, empty: bool = False, **attributes: str | None) -> str:
    rendered = "".join(f' {k}="{_attribute(v)}"' for k, v in attributes.items() if v is not None)
    return f"<{tag}{rendered}{'/' if empty else ''}>"


def _text(tag: str, text: str) -> str:
    # XML 1.0 section 2.11: a CR in content would reach the reader as LF unless written as a reference
    return f"<{tag}>{_safe(text).translate(_TEXT_ESCAPES)}</{tag}>"


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


# XML 1.0 section 3.3.3: white space in an attribute value is normalised unless written as a reference
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def _attribute(value: str) -> str:
    if _PLAIN.fullmatch(value):  # the usual case: nothing to escape or replace
        return value
    return _safe(value).translate(_ATTRIBUTE_ESCAPES)


_PLAIN = re.compile('[^&<>"\\x00-\\x1f\ud800-\udfff\ufffe\uffff]*')


# XML 1.0 section 2.2: the characters a document may hold; anything else a peer sent (a control character
# in an HL7 field, say) is replaced, so that the record is still written and says what came in
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)

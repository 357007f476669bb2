"""WS-Addressing 1.0 message addressing headers (W3C WS-Addr Core, WS-Addr SOAP Binding; ITI TF-2x V.3.2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from xds.errors import SoapFaultCode
from xds.soap.envelope import MUST_UNDERSTAND
from xds.soap.fault import DetailedSoapFault
from xds.vocabulary import NS_WSA

ACTION = f"{{{NS_WSA}}}Action"
MESSAGE_ID = f"{{{NS_WSA}}}MessageID"
TO = f"{{{NS_WSA}}}To"
REPLY_TO = f"{{{NS_WSA}}}ReplyTo"
FAULT_TO = f"{{{NS_WSA}}}FaultTo"
FROM = f"{{{NS_WSA}}}From"
RELATES_TO = f"{{{NS_WSA}}}RelatesTo"
ADDRESS = f"{{{NS_WSA}}}Address"
# WS-Addr Core 3.2: the headers that make up the message addressing properties; we understand them all
UNDERSTOOD_HEADERS = frozenset({ACTION, MESSAGE_ID, TO, REPLY_TO, FAULT_TO, FROM, RELATES_TO})
_SINGLE = (ACTION, MESSAGE_ID, TO, REPLY_TO, FAULT_TO, FROM)

# WS-Addr Core 2.1 / 3.2.1: predefined addresses
ANONYMOUS = f"{NS_WSA}/anonymous"
NONE = f"{NS_WSA}/none"

# WS-Addr SOAP Binding 6.4: fault subcodes (and subsubcodes of InvalidAddressingHeader, 6.4.1.x)
INVALID_ADDRESSING_HEADER = f"{{{NS_WSA}}}InvalidAddressingHeader"
INVALID_CARDINALITY = f"{{{NS_WSA}}}InvalidCardinality"
ONLY_ANONYMOUS_ADDRESS_SUPPORTED = f"{{{NS_WSA}}}OnlyAnonymousAddressSupported"
MESSAGE_ADDRESSING_HEADER_REQUIRED = f"{{{NS_WSA}}}MessageAddressingHeaderRequired"
ACTION_NOT_SUPPORTED = f"{{{NS_WSA}}}ActionNotSupported"


@dataclass(frozen=True)
class Addressing:
    """The message addressing properties of one message (WS-Addr Core 3.1)."""

    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    reply_to: str | None = None  # [reply endpoint] address
    fault_to: str | None = None
    relates_to: str | None = None


def _wsa(local: str, text: str | None = None) -> etree._Element:
    el = etree.Element(f"{{{NS_WSA}}}{local}", nsmap={"wsa": NS_WSA})
    el.text = text
    return el


def _problem_header(clark: str) -> etree._Element:
    # WS-Addr SOAP Binding 6.4.1 / 6.4.3: [Detail] <wsa:ProblemHeaderQName>
    return _wsa("ProblemHeaderQName", "wsa:" + clark.rpartition("}")[2])


def _epr_address(epr: etree._Element) -> str:
    return (epr.findtext(ADDRESS) or "").strip()


def read_addressing(header_blocks: Sequence[etree._Element]) -> Addressing:
    """Read the wsa:* header blocks. A property given twice is InvalidCardinality (SOAP Binding 6.4.1)."""
    found: dict[str, etree._Element] = {}
    relates_to: str | None = None
    for block in header_blocks:
        if block.tag == RELATES_TO:
            # WS-Addr Core 3.1: several [relationship]s may be given; a reply relationship is the default
            if (block.get("RelationshipType") or f"{NS_WSA}/reply") == f"{NS_WSA}/reply":
                relates_to = (block.text or "").strip()
            continue
        if block.tag in _SINGLE:
            if block.tag in found:
                raise DetailedSoapFault(
                    SoapFaultCode.SENDER,
                    f"more than one {block.tag} header",
                    INVALID_ADDRESSING_HEADER,
                    subsubcode=INVALID_CARDINALITY,
                    detail_xml=[_problem_header(block.tag)],
                )
            found[block.tag] = block

    def text(tag: str) -> str | None:
        el = found.get(tag)
        return (el.text or "").strip() if el is not None else None

    def address(tag: str) -> str | None:
        el = found.get(tag)
        return _epr_address(el) if el is not None else None

    return Addressing(
        action=text(ACTION),
        message_id=text(MESSAGE_ID),
        to=text(TO),
        reply_to=address(REPLY_TO),
        fault_to=address(FAULT_TO),
        relates_to=relates_to,
    )


def _required(clark: str) -> DetailedSoapFault:
    return DetailedSoapFault(
        SoapFaultCode.SENDER,
        f"required message addressing header {clark} is missing",
        MESSAGE_ADDRESSING_HEADER_REQUIRED,
        detail_xml=[_problem_header(clark)],
    )


def check_request(addr: Addressing) -> None:
    """The rules a synchronous IHE request meets before its Action is looked at."""
    # WS-Addr SOAP Binding 6.4.3 / ITI TF-2x V.3.2: wsa:Action is required
    if not addr.action:
        raise _required(ACTION)
    # WS-Addr Metadata 4.1 (request-response: a request carries a [message id]) and ITI TF-2x V.3.2.2
    # (wsa:MessageID shall be present in a request that expects a response)
    if not addr.message_id:
        raise _required(MESSAGE_ID)
    # ITI TF-2x V.3.2: synchronous web services answer on the HTTP back-channel only, so a reply or fault
    # endpoint other than anonymous (or none) cannot be honoured (WS-Addr SOAP Binding 6.4.1.7)
    for tag, value in ((REPLY_TO, addr.reply_to), (FAULT_TO, addr.fault_to)):
        if value not in (None, ANONYMOUS, NONE):
            raise DetailedSoapFault(
                SoapFaultCode.SENDER,
                f"{tag} must be the anonymous address, got {value!r}",
                INVALID_ADDRESSING_HEADER,
                subsubcode=ONLY_ANONYMOUS_ADDRESS_SUPPORTED,
                detail_xml=[_problem_header(tag)],
            )


def action_not_supported(action: str) -> DetailedSoapFault:
    # WS-Addr SOAP Binding 6.4.4: [Detail] <wsa:ProblemAction><wsa:Action>
    problem = _wsa("ProblemAction")
    problem.append(_wsa("Action", action))
    return DetailedSoapFault(
        SoapFaultCode.SENDER,
        f"action {action!r} is not served at this endpoint",
        ACTION_NOT_SUPPORTED,
        detail_xml=[problem],
    )


def new_message_id() -> str:
    # ITI TF-2x V.3.2.2: a unique URI; urn:uuid as every IHE example shows
    return f"urn:uuid:{uuid.uuid4()}"


def _mandatory(el: etree._Element) -> etree._Element:
    el.set(MUST_UNDERSTAND, "true")
    return el


def reply_headers(action: str, relates_to: str | None, message_id: str | None = None) -> list[etree._Element]:
    """wsa:Action, wsa:MessageID and wsa:RelatesTo of a reply (WS-Addr Core 3.4, ITI TF-2x V.3.2)."""
    headers = [_mandatory(_wsa("Action", action)), _wsa("MessageID", message_id or new_message_id())]
    if relates_to:
        headers.append(_wsa("RelatesTo", relates_to))
    return headers


def request_headers(action: str, to: str | None, message_id: str) -> list[etree._Element]:
    """wsa:Action, MessageID, ReplyTo (anonymous) and To of a request, marked mustUnderstand as in the
    ITI TF-2x V.3.2 examples."""
    reply_to = _wsa("ReplyTo")
    reply_to.append(_wsa("Address", ANONYMOUS))
    headers = [
        _mandatory(_wsa("Action", action)),
        _mandatory(_wsa("MessageID", message_id)),
        _mandatory(reply_to),
    ]
    if to:
        headers.append(_mandatory(_wsa("To", to)))
    return headers

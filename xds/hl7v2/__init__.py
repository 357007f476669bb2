"""HL7 v2: the data types of XDS metadata (ITI TF-3 4.2.3.1.7), escaping (HL7 v2.5 2.7), ER7 messages,
the Patient Identity Feed (ITI-8) ADT reader and ACKs (HL7 v2.5 2.9)."""

from xds.hl7v2.ack import ACK_CODES, build_ack
from xds.hl7v2.adt import (
    EVENT_ACTIONS,
    SUPPORTED_VERSIONS,
    XPN,
    FeedAction,
    PatientFeedMessage,
    parse_patient_feed,
)
from xds.hl7v2.datatypes import CX, HD, XCN, XON, XTN, UnescapedSeparatorError
from xds.hl7v2.er7 import DEFAULT_ENCODING, Encoding, Er7Message, Segment, split_message
from xds.hl7v2.errors import ErrorCondition, ErrorLocation, Hl7Error
from xds.hl7v2.escape import escape, unescape
from xds.hl7v2.header import MessageHeader, parse_header, sniff_header

__all__ = [
    "ACK_CODES",
    "CX",
    "DEFAULT_ENCODING",
    "EVENT_ACTIONS",
    "HD",
    "SUPPORTED_VERSIONS",
    "XCN",
    "XON",
    "XPN",
    "XTN",
    "Encoding",
    "Er7Message",
    "ErrorCondition",
    "ErrorLocation",
    "FeedAction",
    "Hl7Error",
    "MessageHeader",
    "PatientFeedMessage",
    "Segment",
    "UnescapedSeparatorError",
    "build_ack",
    "escape",
    "parse_header",
    "parse_patient_feed",
    "sniff_header",
    "split_message",
    "unescape",
]

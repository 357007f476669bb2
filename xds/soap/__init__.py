"""SOAP 1.2 layer: hardened XML parsing, envelopes, WS-Addressing, faults, the server route and clients."""

from xds.soap.addressing import Addressing, new_message_id, read_addressing
from xds.soap.app import (
    ErrorBody,
    Handler,
    Operation,
    SoapRequest,
    SoapResponse,
    WsdlPublication,
    create_app,
    fault_response,
    soap_route,
)
from xds.soap.client import AsyncSoapClient, SoapClient, SoapReply, TransportError
from xds.soap.envelope import ParsedEnvelope, build_envelope, parse_envelope
from xds.soap.fault import DetailedSoapFault, fault_element, parse_fault
from xds.soap.xmlparser import parse_xml, xml_bytes

__all__ = [
    "Addressing",
    "AsyncSoapClient",
    "DetailedSoapFault",
    "ErrorBody",
    "Handler",
    "Operation",
    "ParsedEnvelope",
    "SoapClient",
    "SoapReply",
    "SoapRequest",
    "SoapResponse",
    "TransportError",
    "build_envelope",
    "create_app",
    "fault_element",
    "fault_response",
    "new_message_id",
    "parse_envelope",
    "parse_fault",
    "parse_xml",
    "read_addressing",
    "WsdlPublication",
    "soap_route",
    "xml_bytes",
]

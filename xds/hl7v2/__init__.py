"""HL7 v2.5 data types of XDS metadata (ITI TF-3 4.2.3.1.7) and HL7 v2 escaping (HL7 v2.5 2.7)."""

from xds.hl7v2.datatypes import CX, HD, XCN, XON, XTN, UnescapedSeparatorError
from xds.hl7v2.escape import escape, unescape

__all__ = ["CX", "HD", "XCN", "XON", "XTN", "UnescapedSeparatorError", "escape", "unescape"]

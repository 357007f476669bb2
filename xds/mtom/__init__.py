"""Streaming MTOM/XOP (SOAP 1.2 MTOM, XOP 1.0) over MIME multipart/related (RFC 2387, RFC 2046).

ITI-41, ITI-43 and RAD-69 travel as MTOM/XOP packages (ITI TF-2x Appendix V.3.6). ``multipart`` is the
sans-IO parser, ``spool`` turns its events into an ``MtomMessage`` with attachments spooled to disk,
``writer`` streams packages out.
"""

from xds.mtom.content_type import parse_content_type
from xds.mtom.errors import MtomError, MtomErrorCode
from xds.mtom.multipart import Event, MultipartParser, PartData, PartEnd, PartStart
from xds.mtom.spool import MtomMessage, PartSpooler, read_mtom, read_mtom_sync, resolve_xop_href
from xds.mtom.writer import aiter_mtom, iter_mtom, mtom_content_type, new_boundary

__all__ = [
    "Event",
    "MtomError",
    "MtomErrorCode",
    "MtomMessage",
    "MultipartParser",
    "PartData",
    "PartEnd",
    "PartSpooler",
    "PartStart",
    "aiter_mtom",
    "iter_mtom",
    "mtom_content_type",
    "new_boundary",
    "parse_content_type",
    "read_mtom",
    "read_mtom_sync",
    "resolve_xop_href",
]

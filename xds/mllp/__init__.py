"""MLLP (HL7 v2.5 Appendix C.4): sans-IO framing, an asyncio server and blocking/async clients.

Used by the Document Registry (ITI-8 consumer) and the PIX Manager (ITI-8/9/21, ITI TF-2x Appendix C).
"""

from xds.mllp.client import AsyncMllpClient, MllpClient
from xds.mllp.framing import (
    CARRIAGE_RETURN,
    DEFAULT_MAX_MESSAGE_BYTES,
    END_BLOCK,
    START_BLOCK,
    MllpDecoder,
    MllpError,
    frame,
)
from xds.mllp.server import MllpHandler, MllpServer, serve_mllp

__all__ = [
    "CARRIAGE_RETURN",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "END_BLOCK",
    "START_BLOCK",
    "AsyncMllpClient",
    "MllpClient",
    "MllpDecoder",
    "MllpError",
    "MllpHandler",
    "MllpServer",
    "frame",
    "serve_mllp",
]

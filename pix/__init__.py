"""PIX Manager, Patient Identity Source and PDQ Supplier of the affinity domain (ITI-8 in/out, ITI-9, ITI-10,
ITI-21) on MLLP, with a master patient index that issues the affinity-domain patient ID (XAD-PID)."""

from pix.config import MATCHING_MODES, Peer, PixConfig, pix_config
from pix.iti8 import FeedHandler
from pix.iti9 import PixQuery
from pix.iti21 import PdqQuery
from pix.model import Demographics, Domain
from pix.outbox import Outbox
from pix.phonetics import koelner, soundex
from pix.service import PixManager, service
from pix.store import PixStore

__all__ = [
    "MATCHING_MODES",
    "Demographics",
    "Domain",
    "FeedHandler",
    "Outbox",
    "PdqQuery",
    "Peer",
    "PixConfig",
    "PixManager",
    "PixQuery",
    "PixStore",
    "koelner",
    "pix_config",
    "service",
    "soundex",
]

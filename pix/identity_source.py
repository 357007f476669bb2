"""Patient Identity Source: the ITI-8 messages the PIX Manager feeds to the Document Registry.

ITI TF-2a 3.8: the registry learns each affinity-domain patient ID (XAD-PID) from an A01, demographic
changes from an A08 and merges from an A40 (MRG-1 the subsumed XAD-PID). Only the XAD-PID travels in PID-3:
the registry knows no local identifiers. Written in HL7 v2.5, UTF-8; ``pix.outbox`` delivers them.
"""

from __future__ import annotations

from pix import hl7
from pix.config import PixConfig
from pix.model import Demographics
from xds.hl7v2 import CX, HD, escape

# ITI TF-2a 3.8.4.1.2 / 3.8.4.2.2: message structures of the feed (HL7 v2.5 Chapter 3)
STRUCTURES = {
    "A01": "ADT_A01",
    "A04": "ADT_A01",
    "A05": "ADT_A01",
    "A08": "ADT_A01",
    "A40": "ADT_A39",
    "A31": "ADT_A05",
}


def xad_cx(config: PixConfig, xad_pid: str) -> CX:
    """The XAD-PID as a CX: ``id^^^&<domain OID>&ISO`` (ITI TF-3 4.2.3.2.16)."""
    return CX(id_number=xad_pid, assigning_authority=HD("", config.domain_oid, "ISO"))


def adt(
    config: PixConfig,
    event: str,
    identifiers: list[str],
    demographics: Demographics,
    receiving: str,
    prior: str | None = None,
) -> tuple[str, bytes]:
    """(control id, message) of an ADT ``event`` for a patient with ``identifiers`` (CX, encoded)."""
    control = hl7.control_id()
    segments = [
        hl7.msh(
            f"ADT^{event}^{STRUCTURES[event]}",
            sending=(escape(config.application), escape(config.facility)),
            receiving=(escape(receiving), ""),
            control=control,
        ),
        # HL7 v2.5 3.4.1: EVN-2 (recorded date/time) is required
        f"EVN|{event}|{hl7.timestamp()}",
        hl7.pid(
            identifiers, demographics.names, demographics.birth_date, demographics.sex, demographics.addresses
        ),
    ]
    if event == "A40":
        # ITI TF-2a 3.8.4.2.2: MRG-1 holds the identifier merged away
        segments.append(f"MRG|{prior}")
    else:
        # ITI TF-2a 3.8.4.1.2: PV1 is required; PV1-2 "N" (not applicable) when there is no visit
        segments.append("PV1||N")
    return control, hl7.encode(segments, hl7.UTF8)


def registry_feed(
    config: PixConfig, event: str, xad_pid: str, demographics: Demographics, prior_xad_pid: str | None = None
) -> tuple[str, bytes]:
    """ITI-8 to the registry: A01 new XAD-PID, A08 changed demographics, A40 ``prior_xad_pid`` merged."""
    prior = xad_cx(config, prior_xad_pid).render() if prior_xad_pid else None
    return adt(config, event, [xad_cx(config, xad_pid).render()], demographics, "XDS_REGISTRY", prior)

"""ITI-10 PIX Update Notification: ADT^A31 to the configured PIX Consumers (subscribers).

ITI TF-2a 3.10.4.1: whenever the identifiers cross-referenced for a patient change (new link, merge), the
PIX Manager sends an A31 whose PID-3 lists them all; a subscriber that named domains gets the identifiers of
those domains only, and nothing when the patient has none there. Delivery goes through the outbox.
"""

from __future__ import annotations

from pix.config import Peer, PixConfig
from pix.identity_source import adt
from pix.model import Demographics
from pix.store import Link


def notifications(
    config: PixConfig, links: list[Link], demographics: Demographics
) -> list[tuple[Peer, str, bytes]]:
    """(subscriber, control id, A31) for every subscriber that gets one."""
    out: list[tuple[Peer, str, bytes]] = []
    for subscriber in config.subscribers:
        wanted = [
            item
            for item in links
            if not subscriber.domains or any(item.domain.matches(d) for d in subscriber.domains)
        ]
        # ITI TF-2a 3.10.4.1.3: only the identifiers of the domains the consumer is interested in
        if not wanted:
            continue
        identifiers = [item.domain.cx(item.id_number).render() for item in wanted]
        control, message = adt(config, "A31", identifiers, demographics, subscriber.name)
        out.append((subscriber, control, message))
    return out

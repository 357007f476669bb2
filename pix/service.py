"""The PIX Manager / Patient Identity Source / PDQ Supplier on MLLP (DESIGN "Fixed interface": port 2575).

One listener takes ITI-8 (ADT), ITI-9 (QBP^Q23), ITI-21 (QBP^Q22) and QCN^J01, many messages per connection;
each message is handled in a worker thread (the database is blocking) and always answered: an ACK or RSP,
with AE/AR and an ERR segment when it cannot be accepted. The outbox workers feed the registry (ITI-8) and
the ITI-10 subscribers.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from pix.config import PixConfig, pix_config
from pix.iti8 import FeedHandler
from pix.iti9 import PixQuery
from pix.iti21 import PdqQuery
from pix.outbox import Outbox
from pix.store import PixStore
from xds.config import Settings
from xds.hl7v2 import ErrorCondition, ErrorLocation, Hl7Error, build_ack, parse_header, split_message
from xds.mllp import MllpServer
from xds.runtime import ActorService

log = logging.getLogger(__name__)

# ITI TF-2a 3.9.4.1.2, 3.21.4.1.2: ITI-9 and ITI-21 are HL7 v2.5 queries
QUERY_VERSIONS = ("2.5", "2.5.1")


def _message_code(message: bytes) -> bytes:
    """MSH-9.1 as sent, read cheaply from the first segment (b"" when not found)."""
    if not message.startswith(b"MSH") or len(message) < 4:
        return b""
    end = message.find(b"\r")
    fields = message[: end if end > 0 else 300].split(message[3:4], 9)
    return fields[8].split(b"^", 1)[0] if len(fields) > 8 else b""


class PixManager:
    """The actor of one process: store, configuration and one handler per transaction."""

    def __init__(self, config: PixConfig, store: PixStore) -> None:
        self.config = config
        self.store = store
        self.feeds = FeedHandler(store, config)
        self.pix = PixQuery(store, config)
        self.pdq = PdqQuery(store, config)
        self.outbox = Outbox(store, config)
        # the database is blocking: messages are handled in these threads (asyncio's executor hand-off costs
        # a fraction of anyio.to_thread's, which matters at hundreds of messages per second)
        self.executor = ThreadPoolExecutor(max_workers=config.worker_threads, thread_name_prefix="pix")
        self._known_domains()

    def _known_domains(self) -> None:
        with self.store.write() as conn:
            created = [
                self.store.ensure_domain(conn, hd)
                for hd in self.config.known_domains
                if self.store.find_domain(conn, hd) is None
            ]
        self.store.remember(created)

    async def handle(self, message: bytes, _peer: str | None) -> bytes:
        """The reply to one MLLP message (the ``MllpServer`` handler)."""
        try:
            loop = asyncio.get_running_loop()
            reply, targets = await loop.run_in_executor(self.executor, self.dispatch, message)
        except Exception:
            log.exception("message %r not handled", message[:200])
            error = Hl7Error(
                ErrorCondition.APPLICATION_INTERNAL_ERROR, "the PIX Manager failed on this message"
            )
            return build_ack(message, "AR", error=error)
        if targets:
            self.outbox.wake(targets)
        return reply

    def dispatch(self, message: bytes) -> tuple[bytes, set[str]]:
        """(reply, outbox targets to wake) for one message (blocking)."""
        if _message_code(message) == b"ADT":
            return self.feeds.handle(message)  # reads (and checks) the whole message itself
        try:
            parsed = split_message(message)
            header = parse_header(parsed)
        except Hl7Error as error:
            return build_ack(message, error.ack_code, error=error), set()
        code, event = header.message_code, header.trigger_event
        if code == "ADT":
            return self.feeds.handle(message)
        if code in ("QBP", "QCN") and header.version not in QUERY_VERSIONS:
            # HL7 v2.5 2.9.2.2: a version the receiver does not support is rejected
            error = Hl7Error(
                ErrorCondition.UNSUPPORTED_VERSION_ID,
                f"version {header.version!r} not supported",
                ErrorLocation("MSH", 1, 12),
            )
            return build_ack(header, "AR", error=error), set()
        if (code, event) == ("QBP", "Q23"):
            return self.pix.handle(parsed, header), set()
        if (code, event) == ("QBP", "Q22"):
            return self.pdq.handle(parsed, header), set()
        if (code, event) == ("QCN", "J01"):
            # HL7 v2.5 5.4.3: QCN^J01 cancels a query; QID-1 is its query tag
            qid = parsed.find("QID")
            self.pdq.cancel(qid[0].value(1) if qid else "")
            return build_ack(header, "AA"), set()
        if code in ("QBP", "QCN"):
            error = Hl7Error(
                ErrorCondition.UNSUPPORTED_EVENT_CODE,
                f"event {event!r} not supported",
                ErrorLocation("MSH", 1, 9, None, 2),
            )
        else:
            error = Hl7Error(
                ErrorCondition.UNSUPPORTED_MESSAGE_TYPE,
                f"message type {code!r} not supported",
                ErrorLocation("MSH", 1, 9, None, 1),
            )
        return build_ack(header, "AR", error=error), set()


def service(settings: Settings) -> ActorService:
    config = pix_config(settings)
    store = PixStore.open(settings.effective_database_url)
    manager = PixManager(config, store)
    mllp = MllpServer(
        manager.handle,
        config.host,
        config.port,
        max_message_bytes=config.max_message_bytes,
        idle_timeout=config.idle_timeout,
        ssl=config.server_tls,
    )

    async def start() -> None:
        await mllp.start()
        await manager.outbox.start()

    async def shutdown() -> None:
        await mllp.close()
        await manager.outbox.stop()
        manager.executor.shutdown(wait=True)
        store.close()

    feed = (
        f"; feeds the registry at {config.registry.host}:{config.registry.port}"
        if config.registry
        else "; no registry feed configured"
    )
    return ActorService(
        name="pix",
        startup=[start],
        shutdown=[shutdown],
        endpoints=[
            f"MLLP {config.host}:{config.port}  ITI-8 Patient Identity Feed, ITI-9 PIX Query, "
            f"ITI-21 PDQ{feed}",
        ],
    )

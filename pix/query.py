"""Query by parameter (QBP) in, segment-pattern response (RSP) out: what ITI-9 and ITI-21 share.

HL7 v2.5 5.5 (conformance-based queries): QBP = MSH, QPD, RCP, [DSC]; the response is MSH, MSA, [ERR], QAK,
QPD (the query echoed), then the hits and, for an incremental answer, DSC with the continuation pointer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pix import hl7
from pix.config import PixConfig
from pix.store import PixStore
from xds.hl7v2 import (
    Er7Message,
    ErrorCondition,
    ErrorLocation,
    Hl7Error,
    MessageHeader,
    Segment,
    escape,
    unescape,
)


@dataclass(frozen=True, slots=True)
class Query:
    header: MessageHeader
    qpd: Segment
    tag: str  # QPD-2
    quantity: int | None  # RCP-2 in records; None: everything at once
    pointer: str  # DSC-1 continuation pointer of a follow-up request

    def field(self, n: int) -> list[str]:
        """QPD-n, one entry per repetition, in the default encoding."""
        return self.qpd.repetitions(n)

    @property
    def echo(self) -> str:
        """The QPD segment as received, rewritten to the default delimiters."""
        return hl7.join(
            ["QPD", *("~".join(self.qpd.repetitions(n)) for n in range(1, len(self.qpd.fields) + 1))]
        )


class QueryError(Hl7Error):
    """An error answered with AE (or AR) in MSA-1 and QAK-2, with the query echoed when it was readable."""

    def __init__(
        self,
        condition: ErrorCondition,
        text: str,
        location: ErrorLocation | None = None,
        *,
        query: Query | None = None,
        application_code: str = "",
    ) -> None:
        super().__init__(condition, text, location)
        self.query = query
        self.application_code = application_code


def _one(message: Er7Message, name: str) -> Segment | None:
    found = message.find(name)
    if len(found) > 1:
        raise Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, f"more than one {name}", found[1].location())
    return found[0] if found else None


def parse_query(message: Er7Message, header: MessageHeader, query_name: str) -> Query:
    """Read QPD, RCP and DSC of a QBP message whose QPD-1 must name ``query_name``."""
    # HL7 v2.5 5.10.5.3 (QBP_Q21 / QBP_Q11): QPD is required
    qpd = _one(message, "QPD")
    if qpd is None:
        raise Hl7Error(ErrorCondition.SEGMENT_SEQUENCE_ERROR, "QPD segment missing", ErrorLocation("QPD"))
    # HL7 v2.5 5.10.5.3: QPD-1 message query name (CE), from the conformance statement (ITI TF-2a 3.9.4.1.2,
    # 3.21.4.1.2: "IHE PIX Query", "IHE PDQ Query"); some senders put it in the second component
    names = [unescape(part).strip().upper() for part in qpd.value(1).split("^")[:2]]
    if query_name.upper() not in names:
        raise Hl7Error(ErrorCondition.TABLE_VALUE_NOT_FOUND, f"QPD-1 is not {query_name!r}", qpd.location(1))
    # HL7 v2.5 5.10.5.3: QPD-2 query tag, echoed in QAK-1
    tag = unescape(qpd.value(2))
    if not tag:
        raise Hl7Error(ErrorCondition.REQUIRED_FIELD_MISSING, "QPD-2 (query tag) is empty", qpd.location(2))
    quantity = None
    rcp = _one(message, "RCP")
    if rcp is not None and rcp.value(2):
        # HL7 v2.5 5.5.6.2: RCP-2 quantity limited request (CQ): amount ^ units, units RD (records)
        amount, _, unit = rcp.value(2).partition("^")
        unit = unit.split("^")[0]
        if not amount.isdigit() or int(amount) < 1 or unit not in ("", "RD"):
            raise QueryError(
                ErrorCondition.DATA_TYPE_ERROR,
                "RCP-2 must be a number of records (n^RD)",
                rcp.location(2),
                query=Query(header, qpd, tag, None, ""),
            )
        quantity = int(amount)
    dsc = _one(message, "DSC")
    pointer = unescape(dsc.value(1)) if dsc is not None else ""
    return Query(header, qpd, tag, quantity, pointer)


def respond(
    header: MessageHeader,
    message_type: str,
    *,
    application: str,
    facility: str,
    query: Query | None,
    status: str,
    errors: Sequence[Hl7Error] = (),
    body: Sequence[str] = (),
    hits: tuple[int, int, int] | None = None,
    pointer: str = "",
) -> bytes:
    """An RSP: MSA-1 AA (no error) or the errors' ack code, QAK-2 ``status`` (HL7 Table 0208)."""
    code = "AA" if not errors else ("AR" if any(e.ack_code == "AR" for e in errors) else "AE")
    segments = [hl7.reply_msh(header, message_type, application, facility)]
    text = errors[0].text[:80] if errors else ""
    # HL7 v2.5 2.15.8: MSA-1 acknowledgment code, MSA-2 the request's control id, MSA-3 text
    segments.append(hl7.join(["MSA", code, escape(header.control_id), escape(text)]))
    for error in errors:
        segments.append(hl7.err(error, getattr(error, "application_code", "")))
    # HL7 v2.5 5.5.2: QAK-1 query tag, QAK-2 query response status, QAK-3 query name, QAK-4..6 hit counts
    qak = ["QAK", escape(query.tag) if query else "", status]
    if hits is not None and query is not None:
        qak += [query.qpd.value(1), *(str(n) for n in hits)]
    segments.append(hl7.join(qak))
    if query is not None:
        segments.append(query.echo)
    segments.extend(body)
    if pointer:
        # HL7 v2.5 2.15.4: DSC-1 continuation pointer, DSC-2 "I" (incremental)
        segments.append(f"DSC|{escape(pointer)}|I")
    return hl7.encode(segments, header.charset)


class QuerySupplier:
    """The part ITI-9 (PIX Query) and ITI-21 (PDQ) share: parse the QBP, answer it in a read
    transaction, and turn any error into the RSP with AE/AR (ITI TF-2a 3.9.4.2.2.6, 3.21.4.2.2.8)."""

    message_type: str  # MSH-9 of the answer
    query_name: str  # QPD-1 this supplier answers

    def __init__(self, store: PixStore, config: PixConfig) -> None:
        self.store = store
        self.config = config

    def _respond(self, header: MessageHeader, query: Query | None, status: str, **kwargs: Any) -> bytes:
        return respond(
            header,
            self.message_type,
            application=self.config.application,
            facility=self.config.facility,
            query=query,
            status=status,
            **kwargs,
        )

    def handle(self, message: Er7Message, header: MessageHeader) -> bytes:
        query: Query | None = None
        try:
            query = parse_query(message, header, self.query_name)
            with self.store.read() as conn:
                return self._answer(conn, header, query)
        except QueryError as error:
            return self._respond(header, error.query or query, "AE", errors=[error])
        except Hl7Error as error:
            return self._respond(header, query, "AR" if error.ack_code == "AR" else "AE", errors=[error])

    def _answer(self, conn: Connection, header: MessageHeader, query: Query) -> bytes:
        raise NotImplementedError

"""ITI-9 PIX Query (QBP^Q23 / RSP^K23), PIX Manager side, ITI TF-2a 3.9.4.2.2.6 (expected actions).

QPD-3 names one identifier (ID + assigning authority), QPD-4 "What Domains Returned" optionally restricts
the answer to some domains. The cases of the TF:
1. identifier known, it has identifiers in the requested domains: AA, QAK-2 OK, one PID whose PID-3 lists
   them (not the queried one);
2. identifier known, none in the requested domains: AA, QAK-2 NF, no PID;
3. the domain of QPD-3 is not known: AE, ERR-2 QPD^1^3^1^4, ERR-3 204 (unknown key identifier);
4. the domain is known, the identifier is not: AE, ERR-2 QPD^1^3^1^1, ERR-3 204;
5. a domain of QPD-4 is not known: AE, one ERR per such domain, ERR-2 QPD^1^4^<repetition>, ERR-3 204.
"""

from __future__ import annotations

from sqlalchemy import Connection

from pix import hl7
from pix import store as db
from pix.model import Domain
from pix.query import Query, QuerySupplier
from pix.tables import ACTIVE
from xds.hl7v2 import CX, ErrorCondition, Hl7Error, MessageHeader, UnescapedSeparatorError

MESSAGE_TYPE = "RSP^K23^RSP_K23"
QUERY_NAME = "IHE PIX Query"


def _unknown(text: str, field_no: int, repetition: int | None, component: int | None) -> Hl7Error:
    return Hl7Error(
        ErrorCondition.UNKNOWN_KEY_IDENTIFIER, text, hl7.location("QPD", field_no, repetition, component)
    )


def _cx(text: str, field_no: int, repetition: int) -> CX:
    try:
        return CX.parse(text)
    except UnescapedSeparatorError:
        raise Hl7Error(
            ErrorCondition.DATA_TYPE_ERROR, "not a CX", hl7.location("QPD", field_no, repetition)
        ) from None


class PixQuery(QuerySupplier):
    message_type = MESSAGE_TYPE
    query_name = QUERY_NAME

    def _answer(self, conn: Connection, header: MessageHeader, query: Query) -> bytes:
        wanted_text = query.field(3)
        if not wanted_text or not wanted_text[0]:
            # ITI TF-2a 3.9.4.1.2: QPD-3 (person identifier) is required
            raise Hl7Error(ErrorCondition.REQUIRED_FIELD_MISSING, "QPD-3 is empty", hl7.location("QPD", 3))
        wanted = _cx(wanted_text[0], 3, 1)
        hd = wanted.assigning_authority
        dom = self.store.find_domain(conn, hd) if hd is not None else None
        errors: list[Hl7Error] = []
        if dom is None:  # case 3
            errors.append(_unknown("the assigning authority of QPD-3 is not known", 3, 1, 4))
        link = db.find_link(self.store, conn, dom, wanted.id_number) if dom and wanted.id_number else None
        if dom is not None and (link is None or link.status != ACTIVE):  # case 4
            errors.append(_unknown(f"patient {wanted.id_number!r} is not known", 3, 1, 1))
        domains: list[Domain] = []
        for number, text in enumerate(query.field(4), start=1):
            if not text:
                continue
            requested = _cx(text, 4, number).assigning_authority
            found = self.store.find_domain(conn, requested) if requested is not None else None
            if found is None:  # case 5
                errors.append(_unknown("domain of QPD-4 not known", 4, number, None))
            else:
                domains.append(found)
        if errors:
            return self._respond(header, query, "AE", errors=errors)
        assert link is not None
        links = db.identifiers_of(self.store, conn, [link.patient_id])[link.patient_id]
        others = [
            item
            for item in links
            if not (item.domain.key == link.domain.key and item.id_number == link.id_number)
            and (not domains or any(item.domain.key == d.key for d in domains))
        ]
        if not others:  # case 2
            return self._respond(header, query, "NF")
        # case 1: one PID, PID-3 the identifiers; no demographics (PID-5 a pseudo-name, see hl7.pid)
        identifiers = [item.domain.cx(item.id_number).render() for item in others]
        return self._respond(header, query, "OK", body=[hl7.pid(identifiers, set_id="1")])

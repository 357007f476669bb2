"""What the PIX Manager keeps of a patient: demographics, identifiers and the search keys of them."""

from __future__ import annotations

from dataclasses import dataclass

from pix.phonetics import koelner, soundex
from xds.hl7v2 import CX, HD, XPN, PatientFeedMessage, unescape


@dataclass(frozen=True, slots=True)
class Domain:
    """A patient identification domain (assigning authority, CX.4)."""

    key: str
    namespace_id: str = ""
    universal_id: str = ""
    universal_id_type: str = ""

    @property
    def hd(self) -> HD:
        return HD(self.namespace_id, self.universal_id, self.universal_id_type)

    def cx(self, id_number: str) -> CX:
        return CX(id_number=id_number, assigning_authority=self.hd)

    def matches(self, wanted: str) -> bool:
        """True for its OID or its namespace (ITI-10 subscriber filters name domains either way)."""
        return wanted in (self.universal_id, self.namespace_id, self.key)


def domain_key(hd: HD) -> str:
    """The key a domain is stored under: its universal id, else its namespace."""
    return hd.universal_id if hd.universal_id else "ns:" + hd.namespace_id


def fold(text: str) -> str:
    """The form names and addresses are compared in: trimmed, upper case (ß -> SS)."""
    return " ".join(text.split()).upper()


def _component(xad: str, n: int) -> str:
    parts = xad.split("^")
    return unescape(parts[n - 1].split("&")[0]) if len(parts) >= n else ""


@dataclass(frozen=True, slots=True)
class Demographics:
    """PID-5, PID-7, PID-8 and PID-11 as sent (default encoding, escaped), and their search keys."""

    names: tuple[str, ...] = ()  # XPN repetitions
    birth_date: str = ""
    sex: str = ""
    addresses: tuple[str, ...] = ()  # XAD repetitions

    @classmethod
    def of_feed(cls, feed: PatientFeedMessage) -> Demographics:
        return cls(
            names=tuple(name.render() for name in feed.patient_names),
            birth_date=feed.birth_date,
            sex=feed.sex,
            addresses=feed.addresses,
        )

    @classmethod
    def of_row(cls, row: object) -> Demographics:
        names, addresses = getattr(row, "names"), getattr(row, "addresses")  # noqa: B009
        return cls(
            names=tuple(n for n in names.split("~") if n),
            birth_date=getattr(row, "birth_date"),  # noqa: B009
            sex=getattr(row, "sex"),  # noqa: B009
            addresses=tuple(a for a in addresses.split("~") if a),
        )

    @property
    def is_empty(self) -> bool:
        return not (self.names or self.birth_date or self.sex or self.addresses)

    def columns(self, name: XPN | None = None) -> dict[str, str]:
        """The pix_patient columns: the values and the PDQ search keys (``name``: names[0], if parsed)."""
        if name is None:
            name = XPN.parse(self.names[0]) if self.names else XPN()
        address = self.addresses[0] if self.addresses else ""
        return {
            "names": "~".join(self.names),
            "birth_date": self.birth_date,
            "sex": self.sex,
            "addresses": "~".join(self.addresses),
            "family": fold(name.family_name),
            "given": fold(name.given_name),
            "family_koelner": koelner(name.family_name),
            "family_soundex": soundex(name.family_name),
            "given_koelner": koelner(name.given_name),
            "given_soundex": soundex(name.given_name),
            "street": fold(_component(address, 1)),
            "city": fold(_component(address, 3)),
            "postal_code": fold(_component(address, 5)),
            "country": fold(_component(address, 6)),
        }

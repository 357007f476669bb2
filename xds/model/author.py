"""Author of a DocumentEntry or SubmissionSet (ITI TF-3 4.2.3.1.4)."""

from __future__ import annotations

from dataclasses import dataclass

from xds.hl7v2 import XCN, XON, XTN


@dataclass(frozen=True, slots=True)
class Author:
    """One author classification with its slots; at least one of person/institution/telecom is set."""

    person: XCN | None = None
    institutions: tuple[XON, ...] = ()
    # authorRole / authorSpecialty are String or CWE-formatted (ITI TF-3 Table 4.2.3.1.4-1), kept as sent
    roles: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    telecommunications: tuple[XTN, ...] = ()

"""The transactions of the domain, declared once (DESIGN principle 5).

Services route by ``action``, clients send it, audit reads ``audit_event`` and docs list them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    code: str  # "ITI-41"
    name: str
    action: str | None  # WS-Addressing Action of the request (ITI TF-2x; RAD TF-2)
    response_action: str | None
    responder: str  # actor that answers it
    audit_event: tuple[str, str, str]  # EventTypeCode (code, codeSystemName, displayName), ITI TF-2a 3.20
    mtom: bool = False  # request/response carry attachments (ITI TF-2x V.3.6, MTOM/XOP)


class Transaction(Enum):
    ITI_8 = TransactionInfo(
        "ITI-8", "Patient Identity Feed", None, None, "registry",
        ("ITI-8", "IHE Transactions", "Patient Identity Feed"),
    )
    ITI_9 = TransactionInfo(
        "ITI-9", "PIX Query", None, None, "pix", ("ITI-9", "IHE Transactions", "PIX Query"),
    )
    ITI_10 = TransactionInfo(
        "ITI-10", "PIX Update Notification", None, None, "pix",
        ("ITI-10", "IHE Transactions", "PIX Update Notification"),
    )
    ITI_18 = TransactionInfo(
        "ITI-18", "Registry Stored Query",
        "urn:ihe:iti:2007:RegistryStoredQuery", "urn:ihe:iti:2007:RegistryStoredQueryResponse",
        "registry", ("ITI-18", "IHE Transactions", "Registry Stored Query"),
    )
    ITI_21 = TransactionInfo(
        "ITI-21", "Patient Demographics Query", None, None, "pix",
        ("ITI-21", "IHE Transactions", "Patient Demographics Query"),
    )
    ITI_41 = TransactionInfo(
        "ITI-41", "Provide and Register Document Set-b",
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
        "repository", ("ITI-41", "IHE Transactions", "Provide and Register Document Set-b"), mtom=True,
    )
    ITI_42 = TransactionInfo(
        "ITI-42", "Register Document Set-b",
        "urn:ihe:iti:2007:RegisterDocumentSet-b", "urn:ihe:iti:2007:RegisterDocumentSet-bResponse",
        "registry", ("ITI-42", "IHE Transactions", "Register Document Set-b"),
    )
    ITI_43 = TransactionInfo(
        "ITI-43", "Retrieve Document Set",
        "urn:ihe:iti:2007:RetrieveDocumentSet", "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
        "repository", ("ITI-43", "IHE Transactions", "Retrieve Document Set"), mtom=True,
    )
    # RAD TF-2 4.68: the Imaging Document Source uses the ITI-41 message and action
    RAD_68 = TransactionInfo(
        "RAD-68", "Provide and Register Imaging Document Set - MTOM/XOP",
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
        "repository", ("RAD-68", "IHE Transactions", "Provide and Register Imaging Document Set"),
        mtom=True,
    )
    # RAD TF-2 4.69.4.1.2 / 4.69.4.2.2: the response carries the ITI-43 response action
    RAD_69 = TransactionInfo(
        "RAD-69", "Retrieve Imaging Document Set",
        "urn:ihe:rad:2009:RetrieveImagingDocumentSet", "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
        "imaging-source", ("RAD-69", "IHE Transactions", "Retrieve Imaging Document Set"), mtom=True,
    )

    @property
    def info(self) -> TransactionInfo:
        return self.value

    @classmethod
    def by_action(cls, action: str, responder: str | None = None) -> Transaction | None:
        """The transaction a WS-Addressing Action names (for ITI-41 / RAD-68 the first, ITI-41)."""
        for tx in cls:
            if tx.info.action == action and (responder is None or tx.info.responder == responder):
                return tx
        return None

"""The SOAP calls of a consumer, with the peer's failures turned into ``XdsError``.

One place maps what can go wrong on the wire: the peer unreachable (``PeerUnavailable`` with
XDSRegistryNotAvailable / XDSRepositoryNotAvailable), a SOAP fault (XDSRegistryError / XDSRepositoryError
with the fault's reason) and a Failure RegistryResponse (its own error codes).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path

from lxml.etree import _Element

from consumer.errors import PeerUnavailable, failure
from xds.errors import ErrorCode, RegistryError, SoapFault, XdsError
from xds.model import Attachment
from xds.soap import SoapClient, SoapReply, TransportError
from xds.transactions import Transaction
from xds.vocabulary import ResponseStatus

_UNAVAILABLE = {
    "registry": ErrorCode.XDS_REGISTRY_NOT_AVAILABLE,
    "repository": ErrorCode.XDS_REPOSITORY_NOT_AVAILABLE,
}
_PEER_ERROR = {"registry": ErrorCode.XDS_REGISTRY_ERROR, "repository": ErrorCode.XDS_REPOSITORY_ERROR}


class Transport:
    def __init__(
        self,
        soap: SoapClient | None,
        spool_dir: Path | None,
        timeout: float,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._own = soap is None
        self.soap = soap or SoapClient(spool_dir=spool_dir, timeout=timeout, tls=tls)

    def close(self) -> None:
        if self._own:
            self.soap.close()

    def call(
        self,
        peer: str,
        url: str | None,
        transaction: Transaction,
        body: _Element,
        attachments: Sequence[Attachment] = (),
    ) -> SoapReply:
        if not url:
            raise XdsError(_UNAVAILABLE[peer], f"no {peer} URL configured")
        try:
            return self.soap.call(url, transaction, body, attachments)
        except TransportError as exc:
            raise PeerUnavailable(_UNAVAILABLE[peer], str(exc)) from exc
        except SoapFault as exc:
            raise XdsError(_PEER_ERROR[peer], f"SOAP fault from {url}: {exc.reason}") from exc


def check(status: ResponseStatus, errors: tuple[RegistryError, ...], peer: str, what: str) -> None:
    """ITI TF-3 4.2.4.2: a Failure carries at least one error; PartialSuccess and Success go on, their
    warnings (and a PartialSuccess's errors) stay in the result for the caller."""
    if status == ResponseStatus.FAILURE:
        raise failure(errors, _PEER_ERROR[peer], what)

"""Node authentication and transport encryption (ATNA ITI-19) for every interface: HTTPS, MLLP, DICOM.

ITI TF-2a 3.19.6.1: each node presents its X.509 certificate and accepts a peer only with a certificate
it trusts (mutual authentication), before any application data flows. The contexts below do exactly that:
the server demands a client certificate signed by the configured CA bundle; the client verifies the server
the same way and presents its own. One certificate, key and CA bundle per node (Settings ``tls_cert``,
``tls_key``, ``tls_ca``); when they are unset the node speaks plain TCP, as on a test bench.

Protocol and ciphers follow BSI TR-02102-2: TLS 1.2 and 1.3 only (3.2), and for TLS 1.2 only the
recommended suites with forward secrecy and AEAD or SHA-2 (3.3.1.1). TLS 1.3 suites cannot be narrowed
from Python's ssl module; OpenSSL's defaults offer the three TR-02102-2 names (3.4.4) and additionally
TLS_CHACHA20_POLY1305_SHA256.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from xds.config import ConfigError, Settings

# BSI TR-02102-2 (2024-01) Table 1: TLS 1.2 cipher suites with perfect forward secrecy, OpenSSL names
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-CCM",
        "ECDHE-ECDSA-AES128-CCM",
        "DHE-RSA-AES256-CCM",
        "DHE-RSA-AES128-CCM",
        "ECDHE-ECDSA-AES256-SHA384",
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-RSA-AES256-SHA384",
        "ECDHE-RSA-AES128-SHA256",
        "DHE-RSA-AES256-SHA256",
        "DHE-RSA-AES128-SHA256",
    )
)
HANDSHAKE_TIMEOUT = 10.0  # seconds a peer gets to complete the handshake before it is dropped
# seconds a closing connection waits for the peer's TLS close_notify; an idle blocking client never sends it
SHUTDOWN_TIMEOUT = 2.0


@dataclass(frozen=True)
class TlsConfig:
    cert: Path  # this node's certificate (PEM; may hold the chain after it)
    key: Path  # its private key (PEM)
    ca: Path  # the certificates this node trusts for its peers (PEM bundle)

    @classmethod
    def from_settings(cls, settings: Settings) -> TlsConfig | None:
        """The node's TLS configuration, or None when ``tls_cert``/``tls_key``/``tls_ca`` are unset."""
        if not (settings.tls_cert and settings.tls_key and settings.tls_ca):
            return None  # load_settings refuses a partial configuration
        return cls(Path(settings.tls_cert), Path(settings.tls_key), Path(settings.tls_ca))

    def server_context(self) -> ssl.SSLContext:
        """For listeners: the peer must present a certificate the CA bundle vouches for."""
        context = self._context(ssl.PROTOCOL_TLS_SERVER)
        context.verify_mode = ssl.CERT_REQUIRED
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        return context

    def client_context(self) -> ssl.SSLContext:
        """For outgoing connections: the server is verified against the CA bundle and its host name."""
        return self._context(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED, check_hostname on

    def _context(self, protocol: int) -> ssl.SSLContext:
        context = ssl.SSLContext(protocol)
        # BSI TR-02102-2 3.2: TLS 1.2 or 1.3, nothing older; no compression, no renegotiation
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(TLS12_CIPHERS)
        context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
        try:
            context.load_cert_chain(self.cert, self.key)
            context.load_verify_locations(cafile=self.ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"tls: cannot load {self.cert}, {self.key} or {self.ca}: {exc}") from exc
        return context


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The listeners' context of this node, None without TLS."""
    tls = TlsConfig.from_settings(settings)
    return None if tls is None else tls.server_context()


def client_context(settings: Settings) -> ssl.SSLContext | None:
    """The context for this node's outgoing connections, None without TLS."""
    tls = TlsConfig.from_settings(settings)
    return None if tls is None else tls.client_context()

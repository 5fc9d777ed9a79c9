"""TLS for DICOM (PS3.15 Annex B): contexts built from secret references, handshake failures named.

Certificates, keys and CA bundles are secret references (`env:NAME`, `prefect-secret:NAME`) whose
value is either PEM text or the path of a PEM file (a mounted secret). Both ends refuse anything
older than TLS 1.2 (PS3.15 B.12, BCP 195: TLS 1.2 required, 1.3 preferred); the cipher list is
OpenSSL's default at Python's security level, which covers the BCP 195 suites DCMTK offers.

Python's `ssl` loads a certificate chain only from files, so PEM text is written to a private
(0600, in a 0700 folder) temporary file, loaded, and removed at once.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.secrets import resolve
from golive.tasks.imaging.policy import Decision, RefusalReason, TlsSettings

Env = Callable[[str], str | None]

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) that name a certificate problem precisely.
_EXPIRED = {10}  # CERT_HAS_EXPIRED
_NOT_YET_VALID = {9}
_UNTRUSTED = {2, 18, 19, 20, 21}  # issuer unknown, self-signed, self-signed in chain, local issuer, leaf only


class TlsConfigError(UserInputError):
    """A DICOM TLS setting is missing or unusable (secret not set, not PEM, key does not match)."""


@dataclass(frozen=True)
class ClientTls:
    """How `network.py` reaches a peer over TLS: the context and the name its certificate must carry."""

    context: ssl.SSLContext
    server_name: str | None


def _pem(ref: str, what: str, env: Env) -> str:
    """The PEM text a reference points to (its value, or the file its value names)."""
    value = resolve(ref, what, env=env, error=TlsConfigError).reveal().strip()
    if value.startswith("-----BEGIN"):
        return value + "\n"
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise TlsConfigError(f"{what} ({ref}): neither PEM text nor a readable PEM file ({type(exc).__name__})") from None
    if "-----BEGIN" not in text:
        raise TlsConfigError(f"{what} ({ref}): the file it names holds no PEM block")
    return text


def _load_chain(ctx: ssl.SSLContext, cert_ref: str, key_ref: str, env: Env) -> None:
    cert, key = _pem(cert_ref, "TLS certificate", env), _pem(key_ref, "TLS private key", env)
    with tempfile.TemporaryDirectory(prefix="golive-tls-") as tmp:  # created 0700
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        for file, text in ((cert_file, cert), (key_file, key)):
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(text)
        try:
            ctx.load_cert_chain(cert_file, key_file)
        except ssl.SSLError as exc:
            raise TlsConfigError(f"TLS certificate ({cert_ref}) and key ({key_ref}) cannot be used together: "
                                 f"{exc.reason or exc}") from None


def _load_ca(ctx: ssl.SSLContext, ref: str, what: str, env: Env) -> None:
    try:
        ctx.load_verify_locations(cadata=_pem(ref, what, env))
    except ssl.SSLError as exc:
        raise TlsConfigError(f"{what} ({ref}) is not a usable CA certificate: {exc.reason or exc}") from None


def certificate_expiry(ref: str, env: Env = os.environ.get) -> datetime:
    """When the (first) certificate a reference holds stops being valid (UTC)."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(_pem(ref, "TLS certificate", env).encode("ascii"))
    except ValueError as exc:
        raise TlsConfigError(f"TLS certificate ({ref}) cannot be read: {exc}") from None
    return cert.not_valid_after_utc


def server_context(tls: TlsSettings, env: Env = os.environ.get) -> ssl.SSLContext:
    """The receiver's context: TLS 1.2+, its certificate, and client certificates checked when a CA is set."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(ctx, tls.certificate, tls.key, env)
    if tls.client_ca:
        _load_ca(ctx, tls.client_ca, "TLS client CA", env)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class _RecordingSSLSocket(ssl.SSLSocket):
    """Keeps the handshake error on the context: pynetdicom logs it and reports only 'aborted'."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except ssl.SSLError as exc:
            ctx: Any = self.context
            ctx.handshake_errors.append(exc)
            raise


class _ClientContext(ssl.SSLContext):
    handshake_errors: list[ssl.SSLError]


def client_tls(params: dict[str, Any], host: str, env: Env = os.environ.get) -> ClientTls | None:
    """A sender's TLS from a step's `tls:` mapping (`ca`, `certificate`, `key`, `server_name`), or None.

    Without `ca` the system trust store verifies the peer (a vendor endpoint with a public CA).
    The peer's certificate must name `server_name` (default: the host dialled).
    """
    if not params:
        return None
    ctx = _ClientContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.handshake_errors = []
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.sslsocket_class = _RecordingSSLSocket
    if params.get("ca"):
        _load_ca(ctx, str(params["ca"]), "TLS CA", env)
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if params.get("certificate") or params.get("key"):
        if not (params.get("certificate") and params.get("key")):
            raise TlsConfigError("a TLS client certificate needs both `certificate` and `key`")
        _load_chain(ctx, str(params["certificate"]), str(params["key"]), env)
    return ClientTls(ctx, str(params.get("server_name") or host))


def last_handshake_error(tls: ClientTls | None) -> str | None:
    """What the last failed handshake of this sender's context said, in words (None: no failure);
    taking it clears the record, so the next association starts clean."""
    errors = getattr(tls.context, "handshake_errors", None) if tls is not None else None
    if not errors:
        return None
    detail = handshake_decision(errors[-1], peer="server").detail
    errors.clear()
    return detail


def handshake_decision(exc: BaseException, peer: str = "client") -> Decision:
    """Name a failed handshake. `peer` is the side whose certificate this end checked."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        if code in _EXPIRED:
            return Decision(RefusalReason.TLS_CERT_EXPIRED, f"the {peer} certificate has expired")
        if code in _NOT_YET_VALID:
            return Decision(RefusalReason.TLS_CERT_EXPIRED, f"the {peer} certificate is not valid yet")
        if code in _UNTRUSTED:
            return Decision(RefusalReason.TLS_CERT_UNTRUSTED,
                            f"the {peer} certificate is not issued by a trusted CA ({exc.verify_message})")
        return Decision(RefusalReason.TLS_HANDSHAKE, f"the {peer} certificate was refused ({exc.verify_message})")
    reason = str(getattr(exc, "reason", "") or "").upper()
    if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        return Decision(RefusalReason.TLS_CERT_MISSING, f"the {peer} presented no certificate")
    if "ALERT_UNKNOWN_CA" in reason or "ALERT_BAD_CERTIFICATE" in reason or "ALERT_CERTIFICATE" in reason:
        other = "client" if peer == "server" else "server"
        return Decision(RefusalReason.TLS_CERT_UNTRUSTED, f"the {peer} did not accept this {other}'s certificate "
                                                          f"({reason.lower()})")
    if reason in ("UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "WRONG_SSL_VERSION", "NO_SHARED_CIPHER",
                  "TLSV1_ALERT_PROTOCOL_VERSION", "VERSION_TOO_LOW"):
        return Decision(RefusalReason.TLS_PROTOCOL, f"no TLS 1.2+ protocol and cipher in common ({reason.lower()})")
    if isinstance(exc, TimeoutError | ssl.SSLError):
        what = reason.lower() or type(exc).__name__
        return Decision(RefusalReason.TLS_HANDSHAKE, f"the TLS handshake failed ({what})")
    return Decision(RefusalReason.TLS_HANDSHAKE, f"the TLS handshake failed ({type(exc).__name__})")

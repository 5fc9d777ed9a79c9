"""The platform endpoint's TLS, checked from our side: protocol, certificate chain, expiry, host name.

Python's `ssl` (OpenSSL) does the handshakes; `cryptography` reads the certificate. A strict
handshake (TLS 1.2 minimum, chain and host name verified) decides chain and host name; when it
fails, a diagnostic handshake that verifies nothing fetches the certificate so the report can say
why. Expiry is judged against the injected clock, so "expires within 30 days" is testable.

Legacy protocols: a server that still accepts TLS 1.0 or 1.1 fails the protocol check (the vendor
attests TLS 1.2+). To find out, the probe must offer TLS 1.0/1.1 itself, which OpenSSL 3 refuses at
its default security level; the probe lowers it (`@SECLEVEL=0`) for that one handshake only. Where
the local OpenSSL cannot offer TLS 1.0/1.1 at all, that part is "not verified", never a pass.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

MODERN = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
# OpenSSL verify codes (x509_vfy.h) the report explains in its own words.
_EXPIRED, _HOSTNAME = 10, 62


class Verdict(str, Enum):
    PASS = "pass"
    WARN = "warn"  # passes, but needs attention (a certificate expiring soon)
    FAIL = "fail"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True)
class Finding:
    check: str  # protocol | legacy | chain | expiry | hostname | connect
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses
    self_signed: bool


@dataclass(frozen=True)
class TlsReport:
    host: str
    port: int
    server_name: str
    protocol: str | None  # negotiated by the strict (or, failing that, the diagnostic) handshake
    cipher: str | None
    certificate: Certificate | None
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return all(f.verdict in (Verdict.PASS, Verdict.WARN) for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        cert = self.certificate
        return {"endpoint": f"{self.host}:{self.port}", "server_name": self.server_name, "protocol": self.protocol,
                "cipher": self.cipher, "passed": self.passed,
                "certificate": None if cert is None else {
                    "subject": cert.subject, "issuer": cert.issuer, "not_before": cert.not_before.isoformat(),
                    "not_after": cert.not_after.isoformat(), "names": list(cert.names),
                    "self_signed": cert.self_signed},
                "findings": [{"check": f.check, "verdict": f.verdict.value, "detail": f.detail} for f in self.findings]}


@dataclass(frozen=True)
class _Handshake:
    protocol: str | None = None
    cipher: str | None = None
    der: bytes | None = None
    cert_error: ssl.SSLCertVerificationError | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.cert_error is None


def _handshake(host: str, port: int, server_name: str, ctx: ssl.SSLContext, timeout_s: float) -> _Handshake:
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw, \
                ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            cipher = tls.cipher()
            return _Handshake(tls.version(), cipher[0] if cipher else None, tls.getpeercert(binary_form=True))
    except ssl.SSLCertVerificationError as exc:
        return _Handshake(cert_error=exc)
    except (OSError, ssl.SSLError) as exc:  # refused, timed out, protocol or cipher mismatch
        return _Handshake(error=exc)


def _strict(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)  # system trust store unless a CA file is given
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _unverified(minimum: ssl.TLSVersion, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLSVersion.TLSv1/TLSv1_1 are deprecated names; offering them is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    if minimum < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 offers no TLS 1.0/1.1 cipher at level 1+
    return ctx


def _legacy_context() -> ssl.SSLContext | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return _unverified(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
        except (ValueError, ssl.SSLError):  # this OpenSSL build has no TLS 1.0/1.1 at all
            return None


def read_certificate(der: bytes) -> Certificate:
    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]
    except x509.ExtensionNotFound:
        pass
    return Certificate(subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                       not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                       names=tuple(names), self_signed=cert.subject == cert.issuer)


def _cn(cert: Certificate) -> str | None:
    name = x509.Name.from_rfc4514_string(cert.subject)
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def name_matches(server_name: str, cert: Certificate) -> bool:
    """RFC 6125 style: subjectAltName only (the CN is ignored when SANs exist); `*.` covers one label."""
    names = cert.names or tuple(n for n in (_cn(cert),) if n)
    try:
        wanted_ip = ipaddress.ip_address(server_name)
        return any(_is_ip(n) and ipaddress.ip_address(n) == wanted_ip for n in names)
    except ValueError:
        pass
    host = server_name.lower().rstrip(".")
    for name in (n.lower() for n in names if not _is_ip(n)):
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def check_tls(host: str, port: int = 443, *, server_name: str | None = None, ca_file: str | None = None,
              now: datetime | None = None, warn_days: int = 30, timeout_s: float = 5.0) -> TlsReport:
    """Check the endpoint; every aspect gets a finding, and anything not established is not a pass."""
    name = server_name or host
    moment = now or datetime.now(UTC)
    strict = _handshake(host, port, name, _strict(ca_file), timeout_s)
    shake = strict
    findings: list[Finding] = []
    if not strict.ok:
        shake = _handshake(host, port, name, _unverified(ssl.TLSVersion.TLSv1_2), timeout_s)
    if shake.error is not None:  # no TLS 1.2+ handshake at all: an old protocol, or nothing listening
        old = _legacy_context()
        legacy = _handshake(host, port, name, old, timeout_s) if old is not None else None
        if legacy is not None and legacy.ok:
            findings.append(Finding("protocol", Verdict.FAIL,
                                    f"the server offers only {legacy.protocol}; TLS 1.2 or later is required"))
            shake = legacy
        else:
            why = f"{type(shake.error).__name__}: {shake.error}"
            return TlsReport(host, port, name, None, None, None,
                             (Finding("connect", Verdict.NOT_VERIFIED, f"no TLS handshake with {host}:{port} ({why})"),))
    else:
        findings.append(Finding("protocol", Verdict.PASS, f"negotiated {shake.protocol}"))
        findings.append(_legacy_finding(host, port, name, timeout_s))
    cert = read_certificate(shake.der) if shake.der else None
    findings += _certificate_findings(strict, cert, name, moment, warn_days)
    return TlsReport(host, port, name, shake.protocol, shake.cipher, cert, tuple(findings))


def _legacy_finding(host: str, port: int, name: str, timeout_s: float) -> Finding:
    ctx = _legacy_context()
    if ctx is None:
        return Finding("legacy", Verdict.NOT_VERIFIED, "this OpenSSL cannot offer TLS 1.0/1.1, so their refusal is unknown")
    legacy = _handshake(host, port, name, ctx, timeout_s)
    if legacy.ok:
        return Finding("legacy", Verdict.FAIL, f"the server also accepts {legacy.protocol or 'TLS 1.0/1.1'}")
    return Finding("legacy", Verdict.PASS, "TLS 1.0 and 1.1 refused")


def _certificate_findings(strict: _Handshake, cert: Certificate | None, name: str, now: datetime,
                          warn_days: int) -> list[Finding]:
    if cert is None:
        return [Finding(c, Verdict.NOT_VERIFIED, "no certificate was received") for c in ("chain", "expiry", "hostname")]
    out: list[Finding] = []
    code = strict.cert_error.verify_code if strict.cert_error is not None else None
    message = strict.cert_error.verify_message if strict.cert_error is not None else ""
    if strict.ok:
        out.append(Finding("chain", Verdict.PASS, f"verified up to a trusted root (issuer {cert.issuer})"))
    elif code == _HOSTNAME:
        out.append(Finding("chain", Verdict.PASS, f"verified up to a trusted root (issuer {cert.issuer})"))
    elif code == _EXPIRED:
        out.append(Finding("chain", Verdict.NOT_VERIFIED, "OpenSSL stopped at the expired certificate"))
    elif strict.error is not None:  # the strict handshake never got as far as the certificate
        out.append(Finding("chain", Verdict.NOT_VERIFIED, "not verified: no TLS 1.2+ handshake"))
    else:
        self_signed = " (self-signed)" if cert.self_signed else ""
        out.append(Finding("chain", Verdict.FAIL, f"not trusted{self_signed}: {message}"))
    days_left = (cert.not_after - now).total_seconds() / 86400
    if cert.not_after <= now:
        out.append(Finding("expiry", Verdict.FAIL, f"expired on {cert.not_after:%Y-%m-%d}"))
    elif cert.not_before > now:
        out.append(Finding("expiry", Verdict.FAIL, f"not valid before {cert.not_before:%Y-%m-%d}"))
    elif days_left < warn_days:
        out.append(Finding("expiry", Verdict.WARN, f"expires on {cert.not_after:%Y-%m-%d}, in {int(days_left)} day(s)"))
    else:
        out.append(Finding("expiry", Verdict.PASS, f"valid until {cert.not_after:%Y-%m-%d}"))
    if code == _HOSTNAME or not name_matches(name, cert):
        out.append(Finding("hostname", Verdict.FAIL, f"{name} is not among {', '.join(cert.names) or 'the certificate names'}"))
    else:
        out.append(Finding("hostname", Verdict.PASS, f"{name} matches the certificate"))
    return out

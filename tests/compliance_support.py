"""Shared helpers for the compliance tests: certificates made with `cryptography`, local TLS servers
(good, expired, self-signed, TLS 1.0-only), and the evidence that makes a location's PHI
prerequisites complete."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "golive tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pem:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    (folder / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Pem(folder / f"{stem}.crt", folder / f"{stem}.key")


@dataclass(frozen=True)
class Ca:
    pem: Pem
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def make_ca(folder: Path, now: datetime | None = None) -> Ca:
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("golive test CA")).issuer_name(_name("golive test CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Ca(_write(folder, "ca", cert, key), cert, key)


def make_leaf(folder: Path, stem: str, *, ca: Ca | None, not_before: datetime, not_after: datetime,
              names: tuple[str, ...] = ("localhost",)) -> Pem:
    """A server certificate for `names` (and 127.0.0.1), signed by `ca` or self-signed when None."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(names[0])
    issuer = ca.cert.subject if ca else subject
    san = x509.SubjectAlternativeName([*(x509.DNSName(n) for n in names), x509.IPAddress(IPv4Address("127.0.0.1"))])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(san, critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if ca is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    cert = builder.sign(ca.key if ca else key, hashes.SHA256())
    return _write(folder, stem, cert, key)


class TlsServer:
    """A real TLS listener on 127.0.0.1 (port chosen by the OS): it completes handshakes and hangs up."""

    def __init__(self, pem: Pem, *, tls10_only: bool = False) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tls10_only:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 has no TLS 1.0 cipher above level 0
        ctx.load_cert_chain(pem.cert, pem.key)
        self._ctx = ctx
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.handshakes: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            with self._ctx.wrap_socket(conn, server_side=True) as tls:
                self.handshakes.append(str(tls.version()))
                tls.recv(1)
        except (ssl.SSLError, OSError):
            conn.close()

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not, on Linux)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)


@contextmanager
def tls_server(pem: Pem, *, tls10_only: bool = False) -> Iterator[TlsServer]:
    server = TlsServer(pem, tls10_only=tls10_only)
    try:
        yield server
    finally:
        server.close()


def seed_phi_prerequisites(store: Any, location: str, tmp: Path, *, skip: tuple[str, ...] = (),
                           today: date | None = None) -> None:
    """Evidence that completes every PHI prerequisite for `location` (except the `skip`ped ones)."""
    from golive.tasks.compliance import evidence
    from golive.tasks.compliance.requirements import REQUIREMENTS, Check

    day = today or datetime.now(UTC).date()
    root = tmp / "evidence-store"
    for req in REQUIREMENTS:
        if not req.before_phi or req.id in skip:
            continue
        if req.document is not None:
            doc = tmp / f"{req.id}.txt"
            doc.write_text(f"evidence for {req.id}\n")
            evidence.record_document(store, subject=req.id, file=doc, supplied_by="Test Person", role="Legal",
                                     supplied_on=day - timedelta(days=1),
                                     expires_on=day + timedelta(days=365) if req.attestation else None, root=root)
        if req.check is not None:
            where = location if req.check in (Check.ACCESS_MATRIX, Check.MFA) else ""
            evidence.record_check(store, subject=req.id, passed=True, report={"seeded": True}, location=where,
                                  root=root)

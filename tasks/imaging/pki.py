"""A throw-away certificate authority for the DICOM TLS tests, benchmark and demo (never production).

`issue_test_pki(folder)` writes, as PEM files: a CA, a receiver certificate for localhost and
127.0.0.1, a sender (client) certificate, an expired sender certificate, and a sender certificate
from a second, unknown CA. Keys are ECDSA P-256 (fast to make; offered by DCMTK's BCP 195 TLS
profile). Files are 0600 in the folder given.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pair:
    certificate: Path
    key: Path


@dataclass(frozen=True)
class IssuedPki:
    ca: Path
    receiver: Pair
    sender: Pair
    expired_sender: Pair
    foreign_sender: Pair  # issued by a CA the receiver does not trust
    expired_receiver: Pair
    foreign_receiver: Pair


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "golive test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ca(cn: str, now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(folder: Path, name: str, issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], now: datetime,
          server: bool, expired: bool = False) -> Pair:
    ca_key, ca_cert = issuer
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = (now - timedelta(days=30), now - timedelta(days=1)) if expired else \
        (now - timedelta(days=1), now + timedelta(days=90))
    builder = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(
                   [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Pair(_write(folder / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM)),
                _write(folder / f"{name}.key", _key_pem(key)))


def issue_test_pki(folder: Path | str, now: datetime | None = None) -> IssuedPki:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = now or datetime.now(UTC)
    ca = _ca("golive test imaging CA", now)
    foreign = _ca("unknown CA", now)
    ca_file = _write(out / "ca.crt", ca[1].public_bytes(serialization.Encoding.PEM))
    return IssuedPki(
        ca=ca_file,
        receiver=_leaf(out, "receiver", ca, now, server=True),
        sender=_leaf(out, "sender", ca, now, server=False),
        expired_sender=_leaf(out, "expired-sender", ca, now, server=False, expired=True),
        foreign_sender=_leaf(out, "foreign-sender", foreign, now, server=False),
        expired_receiver=_leaf(out, "expired-receiver", ca, now, server=True, expired=True),
        foreign_receiver=_leaf(out, "foreign-receiver", foreign, now, server=True),
    )

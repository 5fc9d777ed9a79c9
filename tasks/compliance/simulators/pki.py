"""Certificates for the SIMULATORS and tests, made with `cryptography`: a CA, and server certificates
signed by it or self-signed, with chosen validity and names (always 127.0.0.1 too). For the demo's
and tests' local TLS endpoints only; nothing here is meant for a real service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

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


def demo_certificate(folder: Path, not_before: datetime, not_after: datetime) -> tuple[Path, Path, Path]:
    """(certificate, key, CA certificate) for a local endpoint named localhost / 127.0.0.1."""
    ca = make_ca(folder)
    leaf = make_leaf(folder, "server", ca=ca, not_before=not_before, not_after=not_after)
    return leaf.cert, leaf.key, ca.pem.cert

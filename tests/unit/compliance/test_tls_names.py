"""Host-name matching and certificate reading of the TLS checker (the handshakes are tested against
real TLS servers in tests/integration/compliance/test_tls_servers.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from golive.tasks.compliance.endpoint import base_url, host_port
from golive.tasks.compliance.simulators.pki import make_ca, make_leaf
from golive.tasks.compliance.tls import Certificate, name_matches, read_certificate
from golive.tasks.foundation.errors import UserInputError

NOW = datetime(2026, 3, 16, tzinfo=UTC)


def _cert(*names: str) -> Certificate:
    return Certificate("CN=x", "CN=ca", NOW, NOW + timedelta(days=90), names, False)


@pytest.mark.parametrize(("server_name", "names", "ok"), [
    ("api.vendor.example", ("api.vendor.example",), True),
    ("API.Vendor.Example.", ("api.vendor.example",), True),
    ("api.vendor.example", ("*.vendor.example",), True),
    ("a.b.vendor.example", ("*.vendor.example",), False),   # a wildcard covers one label
    ("vendor.example", ("*.vendor.example",), False),
    ("127.0.0.1", ("localhost", "127.0.0.1"), True),
    ("127.0.0.2", ("127.0.0.1",), False),
    ("evil.example", ("api.vendor.example",), False),
])
def test_name_matches(server_name: str, names: tuple[str, ...], ok: bool) -> None:
    assert name_matches(server_name, _cert(*names)) is ok


def test_read_certificate(tmp_path: Path) -> None:
    ca = make_ca(tmp_path, NOW)
    pem = make_leaf(tmp_path, "leaf", ca=ca, not_before=NOW, not_after=NOW + timedelta(days=30), names=("api.example",))
    der = x509.load_pem_x509_certificate(pem.cert.read_bytes()).public_bytes(Encoding.DER)
    cert = read_certificate(der)
    assert cert.names == ("api.example", "127.0.0.1") and not cert.self_signed and cert.not_after == NOW + timedelta(days=30)
    assert "CN=golive test CA" in cert.issuer


def test_endpoints() -> None:
    assert host_port("https://api.example:8443/x") == ("api.example", 8443) and host_port("api.example") == ("api.example", 443)
    with pytest.raises(UserInputError):
        host_port("http://api.example")
    assert base_url("http://127.0.0.1:9/api/v1/", "URL") == "http://127.0.0.1:9/api/v1"
    for bad in ("http://api.example/v1", "https://user:pw@api.example", "ftp://x"):
        with pytest.raises(UserInputError):
            base_url(bad, "URL")

"""The TLS checker against real local TLS servers: good, expired, self-signed and TLS 1.0-only
certificates (made here with `cryptography`), plus a wrong host name and a near expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from compliance_support import Ca, make_ca, make_leaf, tls_server

from golive.tasks.compliance.tls import TlsReport, Verdict, check_tls

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Ca:
    return make_ca(tmp_path_factory.mktemp("ca"))


def _verdicts(report: TlsReport) -> dict[str, Verdict]:
    return {f.check: f.verdict for f in report.findings}


def test_good_certificate_passes_every_check(ca: Ca, tmp_path: Path) -> None:
    pem = make_leaf(tmp_path, "good", ca=ca, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=90))
    with tls_server(pem) as server:
        report = check_tls("127.0.0.1", server.port, server_name="localhost", ca_file=str(ca.pem.cert), now=NOW)
    assert report.passed, report.to_dict()
    assert _verdicts(report) == {"protocol": Verdict.PASS, "legacy": Verdict.PASS, "chain": Verdict.PASS,
                                 "expiry": Verdict.PASS, "hostname": Verdict.PASS}
    assert report.protocol in ("TLSv1.2", "TLSv1.3")


def test_expired_certificate_fails_expiry(ca: Ca, tmp_path: Path) -> None:
    pem = make_leaf(tmp_path, "expired", ca=ca, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=2))
    with tls_server(pem) as server:
        report = check_tls("127.0.0.1", server.port, server_name="localhost", ca_file=str(ca.pem.cert), now=NOW)
    v = _verdicts(report)
    assert not report.passed
    assert v["expiry"] is Verdict.FAIL and v["chain"] is Verdict.NOT_VERIFIED and v["protocol"] is Verdict.PASS


def test_self_signed_certificate_fails_the_chain(ca: Ca, tmp_path: Path) -> None:
    pem = make_leaf(tmp_path, "self", ca=None, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=90))
    with tls_server(pem) as server:
        report = check_tls("127.0.0.1", server.port, server_name="localhost", ca_file=str(ca.pem.cert), now=NOW)
    v = _verdicts(report)
    assert not report.passed and v["chain"] is Verdict.FAIL
    assert "self-signed" in next(f.detail for f in report.findings if f.check == "chain")
    assert v["expiry"] is Verdict.PASS and v["hostname"] is Verdict.PASS  # diagnosed from the fetched certificate


def test_tls10_only_server_fails_the_protocol(ca: Ca, tmp_path: Path) -> None:
    """OpenSSL 3 (here 3.0.x) refuses TLS 1.0 at its default security level on both ends: the test
    server and the checker's legacy probe lower it to @SECLEVEL=0 to speak TLS 1.0 at all."""
    pem = make_leaf(tmp_path, "old", ca=ca, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=90))
    with tls_server(pem, tls10_only=True) as server:
        report = check_tls("127.0.0.1", server.port, server_name="localhost", ca_file=str(ca.pem.cert), now=NOW)
    v = _verdicts(report)
    assert not report.passed
    assert v["protocol"] is Verdict.FAIL and report.protocol == "TLSv1"
    assert v["chain"] is Verdict.NOT_VERIFIED  # no TLS 1.2+ handshake to verify it in
    assert server.handshakes == ["TLSv1"]


def test_wrong_host_name_and_near_expiry(ca: Ca, tmp_path: Path) -> None:
    pem = make_leaf(tmp_path, "other", ca=ca, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=10),
                    names=("api.other.example",))
    with tls_server(pem) as server:
        report = check_tls("127.0.0.1", server.port, server_name="localhost", ca_file=str(ca.pem.cert), now=NOW)
    v = _verdicts(report)
    assert v["hostname"] is Verdict.FAIL and v["chain"] is Verdict.PASS and v["expiry"] is Verdict.WARN


def test_nothing_listening_is_not_verified(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    report = check_tls("127.0.0.1", port, now=NOW, timeout_s=2)
    assert not report.passed and [f.verdict for f in report.findings] == [Verdict.NOT_VERIFIED]

"""The receiver policy's decisions, its organization-file form, the TLS settings and the upload
limits, as plain functions (the wire is in tests/integration/imaging/test_dicom_transport.py)."""

from __future__ import annotations

import inspect
import ipaddress
import ssl
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dicom_transport_support import lab_policy, pki, tls_env
from typer.testing import CliRunner

from golive.flows.cli.imaging import app
from golive.tasks.imaging.pki import IssuedPki
from golive.tasks.imaging.policy import (
    MB,
    REJECT_CODES,
    AssociationRequest,
    ObjectType,
    ReceiverPolicy,
    RefusalReason,
    loopback_default,
    policy_from_mapping,
)
from golive.tasks.imaging.receiver import _AuditThrottle, printable_ae
from golive.tasks.imaging.tls import TlsConfigError, client_tls, handshake_decision, server_context
from golive.tasks.imaging.upload import UploadRefused, admit_upload, mesh_format
from golive.tasks.imaging.usage import DailyUsage, MemoryLedger
from golive.tasks.planning.organization import OrganizationInvalid, load_organization

__all__ = ["pki", "tls_env"]


def _rq(**changes: Any) -> AssociationRequest:
    base: dict[str, Any] = dict(calling_ae="STORESCU", called_ae="GOLIVE", source="127.0.0.1", tls=True,
                                free_disk_bytes=10_000 * MB, day_bytes=0)
    return AssociationRequest(**(base | changes))


@pytest.mark.parametrize(("changes", "reason"), [
    ({}, None),
    ({"tls": False}, RefusalReason.TLS_REQUIRED),
    ({"calling_ae": "INTRUDER"}, RefusalReason.CALLING_AE),
    ({"called_ae": "OTHER"}, RefusalReason.CALLED_AE),
    ({"free_disk_bytes": 0}, RefusalReason.DISK_FLOOR),
    ({"day_bytes": 50_000 * MB}, RefusalReason.DAILY_SIZE),
    ({"tls": False, "calling_ae": "INTRUDER"}, RefusalReason.TLS_REQUIRED),  # first rule wins
])
def test_association_decisions(changes: dict[str, Any], reason: RefusalReason | None) -> None:
    decision = lab_policy().association_decision(_rq(**changes))
    assert (decision.reason if decision else None) == reason


def test_each_association_refusal_has_its_ps3_8_reject_fields() -> None:
    assert REJECT_CODES[RefusalReason.CALLING_AE] == (1, 1, 3)  # permanent, service user, calling AE
    assert REJECT_CODES[RefusalReason.CALLED_AE] == (1, 1, 7)
    assert REJECT_CODES[RefusalReason.DISK_FLOOR] == REJECT_CODES[RefusalReason.DAILY_SIZE] == (2, 3, 2)


@pytest.mark.parametrize(("source", "allowed"), [("127.0.0.1", True), ("::ffff:127.0.0.1", True),
                                                 ("127.0.0.2", False), ("10.0.0.1", False), ("not-an-ip", False)])
def test_source_networks(source: str, allowed: bool) -> None:
    assert (lab_policy().source_decision(source) is None) is allowed


def test_size_limits_count_the_association_and_the_day() -> None:
    policy = lab_policy(max_association_bytes=100, max_day_bytes=1_000)
    assert policy.size_decision(100, 1_000) is None
    assert policy.size_decision(101, 500).reason is RefusalReason.ASSOCIATION_SIZE  # type: ignore[union-attr]
    assert policy.size_decision(50, 1_001).reason is RefusalReason.DAILY_SIZE  # type: ignore[union-attr]


def test_nothing_defaults_to_every_interface() -> None:
    assert inspect.signature(ReceiverPolicy).parameters["bind"].default is inspect.Parameter.empty
    default = loopback_default()
    assert default.bind == "127.0.0.1" and all(n.is_loopback for n in default.allowed_networks)
    assert default.tls is None and default.allowed_calling_aes is None


def test_policy_from_the_organization_block_and_its_defaults() -> None:
    policy = policy_from_mapping("site", {"bind": "10.1.2.3", "allowed_calling_aes": ["CS9600 "],
                                          "allowed_networks": ["10.1.2.0/24"],
                                          "tls": {"certificate": "env:C", "key": "env:K"}}, "America/Chicago")
    assert policy.allowed_calling_aes == frozenset({"CS9600"}) and policy.objects == frozenset({ObjectType.CT})
    assert policy.sop_classes == ("1.2.840.10008.5.1.4.1.1.2",)
    assert policy.tls is not None and policy.tls.required and policy.tls.port == 2762 and policy.tls.client_ca is None
    assert (policy.max_association_bytes, policy.max_day_bytes, policy.min_free_disk_bytes) == \
        (4_000 * MB, 50_000 * MB, 10_000 * MB)
    assert policy.summary()["tls"] == {"required": True, "port": 2762, "client_certificates": False}


def test_daily_usage_rolls_over_at_local_midnight() -> None:
    now = {"t": datetime(2027, 3, 1, 5, 30, tzinfo=UTC)}  # 23:30 on 28 Feb in Chicago
    ledger = MemoryLedger()
    usage = DailyUsage(ledger, "site", "America/Chicago", lambda: now["t"])
    assert usage.charge(100) == 100
    usage.settle(100, 1)
    assert ledger.used("site", date(2027, 2, 28)) == 100
    now["t"] += timedelta(hours=1)  # 00:30 on 1 March in Chicago
    assert usage.charge(5) == 5 and usage.refresh() == 5
    usage.settle(5)
    assert ledger.used("site", date(2027, 3, 1)) == 5


def test_the_audit_throttle_takes_one_refusal_a_minute_per_source_and_reason() -> None:
    t = {"now": 0.0}
    throttle = _AuditThrottle(lambda: t["now"])
    assert throttle.admit("10.0.0.9", "source-not-allowed") == 0
    assert throttle.admit("10.0.0.9", "source-not-allowed") is None
    assert throttle.admit("10.0.0.8", "source-not-allowed") == 0  # another source is its own entry
    t["now"] = 61.0
    assert throttle.admit("10.0.0.9", "source-not-allowed") == 1  # carries how many it skipped


def test_ae_titles_from_the_wire_are_made_printable() -> None:
    assert printable_ae(b"EVIL\x1b[31m\x00") == "EVIL?[31m?"
    assert printable_ae("A" * 40) == "A" * 16


def _verify_error(code: int) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code, exc.verify_message = code, "x"
    return exc


def test_handshake_failures_are_named() -> None:
    assert handshake_decision(_verify_error(10)).reason is RefusalReason.TLS_CERT_EXPIRED
    assert handshake_decision(_verify_error(20)).reason is RefusalReason.TLS_CERT_UNTRUSTED
    missing = ssl.SSLError(1, "x")
    missing.reason = "PEER_DID_NOT_RETURN_A_CERTIFICATE"
    assert handshake_decision(missing).reason is RefusalReason.TLS_CERT_MISSING
    old = ssl.SSLError(1, "x")
    old.reason = "UNSUPPORTED_PROTOCOL"
    assert handshake_decision(old).reason is RefusalReason.TLS_PROTOCOL
    assert handshake_decision(TimeoutError()).reason is RefusalReason.TLS_HANDSHAKE


def test_tls_material_is_pem_text_or_a_pem_file(tls_env: IssuedPki, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    settings = lab_policy().tls
    assert settings is not None
    assert server_context(settings).verify_mode == ssl.CERT_REQUIRED  # paths, with a client CA
    monkeypatch.setenv("RX_CERT", tls_env.receiver.certificate.read_text())  # PEM text works as well
    assert server_context(settings).minimum_version == ssl.TLSVersion.TLSv1_2
    monkeypatch.setenv("RX_KEY", str(tls_env.sender.key))  # another certificate's key
    with pytest.raises(TlsConfigError, match="cannot be used together"):
        server_context(settings)
    junk = tmp_path / "junk.txt"
    junk.write_text("not a certificate")
    monkeypatch.setenv("RX_CERT", str(junk))
    with pytest.raises(TlsConfigError, match="no PEM block"):
        server_context(settings)
    with pytest.raises(TlsConfigError, match="both `certificate` and `key`"):
        client_tls({"ca": "env:TX_CA", "certificate": "env:TX_CERT"}, "127.0.0.1")
    assert client_tls({}, "127.0.0.1") is None


def _binary_stl(path: Path, triangles: int, header: bytes = b"") -> Path:
    path.write_bytes(header.ljust(80, b"\0") + struct.pack("<I", triangles) + b"\0" * 50 * triangles)
    return path


def test_mesh_formats_are_judged_by_content(tmp_path: Path) -> None:
    assert mesh_format(_binary_stl(tmp_path / "a.stl", 3, header=b"solid but binary")) == "stl"
    (tmp_path / "b.stl").write_text("solid x\n facet normal 0 0 1\n outer loop\n endloop\n endfacet\nendsolid x\n")
    assert mesh_format(tmp_path / "b.stl") == "stl"
    (tmp_path / "c.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\n")
    assert mesh_format(tmp_path / "c.ply") == "ply"
    (tmp_path / "d.stl").write_bytes(b"MZ\x90\x00" + b"\0" * 200)  # an executable renamed .stl
    assert mesh_format(tmp_path / "d.stl") is None


def test_uploads_meet_the_policy(tmp_path: Path) -> None:
    policy = lab_policy(objects=frozenset({ObjectType.INTRAORAL_SCAN}), max_day_bytes=2_000, min_free_disk_bytes=10)
    ledger, audited = MemoryLedger(), []
    scan = _binary_stl(tmp_path / "scan.stl", 10)  # 584 bytes
    clock = lambda: datetime(2027, 1, 1, tzinfo=UTC)  # noqa: E731
    admitted = admit_upload(scan, policy, ledger, free_disk=lambda _: 100, clock=clock)
    assert admitted.format == "stl" and admitted.day_bytes == 584
    with pytest.raises(UploadRefused, match="disk-space-floor"):
        admit_upload(scan, policy, ledger, free_disk=lambda _: 1, clock=clock,
                     audit=lambda e, d: audited.append(dict(d)))
    admit_upload(scan, policy, ledger, free_disk=lambda _: 100, clock=clock)
    admit_upload(scan, policy, ledger, free_disk=lambda _: 100, clock=clock)
    with pytest.raises(UploadRefused, match="daily-size-limit"):  # the fourth passes 2,000 bytes a day
        admit_upload(scan, policy, ledger, free_disk=lambda _: 100, clock=clock)
    assert audited[0]["reason"] == "disk-space-floor" and audited[0]["listener"] == "upload"


BASE_ORG = """apiVersion: golive/v1
kind: Organization
name: Org
timezone: UTC
regions: [{id: r, name: R}]
locations:
  - id: site
    name: Site
    region: r
    dicom_receiver:
"""


@pytest.mark.parametrize(("block", "message"), [
    ("      bind: 0.0.0.0\n      allowed_calling_aes: [A]\n      allowed_networks: [10.0.0.0/8]\n",
     "listens on every interface"),
    ("      bind: '::'\n      allowed_calling_aes: [A]\n      allowed_networks: [10.0.0.0/8]\n",
     "listens on every interface"),
    ("      bind: 10.0.0.5\n      allowed_calling_aes: [A]\n      allowed_networks: [10.0.0.5/24]\n",
     "did you mean '10.0.0.0/24'"),
    ("      allowed_calling_aes: [A]\n      allowed_networks: [10.0.0.0/8]\n", "missing required key 'bind'"),
    ("      bind: 10.0.0.5\n      allowed_calling_aes: ['BAD\\\\AE']\n      allowed_networks: [10.0.0.0/8]\n",
     "is not a DICOM AE title"),
    ("      bind: 10.0.0.5\n      allowed_calling_aes: [A]\n      allowed_networks: [10.0.0.0/8]\n      port: 2762\n"
     "      tls: {required: false, certificate: 'env:C', key: 'env:K'}\n", "must differ from the plain port"),
    ("      bind: 10.0.0.5\n      allowed_calling_aes: [A]\n      allowed_networks: [10.0.0.0/8]\n"
     "      tls: {certificate: '-----BEGIN PRIVATE KEY-----', key: 'env:K'}\n", "is not a secret reference"),
])
def test_organization_dicom_receiver_errors(tmp_path: Path, block: str, message: str) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(BASE_ORG + block)
    with pytest.raises(OrganizationInvalid) as caught:
        load_organization(path)
    assert message in str(caught.value)
    assert f"{path}:" in str(caught.value) and "BEGIN PRIVATE KEY" not in str(caught.value)


def test_the_example_eastside_location_requires_tls() -> None:
    from golive.tasks.foundation.paths import DEFAULT_ORG
    from golive.tasks.imaging.policy import policy_for

    policy = policy_for(load_organization(DEFAULT_ORG), "eastside-specialty")
    assert policy is not None and policy.tls_required and policy.tls is not None and policy.tls.client_ca
    assert ipaddress.ip_address(policy.bind).is_private and not ipaddress.ip_address(policy.bind).is_unspecified


@pytest.mark.parametrize(("args", "words"), [
    ([], "no default address"),
    (["--location", "downtown-metro"], "no dicom_receiver block"),
    (["--loopback", "--bind", "0.0.0.0"], "every interface"),
    (["--loopback", "--bind", "::"], "every interface"),
    (["--location", "eastside-specialty", "--loopback"], "no default address"),
])
def test_receive_command_never_picks_an_address_itself(args: list[str], words: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOLIVE_ORG", raising=False)
    res = CliRunner().invoke(app, ["receive", "--out", str(tmp_path), *args])
    assert res.exit_code == 2 and words in res.output, res.output

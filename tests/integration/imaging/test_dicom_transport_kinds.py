"""The step kinds under a location's receiver policy: the stand-in receiver enforces it (TLS, AE
titles), refusals reach the audit log in the store and `imaging.transport_check` lists them, and
intraoral scan files meet the same type and size limits."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from dicom_transport_support import SENDER_TLS, pki, tls_env

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.imaging import kinds
from golive.tasks.imaging.errors import TransferCheckFailed
from golive.tasks.imaging.pki import IssuedPki
from golive.tasks.imaging.transport_kinds import TransportCheckFailed, run_transport_check
from golive.tasks.planning.organization import load_organization

__all__ = ["pki", "tls_env"]
pytestmark = pytest.mark.integration

ORG = """
apiVersion: golive/v1
kind: Organization
name: Transport Test Group
timezone: America/Chicago
regions: [{id: north, name: North}]
locations:
  - id: tls-site
    name: TLS Site
    region: north
    dicom_receiver:
      bind: 10.9.8.7
      allowed_calling_aes: [GOLIVE, CS9600]
      allowed_networks: [127.0.0.1/32, 10.9.8.0/24]
      accept: [ct]
      min_free_disk_mb: 1
      tls: {certificate: "env:RX_CERT", key: "env:RX_KEY", client_ca: "env:RX_CA"}
  - id: plain-site
    name: Plain Site
    region: north
    dicom_receiver:
      bind: 10.9.9.7
      allowed_calling_aes: [CS9600]
      allowed_networks: [127.0.0.1/32]
      accept: [ct, intraoral_scan]
      max_association_mb: 1
      min_free_disk_mb: 1
  - id: no-policy
    name: No Policy
    region: north
"""


@pytest.fixture()
def ctx(tmp_path: Path, sqlite_store: Any) -> StepContext:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(ORG)
    return StepContext(run_id="r1", run_key="rk", runbook="integration-validation", step_id="s", step_key="s",
                       org=load_organization(org_file), store=sqlite_store, out_dir=tmp_path / "out",
                       audit=lambda event, data: sqlite_store.audit.append(event, data, run_id="r1"))


def test_the_stand_in_takes_a_tls_sender_and_refuses_a_plain_one(tls_env: IssuedPki, ctx: StepContext,
                                                                  phantom_dir: Path) -> None:
    series = str(phantom_dir / "series")
    echoed = kinds.run_echo(ctx, {"location": "tls-site", "tls": SENDER_TLS})
    assert echoed["ok"] and echoed["transport"] == "TLS"
    sent = kinds.run_send(ctx, {"location": "tls-site", "tls": SENDER_TLS, "series": series})
    assert sent["passed"] and sent["arrived"] == 60 and sent["transport"] == "TLS"
    with pytest.raises(TransferCheckFailed, match="tls-required"):
        kinds.run_send(ctx, {"location": "tls-site", "series": series})
    checked = run_transport_check(ctx, {"location": "tls-site"})
    assert checked["passed"]
    assert checked["refusal_counts"] == {"tls-required": 1}
    assert checked["refusals"][0]["calling_ae"] == "GOLIVE" and checked["refusals"][0]["source"] == "127.0.0.1"
    evidence = {c["check"]: c["evidence"] for c in checked["checks"]}
    assert "TLS only" in evidence["TLS required (encryption in transit, TLS 1.2+)"]
    events = [e.event for e in ctx.store.audit.entries()]
    assert events.count("imaging.dicom_association") == 2 and events.count("imaging.dicom_refused") == 1
    assert ctx.store.audit.verify().ok


def test_the_stand_in_refuses_an_ae_title_the_location_does_not_list(ctx: StepContext) -> None:
    with pytest.raises(StepFailed, match="calling-ae-not-allowed"):
        kinds.run_echo(ctx, {"location": "plain-site"})  # sends as GOLIVE; plain-site allows CS9600 only
    assert kinds.run_echo(ctx, {"location": "plain-site", "calling_ae": "CS9600"})["transport"] == "plain TCP"


def test_transport_check_fails_a_location_that_accepts_plain_dicom(ctx: StepContext) -> None:
    with pytest.raises(TransportCheckFailed, match="plain DICOM accepted"):
        run_transport_check(ctx, {"location": "plain-site"})
    with pytest.raises(TransportCheckFailed, match="not verified"):
        run_transport_check(ctx, {"location": "no-policy"})


def test_transport_check_says_when_the_certificate_cannot_be_loaded(ctx: StepContext,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RX_CERT", raising=False)
    with pytest.raises(TransportCheckFailed, match="RX_CERT is not set"):
        run_transport_check(ctx, {"location": "tls-site"})


def _binary_stl(path: Path, triangles: int) -> Path:
    path.write_bytes(b"\0" * 80 + struct.pack("<I", triangles) + b"\0" * 50 * triangles)
    return path


def test_intraoral_uploads_meet_the_location_type_and_size_limits(ctx: StepContext, tmp_path: Path) -> None:
    ply_named_stl = tmp_path / "scan.stl"
    ply_named_stl.write_bytes(b"ply\nformat ascii 1.0\nend_header\n")
    with pytest.raises(kinds.IosValidationFailed, match="content is not STL"):
        kinds.run_validate_ios(ctx, {"location": "plain-site", "scan": str(ply_named_stl)})
    big = _binary_stl(tmp_path / "big.stl", 25_000)  # 1.25 MB: over plain-site's 1 MB per transfer
    with pytest.raises(kinds.IosValidationFailed, match="association-size-limit"):
        kinds.run_validate_ios(ctx, {"location": "plain-site", "scan": str(big)})
    with pytest.raises(kinds.IosValidationFailed, match="not accepted at tls-site"):
        kinds.run_validate_ios(ctx, {"location": "tls-site", "scan": str(_binary_stl(tmp_path / "ok.stl", 10))})
    refused = [e.data for e in ctx.store.audit.entries() if e.event == "imaging.dicom_refused"]
    assert [r["reason"] for r in refused] == ["file-type-not-accepted", "association-size-limit",
                                             "file-type-not-accepted"]
    assert {r["listener"] for r in refused} == {"upload"}

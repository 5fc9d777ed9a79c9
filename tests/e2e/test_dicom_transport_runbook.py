"""integration-validation's DICOM steps through Prefect at a TLS-only location: the echo and the
send reach the stand-in over TLS with a client certificate, and the transport check's outputs and
Prefect artifacts show the refusal a receiver recorded earlier (calling AE, source, reason)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from dicom_transport_support import SENDER_TLS, pki, tls_env

from golive.tasks.foundation.paths import RUNBOOKS

__all__ = ["pki", "tls_env"]
pytestmark = pytest.mark.e2e

ORG = """apiVersion: golive/v1
kind: Organization
name: Transport Test Group
timezone: America/Chicago
regions: [{id: north, name: North}]
people: [{name: Ira IT, roles: [VP of IT]}]
locations:
  - id: tls-site
    name: TLS Site
    region: north
    dicom_receiver:
      bind: 10.9.8.7
      allowed_calling_aes: [GOLIVE]
      allowed_networks: [127.0.0.1/32]
      min_free_disk_mb: 1
      tls: {certificate: "env:RX_CERT", key: "env:RX_KEY", client_ca: "env:RX_CA"}
"""
STEPS = ("cbct-endpoint", "cbct-send", "dicom-transport", "validation-report")


def _transport_part(dest: Path) -> Path:
    """The shipped runbook's DICOM steps, exactly as written there (needs outside them dropped)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    doc = yaml.load((RUNBOOKS / "integration-validation.yaml").read_text())
    doc["steps"] = [s for s in doc["steps"] if s["id"] in STEPS]
    for step in doc["steps"]:
        step["needs"] = [n for n in step.get("needs", []) if n in STEPS]
        if step["id"] == "validation-report":  # the per-location report, after the transport check
            step["needs"] = ["dicom-transport"]
    doc["parameters"] = {k: v for k, v in doc["parameters"].items()
                         if k in ("location", "imaging_endpoint", "cbct_sample", "cbct_phantom_voxel_mm")}
    with dest.open("w") as f:
        yaml.dump(doc, f)
    return dest


def test_dicom_steps_over_tls_and_the_refusals_in_the_report(run_book: Any, golive_env: Path, tls_env: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client

    from golive.tasks.context import StepContext
    from golive.tasks.foundation.errors import StepFailed
    from golive.tasks.imaging.kinds import run_echo
    from golive.tasks.planning.organization import load_organization
    from golive.tasks.store import Store

    monkeypatch.setenv("GOLIVE_PDF", "off")  # the report's PDF is another test's subject
    org = golive_env / "org.yaml"
    org.write_text(ORG)
    monkeypatch.setenv("GOLIVE_ORG", str(org))
    store = Store.open()  # the run's store: an earlier plain sender is refused and audited there
    earlier = StepContext(run_id="earlier", run_key="earlier", runbook="manual", step_id="echo", step_key="echo",
                          org=load_organization(org), store=store, out_dir=golive_env / "out",
                          audit=lambda e, d: store.audit.append(e, d))
    with pytest.raises(StepFailed, match="tls-required"):
        run_echo(earlier, {"location": "tls-site"})
    store.dispose()

    result = run_book(_transport_part(golive_env / "integration-validation.yaml"),
                      {"location": "tls-site", "imaging_endpoint": {"tls": SENDER_TLS}})
    steps = {s["id"]: s for s in result["steps"]}
    assert {s["state"] for s in result["steps"]} == {"completed"}, {k: (v["state"], v.get("error"))
                                                                   for k, v in steps.items()}
    assert steps["cbct-endpoint"]["outputs"]["transport"] == steps["cbct-send"]["outputs"]["transport"] == "TLS"
    transport = steps["dicom-transport"]["outputs"]
    assert transport["passed"] and transport["refusal_counts"] == {"tls-required": 1}
    assert transport["refusals"][0]["calling_ae"] == "GOLIVE"
    with get_client(sync_client=True) as client:
        artifacts = {a.key: str(a.data) for a in client.read_artifacts(limit=200) if a.key}
    refusals = next(v for k, v in artifacts.items() if k.endswith("imaging-refusals"))  # keys carry the step's prefix
    checks = next(v for k, v in artifacts.items() if k.endswith("imaging-transport"))
    assert "tls-required" in refusals and "127.0.0.1" in refusals and "GOLIVE" in refusals
    assert "TLS only" in checks
    # ... and in the per-location integration-validation report the VP of IT signs
    report = next(Path(p) for p in result["reports"] if p.endswith(".md"))
    text = report.read_text(encoding="utf-8")
    assert "## DICOM transport security" in text and "| TLS required (encryption in transit, TLS 1.2+) | yes |" in text
    assert re.search(r"\| [^|]*127\.0\.0\.1[^|]* \| GOLIVE \| tls-required \|", text), text

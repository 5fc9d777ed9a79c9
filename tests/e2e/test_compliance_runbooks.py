"""The compliance runbooks through Prefect, against real counterparts: the SCIM server and platform
API simulators as processes (the platform over TLS with a test CA), golive's own audit log, the
example group's configuration exports with one known drift; and the PHI guard in
integration-validation: closed without the BAA (PMS sync and DICOM send never run), opened by a
recorded override."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from compliance_support import make_ca, make_leaf, seed_run_store
from docx import Document

from golive.tasks.compliance import evidence
from golive.tasks.compliance.simulators.process import SimulatorProcess, start_platform, start_scim
from golive.tasks.compliance.status import reminders
from golive.tasks.foundation.paths import DEFAULT_ORG, EXAMPLES, RUNBOOKS

pytestmark = pytest.mark.e2e
ACME = EXAMPLES / "acme-dental"


@pytest.fixture
def simulators(golive_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SimulatorProcess, SimulatorProcess]]:
    now = datetime.now(UTC)
    ca = make_ca(golive_env / "pki")
    leaf = make_leaf(golive_env / "pki", "platform", ca=ca, not_before=now - timedelta(days=1),
                     not_after=now + timedelta(days=200))
    scim = start_scim(ACME / "identity" / "directory.json", log_file=golive_env / "scim.log")
    platform = start_platform(certfile=str(leaf.cert), keyfile=str(leaf.key), ca_file=str(ca.pem.cert),
                              log_file=golive_env / "platform.log")
    monkeypatch.setenv("E2E_SCIM_TOKEN", scim.token)
    monkeypatch.setenv("E2E_PLATFORM_TOKEN", platform.token)
    try:
        yield scim, platform
    finally:
        scim.stop()
        platform.stop()


def test_security_compliance(run_book: Any, golive_env: Path, monkeypatch: pytest.MonkeyPatch,
                             simulators: tuple[SimulatorProcess, SimulatorProcess]) -> None:
    scim, platform = simulators
    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    params = {
        "evidence": str(ACME / "compliance" / "evidence.yaml"),
        "platform_url": platform.root, "ca_file": platform.ca_file,
        "platform_api": {"base_url": platform.url, "token": "env:E2E_PLATFORM_TOKEN", "test_patient": "TEST-0001"},
        "directory": {"base_url": scim.url, "token": "env:E2E_SCIM_TOKEN"},
    }
    result = run_book(RUNBOOKS / "security-compliance.yaml", params,
                      decisions={"confirmations": {"user-access-validation": "all"}})
    steps = {s["id"]: s for s in result["steps"]}
    assert result["state"] == "failed"  # the one access violation of the example directory
    assert steps["tls"]["outputs"]["passed"] and steps["deletion"]["outputs"]["passed"]
    assert steps["audit-export"]["outputs"]["passed"] and steps["evidence"]["outputs"]["count"] == 9
    assert steps["access-check"]["outputs"]["violations"] == 1
    assert steps["user-access-validation"]["state"] == "completed" and steps["hipaa-complete"]["state"] == "failed"
    assert "1 access violation(s); grace.lind.27@acme-dental.example at Riverside Orthodontics & Family: beyond matrix" in steps[
        "no-access-violation"]["error"]
    status = steps["status"]["outputs"]
    states = {r["id"]: r["state"] for r in status["requirements"]}
    assert states.pop("rbac") == "failed" and set(states.values()) == {"complete"}
    assert not status["phi_ready"] and status["phi_missing"] == ["rbac: automated check 'access-matrix' failed at riverside-ortho"]
    md, docx = (Path(p) for p in steps["report"]["outputs"]["reports"])
    text = md.read_text()
    assert "**1 violation(s)**" in text and "grace.lind.27@acme-dental.example" in text and "TEST-0001" not in text
    cells = {c.text for t in Document(str(docx)).tables for row in t.rows for c in row.cells}
    assert "Business Associate Agreement executed (before PHI)" in cells and "Riverside Orthodontics & Family" in cells
    assert not any("riverside-ortho" in c for c in cells)  # people read names, not ids


def test_configuration_drift(run_book: Any, monkeypatch: pytest.MonkeyPatch, golive_env: Path) -> None:
    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    result = run_book(RUNBOOKS / "configuration-drift.yaml", {"exports": str(ACME / "platform-config")})
    steps = {s["id"]: s for s in result["steps"]}
    assert result["state"] == "failed" and steps["no-drift"]["state"] == "failed"
    drift = steps["drift"]["outputs"]
    assert drift["drift_count"] == 1 and drift["drift_locations"] == ["old-town"] and len(drift["conforming"]) == 24
    assert "Old Town" in steps["tell-owners"]["outputs"]["message"]  # its name, not its id


def _guarded_part(dest: Path, keep: set[str]) -> Path:
    """The PHI guard and steps it guards, as the shipped runbook has them."""
    from ruamel.yaml import YAML

    yaml = YAML()
    doc = yaml.load((RUNBOOKS / "integration-validation.yaml").read_text())
    keep = {"phi-readiness", "phi-guard", *keep}
    doc["steps"] = [s for s in doc["steps"] if s["id"] in keep]
    for s in doc["steps"]:
        if "needs" in s:
            s["needs"] = [n for n in s["needs"] if n in keep]
    with dest.open("w") as f:
        yaml.dump(doc, f)
    return dest


def test_phi_guard_blocks_without_the_baa_and_opens_by_recorded_override(
        run_book: Any, golive_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from golive.tasks.pms.simulator.process import start_simulator
    from golive.tasks.store import Store

    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    seed_run_store("eastside-specialty", golive_env, skip=("baa",))
    guarded = _guarded_part(golive_env / "guarded.yaml", {"pms-patient-read", "cbct-send"})
    pms_only = _guarded_part(golive_env / "integration-validation.yaml", {"pms-patient-read"})  # no phantom to send
    sim = start_simulator(golive_env / "sim.db", patients=5, seed=3, log_file=golive_env / "sim.log")
    try:
        monkeypatch.setenv("E2E_OD_CUSTOMER", sim.customer_key)
        monkeypatch.setenv("E2E_OD_DEVELOPER", sim.developer_key)
        params = {"location": "eastside-specialty", "test_patient": 1,
                  "pms_connection": {"base_url": sim.url, "secret": "env:E2E_OD_CUSTOMER",
                                     "developer_secret": "env:E2E_OD_DEVELOPER", "allow_insecure_local": True}}
        blocked = {s["id"]: s for s in run_book(guarded, params, run_key="guard-closed")["steps"]}
        assert blocked["phi-guard"]["state"] == "failed"
        assert blocked["pms-patient-read"]["state"] == "skipped" and blocked["cbct-send"]["state"] == "skipped"
        assert sim.status()["stats"]["requests"] == 0  # not one call reached the PMS

        override = {"name": "Helen Marsh", "role": "Legal", "comment": "BAA countersigned today; test patient only"}
        opened = {s["id"]: s for s in run_book(pms_only, params, run_key="guard-overridden",
                                               decisions={"approvals": {"phi-guard": override}})["steps"]}
    finally:
        sim.stop()
    assert opened["phi-guard"]["state"] == "completed" and opened["phi-guard"]["outputs"]["overridden"] is True
    assert opened["pms-patient-read"]["state"] == "completed"
    store = Store.open()
    try:
        (entry,) = [e for e in store.audit.entries() if e.event == "phi_guard.override"]
        assert entry.data["approved_by"] == "Helen Marsh" and entry.data["reason"] == override["comment"]
        assert entry.data["missing"][0].startswith("baa:")
        assert [e.event for e in store.audit.entries() if e.event == "phi_guard.blocked"] == ["phi_guard.blocked"]
        assert [a.role for a in store.approvals_for_run(entry.run_id or "")] == ["Legal"]
        assert store.audit.verify().ok
    finally:
        store.dispose()


def test_vendor_side_pms_steps_and_the_reminder_that_follows_them(run_book: Any, golive_env: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from golive.tasks.store import Store

    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    monkeypatch.setenv("EAGLESOFT_HARBOR_KEY", "harbor-odbc-key-not-to-be-shown")
    # "today" for a run is its day in the organization's time zone (the example group: Chicago)
    asked = (datetime.now(ZoneInfo("America/Chicago")).date() - timedelta(days=5)).isoformat()
    params = {"location": "harbor-point", "patterson_requested_on": asked}
    vendor = {"approvals": {"vendor-configured": {"name": "Priyanka Desai", "role": "Vendor"}}}
    waiting = {s["id"]: s for s in run_book(RUNBOOKS / "pms-vendor-setup.yaml", params, decisions=vendor,
                                            run_key="vendor-1")["steps"]}
    handover = waiting["credential-handover"]["outputs"]
    assert handover["references"] == {"secret": "env:EAGLESOFT_HARBOR_KEY"} and handover["handed_to"] == "Priyanka Desai"
    assert waiting["patterson-request"]["outputs"]["due_on"] == (date_of(asked) + timedelta(days=3)).isoformat()
    assert waiting["patterson-enabled"]["state"] == "failed" and waiting["vendor-configured"]["state"] == "skipped"

    due = {s["id"]: s for s in run_book(RUNBOOKS / "compliance-reminders.yaml", {}, run_key="remind-1")["steps"]}
    (reminder,) = due["due"]["outputs"]["due"]
    assert reminder["subject"] == "patterson-enablement" and reminder["days_left"] == -2 and reminder["to"] == ["VP of IT"]
    assert due["remind"]["state"] == "completed" and "overdue by 2 day(s)" in due["remind"]["outputs"]["message"]

    confirmed = {**vendor, "confirmations": {"patterson-enabled": "all"}}
    done = run_book(RUNBOOKS / "pms-vendor-setup.yaml", params, decisions=confirmed, run_key="vendor-2")
    assert done["state"] == "completed"
    store = Store.open()
    try:
        assert reminders(evidence.history(store), today=datetime.now(UTC).date()) == []  # done: no more reminders
        audit_text = str([e.data for e in store.audit.entries()])
    finally:
        store.dispose()
    assert "harbor-odbc-key-not-to-be-shown" not in audit_text + str(done)


def date_of(text: str) -> date:
    return date.fromisoformat(text)


def test_test_environment_and_migration_counts(run_book: Any, golive_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    source, migrated, failed = (golive_env / n for n in ("source.csv", "migrated.csv", "failed.csv"))
    source.write_text("category,count\nimplant,120\northo,80\n")
    migrated.write_text("category,count\nimplant,119\northo,80\n")
    failed.write_text("record,reason\nPAT-CANARY-77,unreadable series\n")
    result = run_book(RUNBOOKS / "test-environment.yaml",
                      {"migration": "active_imaging", "source_counts": str(source), "migrated_counts": str(migrated),
                       "failed_log": str(failed)},
                      decisions={"approvals": {"migration-decision": {"name": "Dr. Elaine Cho", "role": "CDO"}},
                                 "confirmations": {"test-environment": "all", "migration-checklist": "all"}})
    steps = {s["id"]: s for s in result["steps"]}
    assert result["state"] == "completed", {k: v.get("error") for k, v in steps.items()}
    assert steps["migration-sample"]["outputs"]["failed_records"] == 1 and steps["migration-sample"]["outputs"]["passed"]
    assert "PAT-CANARY-77" not in str(result)  # the failed-records log is counted, never read into results

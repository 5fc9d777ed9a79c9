"""The integration-validation runbook's PMS part through Prefect, against the simulator process;
then PHI canaries are looked for in everything the run left: its result, Prefect's logs and
artifacts, the golive state directory (store, audit log) and the output directory."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from compliance_support import seed_run_store
from pms_support import CLIENT_INTERVAL_S, SIM_THROTTLE_S

from golive.tasks.foundation.paths import DEFAULT_ORG, RUNBOOKS
from golive.tasks.pms.simulator import CANARY_TOKEN
from golive.tasks.pms.simulator.process import start_simulator

pytestmark = pytest.mark.e2e


def _canaries(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT LName, FName, SSN, Birthdate FROM patient").fetchall()
    con.close()
    return [str(v) for row in rows for v in row]


def _pms_part(dest: Path) -> Path:
    """The PMS steps of the shipped runbook, exactly as written there (other parts run in their own tests)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    doc = yaml.load((RUNBOOKS / "integration-validation.yaml").read_text())
    doc["steps"] = [s for s in doc["steps"] if str(s["uses"]).startswith(("pms.", "compliance."))]  # with the PHI guard
    doc["parameters"] = {k: v for k, v in doc["parameters"].items()
                         if k in ("location", "test_patient", "pms_connection")}
    with dest.open("w") as f:
        yaml.dump(doc, f)
    return dest


def test_integration_validation_pms_steps(run_book: Any, golive_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client

    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))
    monkeypatch.setenv("GOLIVE_PSEUDONYM_KEY", "e2e-key")
    seed_run_store("eastside-specialty", golive_env)  # the PHI prerequisites are on record: the guard opens
    sim = start_simulator(golive_env / "sim.db", patients=30, seed=9, throttle_s=SIM_THROTTLE_S,
                          log_file=golive_env / "sim.log")
    try:
        monkeypatch.setenv("E2E_OD_CUSTOMER", sim.customer_key)
        monkeypatch.setenv("E2E_OD_DEVELOPER", sim.developer_key)
        params = {"location": "eastside-specialty", "test_patient": 1,
                  "pms_connection": {"base_url": sim.url, "secret": "env:E2E_OD_CUSTOMER",
                                     "developer_secret": "env:E2E_OD_DEVELOPER", "allow_insecure_local": True,
                                     "request_interval_s": CLIENT_INTERVAL_S}}
        result = run_book(_pms_part(golive_env / "integration-validation.yaml"), params)
        pms_steps = {s["id"]: s for s in result["steps"] if s["id"].startswith("pms-")}
        guard = next(s for s in result["steps"] if s["id"] == "phi-guard")  # steps are listed as they finish
        assert len(pms_steps) == 8
        assert guard["state"] == "completed" and not guard["outputs"]["overridden"]
        assert {s["state"] for s in pms_steps.values()} == {"completed"}, pms_steps
        assert pms_steps["pms-writeback"]["outputs"]["evidence"]["removed"] is True
        assert not [p for p in sim.treatplans() if "golive-idem:" in p["Note"]]
        canaries = _canaries(sim.db)
    finally:
        sim.stop()

    with get_client(sync_client=True) as client:
        logs = "\n".join(log.message for log in client.read_logs(limit=200))
        artifacts = "\n".join(str(a.data) for a in client.read_artifacts(limit=200))
    assert "pms" in artifacts  # the kinds' tables were published
    files = "\n".join(p.read_bytes().decode("latin-1") for p in golive_env.rglob("*")
                      if p.is_file() and p.name not in ("sim.db", "sim.db-wal", "sim.db-shm", "sim.log"))
    for where, hay in {"result": str(result), "prefect logs": logs, "prefect artifacts": artifacts,
                       "state and output files": files}.items():
        assert CANARY_TOKEN not in hay, where
        assert not [c for c in canaries if c in hay], where

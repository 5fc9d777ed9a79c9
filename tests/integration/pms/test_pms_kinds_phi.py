"""The step kinds and `golive pms check` against the simulator process, with the example organization;
PHI canaries planted in the simulator's patients appear 0 times in logs, outputs, artifacts, audit
events, the store and the CLI report."""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

import jsonschema
import pytest
import typer
from pms_support import CLIENT_INTERVAL_S
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from golive.flows.cli.pms import app as pms_app
from golive.flows.engine.org import load_org
from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.foundation.paths import STEP_SCHEMAS
from golive.tasks.pms.kinds import KINDS
from golive.tasks.pms.simulator import CANARY_TOKEN
from golive.tasks.pms.simulator.process import SimProcess
from golive.tasks.store import Store

pytestmark = pytest.mark.integration
LOCATION = "eastside-specialty"  # an Open Dental location in the example organization


def _canaries(sim: SimProcess) -> list[str]:
    con = sqlite3.connect(sim.db)
    out: list[str] = []
    for sql in ("SELECT LName, FName, SSN, Birthdate FROM patient", "SELECT Reaction FROM allergy",
                "SELECT PatNote FROM medicationpat", "SELECT FileName, Description FROM document"):
        out.extend(str(v) for row in con.execute(sql) for v in row if v)
    con.close()
    return out


def _connection(sim: SimProcess, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("SIM_OD_CUSTOMER_KEY", sim.customer_key)
    monkeypatch.setenv("SIM_OD_DEVELOPER_KEY", sim.developer_key)
    return {"base_url": sim.url, "secret": "env:SIM_OD_CUSTOMER_KEY",
            "developer_secret": "env:SIM_OD_DEVELOPER_KEY", "allow_insecure_local": True,
            "request_interval_s": CLIENT_INTERVAL_S}


def _store_dump(store: Store) -> str:
    parts = []
    with store.engine.connect() as c:
        for t in inspect(store.engine).get_table_names():
            parts.extend(str(tuple(r)) for r in c.execute(text(f'SELECT * FROM "{t}"')))
    return "\n".join(parts)


def test_kinds_pass_and_leak_no_phi(clean_sim: SimProcess, store: Store, caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / "home"))
    conn = _connection(clean_sim, monkeypatch)
    org = load_org(None)
    artifacts = NullArtifacts()
    audit: list[tuple[str, Any]] = []
    outputs: dict[str, Any] = {}
    for kind in KINDS:
        schema = json.loads((STEP_SCHEMAS / f"{kind.name}.schema.json").read_text())
        params: dict[str, Any] = {"location": LOCATION, "connection": conn}
        if "test_patient" in schema["properties"]:
            params["test_patient"] = "1"
        jsonschema.validate(params, schema)
        ctx = StepContext(run_id="run-1", run_key="key-1", runbook="integration-validation", step_id=kind.name,
                          step_key=f"{kind.name}[{LOCATION}]", org=org, store=store, out_dir=tmp_path,
                          artifacts=artifacts, audit=lambda e, d: audit.append((e, dict(d))))
        outputs[kind.name] = kind.run(ctx, params)
    assert all(o["status"] == "passed" for o in outputs.values())

    counts = clean_sim.counts()
    with pytest.raises(StepFailed, match=r"not verified on version 24\.4\.8\.0 \(needs 24\.4\.26\)"):
        clean_sim.configure(version="24.4.8.0")  # an Open Dental without TreatPlans DELETE: nothing written
        KINDS[3].run(StepContext(run_id="r", run_key="k", runbook="rb", step_id="wb", step_key="wb", org=org,
                                 store=store, artifacts=artifacts), {"location": LOCATION, "connection": conn,
                                                                     "test_patient": "1"})
    assert clean_sim.counts() == counts
    clean_sim.configure(version="25.3.20.0")

    runner = CliRunner()
    root = typer.Typer()
    root.add_typer(pms_app, name="pms")
    root.command("noop")(lambda: None)
    monkeypatch.setenv("GOLIVE_DATABASE_URL", str(store.url.render_as_string(hide_password=False)))
    cli = runner.invoke(root, ["pms", "check", "--location", LOCATION, "--test-patient", "1", "--json",
                               "--base-url", clean_sim.url, "--secret", "env:SIM_OD_CUSTOMER_KEY",
                               "--developer-secret", "env:SIM_OD_DEVELOPER_KEY", "--allow-insecure-local",
                               "--request-interval", str(CLIENT_INTERVAL_S)])
    assert cli.exit_code == 0, cli.output
    report = json.loads(cli.stdout)
    assert report["passed"] and len(report["checks"]) == 8
    assert report["requests_sent"] == report["estimate"]["requests"] + 1 - 9  # the plan assumes 10 code pages

    canaries = _canaries(clean_sim)
    assert len(canaries) > 100 and all(CANARY_TOKEN in c or c[:2] in ("19", "20") for c in canaries)
    haystacks = {"logs": caplog.text, "outputs": json.dumps(outputs), "artifacts": json.dumps(artifacts.published),
                 "audit": json.dumps(audit), "store": _store_dump(store), "report": cli.output}
    assert "HTTP Request" in caplog.text  # httpx did log: the redaction is what keeps it clean
    for where, text_ in haystacks.items():
        leaked = [c for c in canaries if c in text_]
        assert not leaked, f"PHI canaries in {where}: {len(leaked)}"
    assert CANARY_TOKEN not in "".join(haystacks.values())


def test_cli_bad_input_exits_2(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path))
    root = typer.Typer()
    root.add_typer(pms_app, name="pms")
    root.command("noop")(lambda: None)
    r = CliRunner().invoke(root, ["pms", "check", "--location", "nowhere"])
    assert r.exit_code == 2 and "unknown location" in r.output
    r = CliRunner().invoke(root, ["pms", "check", "--location", LOCATION, "--check", "bogus"])
    assert r.exit_code == 2 and "unknown check" in r.output
    monkeypatch.setenv("X_KEY", "x")
    r = CliRunner().invoke(root, ["pms", "check", "--location", LOCATION, "--base-url", "http://example.com",
                                  "--secret", "env:X_KEY", "--developer-secret", "env:X_KEY"])
    assert r.exit_code == 2 and "plain HTTP is refused" in r.output
    r = CliRunner().invoke(root, ["pms", "check", "--location", LOCATION, "--secret", "sk-literal"])
    assert r.exit_code == 2 and "literal credentials are not accepted" in r.output

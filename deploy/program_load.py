"""The scale test's load: the program's own runs on a generated group, against the simulators.

For `--runs` runs over a generated group of `--locations` locations:
- one integration validation per location (up to half the runs): the PMS part of the
  `integration-validation` runbook (`examples/rehearsal/pms-validation.yaml`: version and credential
  checks against the bundled Open Dental simulator, then the validation recorded for the go-live
  guard). The full runbook also sends and segments CBCT series, minutes per location on 2 cores,
  which a 100-run load cannot afford (the rehearsal leaves it out for the same reason);
- metric writes (`simulate-metrics`), one or two locations each, so runs share locations and take
  their location slots in turn (the case that failed with UniqueViolation);
- the rollback-trigger gate (`rollback-watch`, hourly in production) over five locations each,
  read-only, so it may overlap with the writers.

Everything is started before the cluster so the workers inherit the organization file
(`GOLIVE_ORG`) and the simulator's keys (environment variables the connection references).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cluster
import load

VALIDATION = "golive-runbook/pms-validation"
METRICS = "simulate-metrics/simulate-metrics"
TRIGGER_GATE = "rollback-watch/rollback-watch"
VALIDATION_RUNBOOK = cluster.ROOT / "examples/rehearsal/pms-validation.yaml"
ENTRYPOINT = "golive.flows.engine.entry:golive_runbook"


@dataclass
class Prepared:
    org_file: Path
    locations: list[str]
    connection: dict[str, Any]
    simulators: Any

    def stop(self) -> None:
        self.simulators.stop()


def prepare(locations: int, seed: int = 23) -> Prepared:
    """A generated group of `locations` and the Open Dental simulator, exported to the environment."""
    from ruamel.yaml import YAML

    from golive.flows.cli.rehearse import generated_organization, start_simulators

    home = cluster.STATE / "load"
    shutil.rmtree(home, ignore_errors=True)  # a fresh simulator database for every cluster
    home.mkdir(parents=True)
    org_file = generated_organization(home / f"organization-{locations}.yaml", locations, seed)
    ids = [str(loc["id"]) for loc in YAML(typ="safe").load(org_file.read_text())["locations"]]
    sims = start_simulators(home / "simulators", faults=False)
    os.environ["GOLIVE_ORG"] = str(org_file)
    return Prepared(org_file, ids, sims.connection, sims)


def deploy(env: dict[str, str]) -> None:
    """The two runbook deployments from prefect.yaml, and the entry flow for the validation runbook."""
    import subprocess

    from prefect import get_client

    for name in ("simulate-metrics", "rollback-watch"):  # one at a time: `--pool` applies to one deployment
        subprocess.run([str(cluster.BIN / "prefect"), "--no-prompt", "deploy", "--name", name, "--pool", cluster.POOL],
                       env=env, cwd=cluster.ROOT, check=True, stdout=subprocess.DEVNULL)
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("golive-runbook")
        # As prefect.yaml: the checkout as working directory (never `path=`, which copies the checkout
        # per flow run), and Prefect's engine entry asking for the final state (worker_entry).
        client.create_deployment(
            flow_id=flow_id, name="pms-validation", entrypoint=ENTRYPOINT, work_pool_name=cluster.POOL,
            pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(cluster.ROOT)}}],
            job_variables={"command": f"{cluster.BIN / 'python'} -m golive.flows.engine.worker_entry"})


def runs(prepared: Prepared, n: int) -> list[tuple[str, dict[str, Any]]]:
    """`n` (deployment, parameters) pairs: validations first for every location, interleaved with
    metric writes and trigger-gate runs, so all three kinds run at once."""
    locs = prepared.locations
    validations = [(VALIDATION, {"runbook": str(VALIDATION_RUNBOOK),
                                 "parameters": {"location": loc, "pms_connection": prepared.connection}})
                   for loc in locs[:n // 2]]
    others: list[tuple[str, dict[str, Any]]] = []
    for i in range(n - len(validations)):
        if i % 5 in (1, 3):  # two in five: the trigger gate over five locations
            five = [locs[(i + k) % len(locs)] for k in range(5)]
            others.append((TRIGGER_GATE, {"locations": five, "launch": "record"}))
        else:  # one or two locations (every third writes two)
            pair = [locs[i % len(locs)], locs[(i + 1) % len(locs)]]
            others.append((METRICS, {"locations": pair if i % 3 == 0 else pair[:1]}))
    mixed: list[tuple[str, dict[str, Any]]] = []
    for i in range(max(len(validations), len(others))):
        mixed += validations[i:i + 1] + others[i:i + 1]
    return mixed


def validated() -> int:
    """Locations whose integration validation passed against the simulator (recorded in the store)."""
    return load.store_count("SELECT count(DISTINCT location_id) FROM program_validations WHERE passed")


def duplicated_effects() -> dict[str, int]:
    """Effects recorded more than once in the store: metric keys, and validations per location (the
    row and its audit entry; each location is validated once in the load, so two are a repeat)."""
    return {
        "metric_keys": load.duplicates(),
        "validations": load.store_count("SELECT count(*) FROM (SELECT 1 FROM program_validations "
                                        "GROUP BY location_id HAVING count(*) > 1) d"),
        "validation_audits": load.store_count("SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE event = "
                                              "'program.validation' GROUP BY data::json->>'location' "
                                              "HAVING count(*) > 1) d"),
    }

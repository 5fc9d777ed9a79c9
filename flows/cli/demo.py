"""`make demo`: the main job on the bundled example group (examples/acme-dental), embedded defaults.

Runs in one process so Prefect's temporary server starts once for all runbooks. Each entry is a
runbook with its parameters and the decisions a rollout lead would give in the UI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from golive.flows.cli import demo_compliance, demo_documents, demo_metrics, demo_pms, demo_program, demo_runs
from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import RunbookInvalid, UserInputError

EXAMPLE = paths.EXAMPLES / "acme-dental"
# the shipped segmentation bundle's version, as its MONAI metadata states it
MODEL_VERSION = json.loads((paths.MODELS / "cbct-seg" / "configs" / "metadata.json").read_text())["version"]


@dataclass(frozen=True)
class DemoRun:
    runbook: str
    what: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: Path | None = None
    approve: tuple[str, ...] = ()
    expect: str = "completed"  # a demo entry may show a failure on purpose (e.g. a no-go gate)
    run_key: str | None = None  # a name for the run key when the runbook name alone is ambiguous
    before: Callable[[dict[str, Any]], None] | None = None  # prepares the demo's simulators for this run


# One timeline: the rollout starts Monday 2 March 2026 (week 1); the calendar puts wave 1 in weeks 3-6
# (16 March, go-lives 30 March, the collected pilot's day 0) and wave 2's go-lives from week 10.
ROLLOUT_START = "2026-03-02"
WAVE2_GO_LIVE = "2026-05-04"
# The wave-1 gate's parameters: the collected pilot (weeks after go-live) against the 4 weeks before.
PILOT_GATE = {"locations": "@pilot", "pilot_start": "2026-03-30", "pilot_end": "2026-04-26",
              "baseline_start": "2026-03-02", "baseline_end": "2026-03-29"}

DEMO: tuple[DemoRun, ...] = (
    DemoRun(
        "pre-implementation",
        "Vendor onboarding, prerequisites, baselines from the store (3 late: a recorded override), approvals, brief",
        params={"as_of": ROLLOUT_START,  # no plan stored yet: the run is dated at the rollout's start
                "baseline_files": [str(EXAMPLE / "baseline" / f"{r}.csv") for r in ("central", "north", "east", "west", "south")]},
        inputs=EXAMPLE / "pre-implementation-inputs.yaml",
    ),
    DemoRun(
        "readiness-assessment",
        "Score 25 locations, pick the pilot, wave plan (12-site wave 2 approved), calendar (.ics), baselines",
        params={"start": ROLLOUT_START},  # week 3 = wave 1 (16 March), go-lives in week 5 (30 March)
        inputs=EXAMPLE / "readiness-inputs.yaml",
    ),
    *demo_compliance.runs(DemoRun),  # security and HIPAA verification (PHI guard evidence), configuration drift
    DemoRun(
        "integration-validation",
        "Open Dental location against the bundled simulator: PMS battery; a 0.4 mm CBCT phantom sent, segmented"
        f" (model {MODEL_VERSION} at 1 mm, on its grid and on one shifted half a voxel; jaw edges and crests read"
        " back on the 0.4 mm grid), SEG/SR with implant plans (none within 5 mm of the mental foramen); intraoral;"
        " the location's validation is recorded and its report rendered",
        params={"location": "eastside-specialty", "test_patient": 1, "pms_connection": "@simulator",
                "imaging_endpoint": "@dicom_endpoint"},
        inputs=EXAMPLE / "integration-inputs.yaml",
    ),
    demo_metrics.pilot_run(DemoRun),  # baseline and pilot collected from the source simulators (pilot-ok plan)
    DemoRun(
        "wave-go-live",
        "Wave 1 go-live for the pilot the assessment chose (packs sent to each office manager; debrief with results)",
        params={"wave": 1, "start_date": "2026-03-16", "locations": "@pilot",
                "config_exports": str(EXAMPLE / "platform-config")},
        inputs=EXAMPLE / "wave1-inputs.yaml",
    ),
    DemoRun(
        "go-no-go-wave1",
        "The playbook's six wave-1 criteria: go",
        params={**PILOT_GATE, "next_wave_start": WAVE2_GO_LIVE},
    ),
    DemoRun(
        "roi-report",
        "ROI and value report and the one-page board brief for the pilot, to the outbox",
        params={"locations": "@pilot", "period_start": "2026-03-30", "period_end": "2026-04-26",
                "baseline_start": "2026-03-02", "baseline_end": "2026-03-29", "next_wave_start": WAVE2_GO_LIVE},
    ),
    demo_metrics.outage_run(DemoRun),  # the same pilot, collected again after a 3-day outage (pilot-outage)
    DemoRun(
        "go-no-go-wave1",
        "The same gate on the outage data: no-go",
        params={**PILOT_GATE, "next_wave_start": WAVE2_GO_LIVE},
        expect="failed",
        run_key="go-no-go-wave1-outage",
    ),
    DemoRun(
        "rollback-watch",
        "The hourly trigger watch finds availability < 95% for > 2 days at one location",
        params={"locations": "@pilot", "as_of": "2026-04-10"},
    ),
    DemoRun(
        "rollback",
        "Scoped rollback of the affected location only; the others keep running",
        params={
            "locations": "@affected",
            "reason": "availability below 95% for more than 2 consecutive days",
            "as_of": "2026-04-10",  # the data day the watch found the trigger on (one timeline)
        },
        inputs=EXAMPLE / "rollback-inputs.yaml",
    ),
    demo_metrics.week_run(DemoRun),  # the week after the pilot, one office's PMS silent one day
    DemoRun(
        "weekly-status",
        "Weekly programme status from the risk and issue register; CDO, VP of IT and regional packs; to the outbox",
        params={"locations": "@pilot", "as_of": "2026-04-26"},
    ),
)


def _resolve(params: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """Fill `@pilot` / `@affected` from earlier runs' outputs, as a rollout lead would copy them."""
    return {k: found[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in params.items()}


def _harvest(result: dict[str, Any], found: dict[str, Any]) -> None:
    for step in result["steps"]:
        outputs = step["outputs"]
        if step["id"] == "waves" and outputs.get("pilot"):
            found["pilot"] = outputs["pilot"]
        if step["id"] == "triggers" and "affected" in outputs:
            found["affected"] = [a["location"] for a in outputs["affected"]]


def main() -> int:
    from golive.flows.engine import prefect_env
    from golive.flows.engine.validate import validate_paths

    console = Console(highlight=False, soft_wrap=True)
    books, issues = validate_paths([paths.RUNBOOKS])
    if issues:
        for issue in issues:
            console.print(issue.format(), markup=False)
        return 2
    console.print(f"[bold]golive demo[/] on {EXAMPLE.relative_to(paths.ROOT)}: {len(books)} runbooks valid")
    prefect_env.configure()
    summary = Table("runbook", "state", "expected", "steps", title="golive demo")
    outputs: list[str] = []
    found: dict[str, Any] = {}
    simulator = demo_pms.start_simulator(found)
    compliance_simulators = demo_compliance.start_simulators(found)
    metric_sources = demo_metrics.start(found)
    try:
        from golive.flows.cli import demo_dicom

        demo_dicom.prepare(found)
        demo_dicom.show(console)
        demo_program.reset()  # a fresh rehearsal of the program's lifecycle
        failures = _run_all(console, summary, outputs, found)
        demo_program.show(console)
        failures += demo_pms.version_matrix(console, simulator, found["simulator"])
        failures += demo_runs.show(console)
        demo_metrics.show(console)
        failures += demo_program.rehearse(console)
    finally:
        simulator.stop()
        compliance_simulators.stop()
        metric_sources.stop()
    from golive.tasks.store import Store, verify_report

    code, message = verify_report(Store.open())
    console.print(summary)
    console.print("Reports and files written:")
    for path in outputs:
        console.print(f"  {path}")
    demo_documents.show(console, outputs, paths.out_dir(), found.get("session", ""))
    console.print(f"audit log: {message}")
    console.print(f"state: {paths.state_dir()}  reports: {paths.out_dir()}")
    console.print("Prefect UI: run `.venv/bin/golive server start`, then re-run runbooks to see them there.")
    return 1 if failures or code else 0


def _run_all(console: Console, summary: Table, outputs: list[str], found: dict[str, Any]) -> int:
    from golive.flows.cli.local_run import LocalRun

    # Each demo is a fresh rehearsal: its own run keys, so nothing is reused from an earlier demo
    # (the simulated metrics of one scenario must not stand in for the next).
    session = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    found["session"] = session
    failures = 0
    for number, entry in enumerate(DEMO, start=1):
        console.rule(f"{entry.runbook}: {entry.what}")
        if entry.before is not None:
            entry.before(found)
        try:
            run = LocalRun.prepare(
                entry.runbook,
                _resolve(entry.params, found),
                org=None,
                approve=list(entry.approve),
                confirm=[],
                inputs=entry.inputs,
                run_key=f"demo-{session}-{number:02d}-{entry.run_key or entry.runbook}",
            )
        except (RunbookInvalid, UserInputError) as exc:
            console.print(str(exc), markup=False)
            return 2
        result = run.execute(console=console, interactive=False)
        LocalRun.print_summary(result, console)
        _harvest(result, found)
        if result["state"] != entry.expect:
            failures += 1
        counts = ", ".join(
            f"{sum(s['state'] == k for s in result['steps'])} {k}"
            for k in sorted({s["state"] for s in result["steps"]})
        )
        summary.add_row(entry.runbook, result["state"], entry.expect, counts)
        outputs.extend(result["reports"])
    return failures


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: the main job on the bundled example group (examples/acme-dental), embedded defaults.

Runs in one process so Prefect's temporary server starts once for all runbooks. Each entry is a
runbook with its parameters and the decisions a rollout lead would give in the UI.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from flows import paths
from flows.errors import RunbookInvalid, UserInputError

EXAMPLE = paths.EXAMPLES / "acme-dental"


@dataclass(frozen=True)
class DemoRun:
    runbook: str
    what: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: Path | None = None
    approve: tuple[str, ...] = ()
    expect: str = "completed"  # a demo entry may show a failure on purpose (e.g. a rollback)


DEMO: tuple[DemoRun, ...] = (
    DemoRun("pre-implementation", "Vendor onboarding, prerequisites, five approvals, executive brief",
            inputs=EXAMPLE / "pre-implementation-inputs.yaml"),
)


def main() -> int:
    from flows import prefect_env
    from flows.local_run import LocalRun
    from flows.validate import validate_paths

    console = Console(highlight=False)
    books, issues = validate_paths([paths.RUNBOOKS])
    if issues:
        for issue in issues:
            console.print(issue.format(), markup=False)
        return 2
    console.print(f"[bold]golive demo[/] on {EXAMPLE.relative_to(paths.ROOT)}: {len(books)} runbooks valid")
    prefect_env.configure()
    summary = Table("runbook", "state", "steps", "outputs", title="golive demo")
    failures = 0
    for entry in DEMO:
        console.rule(f"{entry.runbook}: {entry.what}")
        try:
            run = LocalRun.prepare(entry.runbook, entry.params, org=None, approve=list(entry.approve), confirm=[],
                                   inputs=entry.inputs, run_key=None)
        except (RunbookInvalid, UserInputError) as exc:
            console.print(str(exc), markup=False)
            return 2
        result = run.execute(console=console, interactive=False)
        LocalRun.print_summary(result, console)
        if result["state"] != entry.expect:
            failures += 1
        counts = ", ".join(f"{sum(s['state'] == k for s in result['steps'])} {k}"
                           for k in sorted({s["state"] for s in result["steps"]}))
        summary.add_row(entry.runbook, result["state"], counts, "\n".join(result["reports"]) or "-")
    from tasks.store import Store, verify_report

    code, message = verify_report(Store.open())
    console.print(summary)
    console.print(f"audit log: {message}")
    console.print(f"state: {paths.state_dir()}  reports: {paths.out_dir()}")
    console.print("Prefect UI: run `.venv/bin/golive server start`, then re-run runbooks to see them there.")
    return 1 if failures or code else 0


if __name__ == "__main__":
    sys.exit(main())

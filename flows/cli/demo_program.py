"""The program part of `make demo`: each demo is a fresh rehearsal, so what earlier demo runs
recorded in the program (lifecycle, overrides, validations) is forgotten first, audited; at the
end the board (`golive status`) and the schedules `golive schedule sync` would set (dry run)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console


def reset() -> int:
    from sqlalchemy import select

    from golive.tasks.program import repository
    from golive.tasks.store import Store
    from golive.tasks.store.models import RunRow

    store = Store.open()
    try:
        with store.session(readonly=True) as s:
            demo_runs = {r.run_id for r in s.scalars(select(RunRow).where(RunRow.run_key.like("demo-%")))}
        gone = repository.forget_runs(store, demo_runs) if demo_runs else 0
        if gone:
            store.audit.append("program.demo_reset", {"locations": gone, "runs": len(demo_runs)})
        return gone
    finally:
        store.dispose()


def show(console: Console, org: Any = None) -> None:
    from golive.flows.engine.org import load_org
    from golive.tasks.program import board
    from golive.tasks.program.schedules import desired
    from golive.tasks.store import Store

    organization = org or load_org(None)
    store = Store.open()
    try:
        b = board.build(store, organization, datetime.now(UTC).date())
        wanted = desired(store, getattr(organization, "timezone", None) or "UTC",
                         holidays=getattr(organization, "holiday_days", frozenset()))
    finally:
        store.dispose()
    console.rule("program board (golive status)")
    for w in b["waves"]:
        console.print(f"wave {w['wave']}: {w['live']}/{w['locations']} live ({w['progress_pct']}%), last gate "
                      f"{(w['last_gate'] or '—').upper()}, {w['rag'].upper()}")
    phases: dict[str, int] = {}
    for r in b["locations"]:
        phases[r["phase"]] = phases.get(r["phase"], 0) + 1
    console.print("locations by phase: " + ", ".join(f"{k} {v}" for k, v in sorted(phases.items())))
    for o in b["overrides"]:
        console.print(f"override #{o['id']} {o['guard']} ({o['subject']}) by {o['name']} ({o['role']}): {o['reason']}",
                      markup=False)
    console.rule("schedules from the plan (golive schedule sync --dry-run)")
    for d in wanted:
        console.print(f"{d.deployment} {d.cadence()} from {d.anchor}: "
                      f"{'active' if d.active else 'paused'} ({d.why})", markup=False)


def rehearse(console: Console, locations: int = 10, seed: int = 3) -> int:
    """A short whole-program rehearsal (`golive rehearse --generate 10 --seed 3 --until-wave 1`: the
    pilot and its gate, the default test suite's case) in a child process: it owns its home and its
    Prefect server. The demo fails only on a broken invariant or an unexpected run (a rehearsal that
    stops early has no weeks to judge, so its exit is 1 by design)."""
    import json
    import os
    import subprocess
    import sys

    from golive.tasks.foundation import paths

    args = ["rehearse", "--generate", str(locations), "--seed", str(seed), "--until-wave", "1"]
    console.rule(f"whole-program rehearsal, pilot only (golive {' '.join(args)})")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOLIVE_HOME", "PREFECT_"))}
    summary = paths.out_dir() / "rehearsal" / str(seed) / "summary.json"
    summary.unlink(missing_ok=True)  # never read an earlier demo's figures
    proc = subprocess.run([sys.executable, "-m", "golive.flows.cli.main", *args], env=env, capture_output=True,
                          text=True, check=False, cwd=paths.ROOT)
    if not summary.exists():
        console.print(f"rehearsal wrote no summary (exit {proc.returncode}): {proc.stderr[-600:]}", markup=False)
        return 1
    s = json.loads(summary.read_text(encoding="utf-8"))
    console.print(f"{s['locations']} locations: full deployment {s['full_deployment'] or 'not reached (stopped early)'}, "
                  f"{s['runs']} runbook runs over {s['simulated_days']} simulated days in {s['wall_s']} s", markup=False)
    for r in s["invariants"]:
        shown = "not exercised by the pilot alone" if not r["checked"] else f"checked {r['checked']}, broken {r['broken']}"
        console.print(f"  {r['invariant']}: {shown}", markup=False)
    for n in s["notes"]:
        console.print(f"  {n}", markup=False)
    console.print(f"timeline: {summary.parent / 'timeline.png'}, {summary.parent / 'timeline.ics'}", markup=False)
    broken = any(r["broken"] for r in s["invariants"])
    return 0 if s["invariants"] and not broken and not s["failed_runs"] else 1

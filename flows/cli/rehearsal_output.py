"""What a rehearsal writes: the timeline as a Gantt chart (PNG) and a calendar (.ics), the
invariant table and a JSON summary, all under out/rehearsal/<seed>/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from golive.flows.cli.rehearsal import Outcome

COLOURS = {"phase": "#4c72b0", "prep": "#8fb3de", "golive": "#2e8b57", "gate": "#222222", "rollback": "#c44e52",
           "deferred": "#dd8452"}


def gantt(outcome: Outcome, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    bars = outcome.bars
    fig, ax = plt.subplots(figsize=(12, 0.35 * len(bars) + 1.8))
    for i, b in enumerate(bars):
        start = mdates.date2num(b.start)
        width = max(1.0, (b.end - b.start).days + 1)
        ax.barh(i, width, left=start, color=COLOURS.get(b.kind, "#999999"), height=0.6)
    ax.set_yticks(range(len(bars)), [b.label for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=0, interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    if outcome.full_deployment:
        ax.axvline(mdates.date2num(outcome.full_deployment), color="#2e8b57", linestyle="--", linewidth=1)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ics(outcome: Outcome, path: Path, name: str) -> Path:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//golive//rehearsal//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = datetime.now(UTC)
    for i, b in enumerate(outcome.bars):
        ev = Event()
        ev.add("uid", f"rehearsal-{i}-{b.start.isoformat()}@golive")
        ev.add("dtstamp", stamp)
        ev.add("summary", b.label)
        ev.add("dtstart", b.start)
        ev.add("dtend", b.end + timedelta(days=1))  # all-day events end the day after (RFC 5545)
        ev.add("categories", [b.kind])
        cal.add_component(ev)
    path.write_bytes(cal.to_ical())
    return path


def invariant_rows(outcome: Outcome) -> list[dict[str, Any]]:
    return [{"invariant": k, "days": t.days, "checked": t.checked, "broken": t.broken,
             "holds": "not exercised" if k in outcome.not_exercised and not t.checked
             else t.checked > 0 and t.broken == 0, "first_break": t.first}
            for k, t in outcome.invariants.items()]


def summary(outcome: Outcome, scenario: str, seed: int) -> dict[str, Any]:
    return {"scenario": scenario, "seed": seed, "locations": outcome.locations, "start": outcome.start.isoformat(),
            "full_deployment": outcome.full_deployment.isoformat() if outcome.full_deployment else None,
            "weeks": outcome.weeks, "playbook_weeks": list(outcome.playbook) if outcome.playbook else None,
            "weeks_ok": outcome.weeks_ok, "invariants_ok": outcome.invariants_ok,
            "confirmed_on": outcome.confirmed_on.isoformat() if outcome.confirmed_on else None,
            "invariants": invariant_rows(outcome), "runs": outcome.runs, "failed_runs": outcome.failed_runs,
            "simulated_days": outcome.simulated_days, "wall_s": round(outcome.wall_s, 1),
            "runs_s": round(outcome.run_s, 1), "invariant_checks_s": round(outcome.check_s, 1),
            "days_per_s": round(outcome.simulated_days / outcome.wall_s, 2) if outcome.wall_s else None,
            "gates": {str(n): {"runs": len(g.runs), "first": g.runs[0][0].isoformat() if g.runs else None,
                               "last": g.runs[-1][0].isoformat() if g.runs else None,
                               "go_on": g.go_on.isoformat() if g.go_on else None, "verdict": g.verdict,
                               "decided_on": g.decided_on.isoformat() if g.decided_on else None,
                               "rolled_back": g.rolled_back}
                      for n, g in sorted(outcome.gates.items())},
            "notes": outcome.notes}


def markdown(s: dict[str, Any]) -> str:
    lines = [f"# Rehearsal: {s['locations']} locations, scenario {s['scenario']}, seed {s['seed']}", "",
             f"Full deployment on {s['full_deployment']}: **{s['weeks']} weeks** from {s['start']} "
             f"(playbook {'–'.join(map(str, s['playbook_weeks'] or [])) or 'n/a'}: "
             f"{'within' if s['weeks_ok'] else 'OUTSIDE'}). "
             + (f"Confirmed by the wave 3 gate on {s['confirmed_on']}." if s["confirmed_on"]
                else "**Not confirmed**: the wave 3 gate gave no GO (or recorded decision)."), "",
             "| invariant | days checked | checks | broken | holds | first break |", "|---|---|---|---|---|---|"]
    for r in s["invariants"]:
        holds = r["holds"] if isinstance(r["holds"], str) else "yes" if r["holds"] else "NO"
        lines.append(f"| {r['invariant']} | {r['days']} | {r['checked']} | {r['broken']} | {holds} | "
                     f"{r['first_break'] or '—'} |")
    lines += ["", f"{s['runs']} runbook runs over {s['simulated_days']} simulated days in {s['wall_s']} s "
              f"({s['runs_s']} s in runs, {s['invariant_checks_s']} s checking invariants)."]
    for n, g in s.get("gates", {}).items():
        lines.append(f"- wave {n} gate: {g['runs']} daily run(s) {g['first']}..{g['last']}, "
                     + (f"GO on {g['go_on']}, then stopped" if g["go_on"] else
                        f"{str(g['verdict']).upper()} decided by the COO on {g['decided_on']}, then stopped"
                        if g["decided_on"] else f"last verdict {str(g['verdict']).upper()}"))
    lines += [f"- {n}" for n in s["notes"]]
    lines += [f"- run not as expected: {f}" for f in s["failed_runs"]]
    return "\n".join(lines) + "\n"


def write(outcome: Outcome, out: Path, scenario: str, seed: int) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    s = summary(outcome, scenario, seed)
    title = f"golive rehearsal: {outcome.locations} locations, {scenario}, seed {seed} ({outcome.weeks} weeks)"
    files = {"gantt": gantt(outcome, out / "timeline.png", title),
             "calendar": ics(outcome, out / "timeline.ics", title)}
    files["invariants"] = out / "invariants.md"
    files["invariants"].write_text(markdown(s), encoding="utf-8")
    files["summary"] = out / "summary.json"
    files["summary"].write_text(json.dumps(s, indent=2), encoding="utf-8")
    return files

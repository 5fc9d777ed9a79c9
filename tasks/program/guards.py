"""The playbook's hard rules as guards. Each returns what blocks a change (empty: clear); a block
is lifted only by a recorded override (`repository.record_override`) for the same guard and
subject, given by a named person in one of the roles the runbook names, with a reason.

Rules (implementation playbook):
- previous-wave-go: wave N+1 goes live only on a stored GO for wave N (section 4, gates).
- integration-validated: a location goes live only with its integration validation passed (section 5).
- baselines: pilot activity needs complete baselines for the pilot locations (section 2).
- wave-size: waves of 2–3 (pilot), 5–8 (wave 2), the rest (wave 3) (section 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from golive.tasks.program import repository

WAVE_SIZES = {1: (2, 3), 2: (5, 8)}  # wave 3: "the rest"


@dataclass(frozen=True)
class Block:
    guard: str
    subject: str  # a location id, or "wave N"
    wave: int | None
    rule: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"guard": self.guard, "subject": self.subject, "wave": self.wave, "rule": self.rule,
                "detail": self.detail}

    def format(self) -> str:
        return f"{self.guard} ({self.subject}): {self.detail} — rule: {self.rule}"


def previous_wave_go(store: Any, wave: int | None) -> list[Block]:
    if wave is None or wave <= 1:
        return []
    from golive.tasks.gates.repository import verdicts

    prior = [v for v in verdicts(store) if v["wave"] == str(wave - 1)]
    rule = f"wave {wave} goes live only on a stored GO for wave {wave - 1}"
    if not prior:
        return [Block("previous-wave-go", f"wave {wave}", wave, rule, f"no gate verdict stored for wave {wave - 1}")]
    last = prior[-1]
    if last["verdict"] != "go":
        return [Block("previous-wave-go", f"wave {wave}", wave, rule,
                      f"the latest wave {wave - 1} verdict is {last['verdict'].upper()} "
                      f"({last['gate']} as of {last['as_of']}, verdict #{last['id']})")]
    return []


def integration_validated(store: Any, locations: Iterable[str], wave: int | None = None) -> list[Block]:
    results = repository.latest_validations(store)
    out = []
    for loc in locations:
        r = results.get(loc)
        if r is None or not r["passed"]:
            out.append(Block("integration-validated", loc, wave, "a location goes live only with its integration "
                             "validation passed", "no integration validation recorded" if r is None
                             else f"integration validation failed (run {r['run_id']})"))
    return out


def baselines(store: Any, org: Any, locations: Sequence[str], today: date, wave: int | None = 1) -> list[Block]:
    from golive.tasks.planning.metrics import baseline_report

    report = baseline_report(store, org, today, today)
    by_id = {c.location_id: c for c in report.locations}
    out = []
    for loc in locations:
        c = by_id.get(loc)
        if c is None or c.status != "complete":
            missing = ", ".join(c.missing[:5]) + (" ..." if len(c.missing) > 5 else "") if c else "unknown location"
            have = f"{c.reported}/{c.expected}" if c else "0"
            out.append(Block("baselines", loc, wave, "baseline metrics are complete before any pilot activity "
                             "(no baseline, no ROI)", f"baseline {have} metrics; missing {missing}"))
    return out


def wave_size(wave: int | None, planned: Sequence[str]) -> list[Block]:
    if wave not in WAVE_SIZES:
        return []
    lo, hi = WAVE_SIZES[wave]
    n = len(planned)
    if n <= hi:  # a wave fills up as it is scheduled; only an oversized one needs a decision
        return []
    return [Block("wave-size", f"wave {wave}", wave, f"wave {wave} has {lo}–{hi} locations (playbook)",
                  f"{n} location(s) planned: split the wave, or approve its size")]


def lifted(blocks: Sequence[Block], store: Any) -> tuple[list[Block], dict[tuple[str, str], int]]:
    """(still blocking, {(guard, subject): override id}) given the overrides on record."""
    recorded = {(o["guard"], o["subject"]): int(o["id"]) for o in repository.overrides(store)}
    still = [b for b in blocks if (b.guard, b.subject) not in recorded]
    used = {(b.guard, b.subject): recorded[(b.guard, b.subject)] for b in blocks if (b.guard, b.subject) in recorded}
    return still, used

"""Explicit completeness: a day the collectors recorded as missing makes a criterion that reads
it `inconclusive`, never a pass on fewer days.

A criterion is touched when one of its locations (or its baseline's) has a missing day of its
metric inside its window (or its baseline window: with go-lives given, each location's own baseline
days before its go-live, see `criteria.own_baselines`). A pass becomes inconclusive, naming the
missing days; a failure stays a failure (the days that were collected already fail it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from golive.tasks.gates.criteria import Criterion, GateSpec, Status, own_baselines
from golive.tasks.gates.verdict import CriterionResult, LocationResult, Verdict, decide

Gap = tuple[str, str, date, str, str]  # location, metric, day, source, reason


def _touching(crit: Criterion, spec: GateSpec, as_of: date, gaps: Sequence[Gap]) -> list[Gap]:
    first, last = crit.window.resolve(as_of)
    spans = [(first, last, spec.locations)]
    own = own_baselines(crit, spec, last)
    if crit.baseline is not None and own is None:
        b_first, b_last = crit.baseline.window.resolve(last)
        spans.append((b_first, b_last, crit.baseline.locations or spec.locations))
    live = spec.live

    def read(g: Gap, i: int) -> bool:
        # With go-lives given, the current window reads a location only from its own go-live (none of a
        # location not live yet): a day missing before it is not a day the criterion would have read.
        return i > 0 or live is None or (g[0] in live and g[2] >= live[g[0]])

    def in_own_baseline(g: Gap) -> bool:
        # Each location's own baseline days (a staggered wave), those of locations in scope only.
        return own is not None and g[0] in own and (spec.locations is None or g[0] in spec.locations) \
            and own[g[0]][0] <= g[2] <= own[g[0]][1]

    return [g for g in gaps if g[1] == crit.metric and (in_own_baseline(g) or any(
        lo <= g[2] <= hi and (locs is None or g[0] in locs) and read(g, i) for i, (lo, hi, locs) in enumerate(spans)))]


def apply_gaps(verdict: Verdict, spec: GateSpec, gaps: Sequence[Gap]) -> Verdict:
    if not gaps:
        return verdict
    by_id = {c.id: c for c in spec.criteria}
    results: list[CriterionResult] = []
    for res in verdict.criteria:
        crit = by_id.get(res.id)
        hit = _touching(crit, spec, verdict.as_of, gaps) if crit is not None else []
        if not hit or res.status is not Status.PASS:
            results.append(res)
            continue
        missing = sorted({(g[0], g[2]) for g in hit})
        shown = ", ".join(f"{loc} {day}" for loc, day in missing[:6]) + (" …" if len(missing) > 6 else "")
        why = sorted({f"{g[3]}: {g[4]}" for g in hit})[:3]
        reason = f"{len(missing)} location-day(s) missing from collection ({shown}); " + "; ".join(why)
        locs = {g[0] for g in hit}
        per = tuple(dataclasses.replace(r, status=Status.INCONCLUSIVE, detail=f"{r.detail}; missing days")
                    if r.location in locs else r for r in res.results)
        evidence = {**res.evidence, "missing": [{"location": loc, "day": day.isoformat()} for loc, day in missing]}
        results.append(dataclasses.replace(res, status=Status.INCONCLUSIVE, reason=reason, evidence=evidence,
                                           results=per))
    final = tuple(results)
    decision, reasons = decide(final)
    total = sum(c.weight for c in final) or 1.0
    score = sum(c.weight for c in final if c.status is Status.PASS) / total
    return dataclasses.replace(verdict, criteria=final, decision=decision, reasons=reasons, score=score)


__all__ = ["Gap", "LocationResult", "apply_gaps"]

"""A seeded simulator of daily post-go-live metrics, driven by a scenario file.

For demos, tests and rehearsals only: the numbers are made up by design (labelled `source:
simulator` when stored). Each location draws from its own random stream seeded by
(scenario seed, location id), so a location's series does not change when others are added.

Day 0 is `start` (go-live). Baseline days (`baseline_days` before it) carry only the metrics a
baseline report would have (case acceptance, treatment plans). Metrics produced, per location
and day (rates in percent with their counts):

    uptime_pct, treatment_plans, adoption_pct (platform plans / all plans), case_acceptance_pct
    (accepted / presented), support_tickets, training_completion_pct (trained / staff),
    training_hours (once, on the day training completes), providers_refusing_pct (refusing /
    providers, from the day training completes), critical_clinical_errors, data_loss_incidents,
    critical_bugs_open, champion_ready (1 = "ready to recommend", surveyed weekly)
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from golive.tasks.foundation.errors import RunbookInvalid, UserInputError
from golive.tasks.foundation.paths import SCHEMAS
from golive.tasks.gates.observations import MetricSeries, Observations

METRICS = (
    "uptime_pct", "treatment_plans", "adoption_pct", "case_acceptance_pct", "support_tickets",
    "training_completion_pct", "training_hours", "providers_refusing_pct", "critical_clinical_errors",
    "data_loss_incidents", "critical_bugs_open", "champion_ready",
)


class ScenarioError(UserInputError):
    """A scenario file is malformed or names a location that is not simulated."""


@dataclass(frozen=True)
class Scenario:
    """The parsed scenario: plain data, defaults filled in."""

    name: str
    seed: int
    start: date
    days: int
    baseline_days: int
    settings: Mapping[str, Any]

    def get(self, section: str, key: str, default: Any) -> Any:
        return (self.settings.get(section) or {}).get(key, default)

    def events(self, section: str) -> list[Mapping[str, Any]]:
        return list(self.settings.get(section) or [])


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    return node


def load_scenario(path: str | Path) -> Scenario:
    """Load and check a scenario YAML (file:line:col errors as for runbooks)."""
    import json

    from golive.tasks.foundation.schema_check import schema_issues
    from golive.tasks.foundation.yamlsafe import load_yaml

    doc = load_yaml(path)
    schema = json.loads((SCHEMAS / "scenario.schema.json").read_text(encoding="utf-8"))
    issues = schema_issues(doc, schema, str(path))
    if issues:
        raise RunbookInvalid(issues)
    return scenario_from_dict(_plain(doc))


def scenario_from_dict(raw: Mapping[str, Any]) -> Scenario:
    try:
        start = date.fromisoformat(str(raw["start"]))
    except (KeyError, ValueError) as exc:
        raise ScenarioError("scenario needs start: YYYY-MM-DD (the go-live day)") from exc
    days = int(raw.get("days", 28))
    if days < 1:
        raise ScenarioError("scenario days must be at least 1")
    settings = {k: v for k, v in raw.items() if k not in ("name", "seed", "start", "days", "baseline_days")}
    return Scenario(str(raw.get("name", "scenario")), int(raw.get("seed", 0)), start, days,
                    int(raw.get("baseline_days", 0)), settings)


def _targets(spec: Any, locations: Sequence[str]) -> list[int]:
    """Rows an event applies to: "*" (all), an id, "#N" (the N-th simulated location), or a list."""
    if isinstance(spec, list):
        return sorted({r for s in spec for r in _targets(s, locations)})
    text = str(spec)
    if text == "*":
        return list(range(len(locations)))
    if text.startswith("#"):
        n = int(text[1:])
        if not 1 <= n <= len(locations):
            raise ScenarioError(f"scenario location {text} is outside the {len(locations)} simulated locations")
        return [n - 1]
    if text not in locations:
        raise ScenarioError(f"scenario names location {text!r}, which is not simulated")
    return [locations.index(text)]


def _rng(seed: int, location: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(location.encode("utf-8"))])


def simulate(scenario: Scenario, locations: Sequence[str], starts: Mapping[str, date] | None = None) -> Observations:
    """Daily metrics for `locations` over the baseline days and `scenario.days` days from go-live:
    each location's own go-live in `starts` (a wave's staggered go-lives), else `scenario.start`.
    A location's series (and its events' days) count from its own go-live, so nothing of it is
    post-go-live before that day; its random stream does not depend on the day."""
    aligned = _simulate(scenario, locations)
    own = {loc: (starts or {}).get(loc, scenario.start) for loc in aligned.locations}
    if all(d == scenario.start for d in own.values()):
        return aligned
    first_live = min(own.values())
    shift = [(own[loc] - first_live).days for loc in aligned.locations]
    days = aligned.days + max(shift)
    metrics = {}
    for name, series in aligned.metrics.items():
        def place(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            out = np.full((a.shape[0], days), np.nan)
            for r, k in enumerate(shift):
                out[r, k:k + aligned.days] = a[r]
            return out

        values = place(series.values)
        assert values is not None
        metrics[name] = MetricSeries(values, place(series.numerator), place(series.denominator))
    return Observations(locations=aligned.locations, start=first_live - timedelta(days=scenario.baseline_days),
                        days=days, metrics=metrics)


def _simulate(scenario: Scenario, locations: Sequence[str]) -> Observations:
    """Every location going live on `scenario.start`."""
    locs = list(locations)
    if not locs:
        raise ScenarioError("no locations to simulate")
    pre, post = scenario.baseline_days, scenario.days
    total = pre + post
    first = scenario.start - timedelta(days=pre)
    shape = (len(locs), total)
    out = {m: np.full(shape, np.nan) for m in METRICS}
    num = {m: np.full(shape, np.nan) for m in ("adoption_pct", "case_acceptance_pct",
                                               "training_completion_pct", "providers_refusing_pct")}
    den = {m: np.full(shape, np.nan) for m in num}
    g = scenario.get
    t = np.arange(post, dtype=float)  # days since go-live

    for r, loc in enumerate(locs):
        rng = _rng(scenario.seed, loc)
        # Treatment plans and case acceptance exist before go-live too (the baseline).
        plans = rng.poisson(float(g("volume", "plans_per_day", 12)), total).astype(float)
        presented = rng.poisson(float(g("volume", "presented_per_day", 10)), total).astype(float)
        base_rate = float(g("acceptance", "baseline_pct", 60)) / 100
        change = float(g("acceptance", "change_pts", 0.0)) / 100
        rate = np.r_[np.full(pre, base_rate), np.full(post, np.clip(base_rate + change, 0, 1))]
        accepted = rng.binomial(presented.astype(int), rate).astype(float)
        out["treatment_plans"][r] = plans
        with np.errstate(invalid="ignore", divide="ignore"):
            out["case_acceptance_pct"][r] = np.where(presented > 0, 100 * accepted / presented, np.nan)
        num["case_acceptance_pct"][r], den["case_acceptance_pct"][r] = accepted, presented
        s = slice(pre, total)
        # Adoption approaches its plateau exponentially (half-life in days), binomial day to day.
        a0, a1 = float(g("adoption", "start_pct", 30)) / 100, float(g("adoption", "plateau_pct", 90)) / 100
        half = max(float(g("adoption", "half_life_days", 4)), 0.1)
        p_adopt = a1 - (a1 - a0) * 0.5 ** (t / half)
        p_adopt = np.clip(p_adopt + rng.normal(0, float(g("adoption", "spread_pct", 1.0)) / 100), 0, 1)
        adopted = rng.binomial(plans[s].astype(int), p_adopt).astype(float)
        out["adoption_pct"][r, s] = np.where(plans[s] > 0, 100 * adopted / np.maximum(plans[s], 1), np.nan)
        num["adoption_pct"][r, s], den["adoption_pct"][r, s] = adopted, plans[s]
        # Uptime: near the normal level; outages set it for their days.
        normal = float(g("uptime", "normal_pct", 99.9))
        noise = float(g("uptime", "noise_pct", 0.05))
        out["uptime_pct"][r, s] = np.clip(normal + rng.normal(0, noise, post), 0, 100)
        # Tickets decay from the go-live surge.
        t0, decay = float(g("tickets", "start_per_day", 8)), float(g("tickets", "decay_per_day", 0.05))
        floor = float(g("tickets", "floor_per_day", 1))
        out["support_tickets"][r, s] = rng.poisson(floor + (t0 - floor) * np.exp(-decay * t)).astype(float)
        # Training: staff trained linearly up to `complete_day` (days from go-live; <= 0: done before).
        staff = int(g("training", "staff", 12))
        done_day = int(g("training", "complete_day", 0))
        trained = np.floor(staff * np.clip((t + 1) / (max(done_day, 0) + 1), 0, 1))
        out["training_completion_pct"][r, s] = 100 * trained / staff
        num["training_completion_pct"][r, s], den["training_completion_pct"][r, s] = trained, staff
        hours = float(g("training", "hours_per_location", 16)) + rng.normal(0, float(g("training", "hours_spread", 1.5)))
        out["training_hours"][r, pre + min(max(done_day, 0), post - 1)] = round(max(hours, 1.0), 1)
        # Refusals: measured from the day training completes.
        providers = int(g("providers", "per_location", 4))
        refusing = np.full(post, float(int(g("providers", "refusing", 0))))
        measured = t >= max(done_day, 0)
        out["providers_refusing_pct"][r, s] = np.where(measured, 100 * refusing / providers, np.nan)
        num["providers_refusing_pct"][r, s] = np.where(measured, refusing, np.nan)
        den["providers_refusing_pct"][r, s] = np.where(measured, providers, np.nan)
        out["critical_clinical_errors"][r, s] = 0.0
        out["data_loss_incidents"][r, s] = 0.0
        # Critical bugs: each opened on go-live day is resolved on a random day up to the limit.
        bugs = int(g("bugs", "critical_per_location", 1))
        resolve_by = int(g("bugs", "resolved_by_day", 10))
        fixed_on = rng.integers(0, max(resolve_by, 1), size=bugs)
        out["critical_bugs_open"][r, s] = (fixed_on[None, :] >= t[:, None]).sum(axis=1) if bugs else 0.0
        # Champion survey, weekly from day 6.
        ready = 1.0 if bool(g("champion", "ready", True)) else 0.0
        survey = (t >= 6) & ((t - 6) % 7 == 0)
        out["champion_ready"][r, s] = np.where(survey, ready, np.nan)

    for ev in scenario.events("outages"):
        d0, n = int(ev["day"]), int(ev.get("days", 1))
        for r in _targets(ev["location"], locs):
            cols = slice(pre + max(d0, 0), pre + min(d0 + n, post))
            out["uptime_pct"][r, cols] = float(ev.get("uptime_pct", 80.0))
            # Outage days bring more tickets (twice the usual plus a fixed surge).
            out["support_tickets"][r, cols] = out["support_tickets"][r, cols] * 2 + float(ev.get("extra_tickets", 6))
    for ev in scenario.events("refusals"):
        for r in _targets(ev["location"], locs):
            d0 = pre + max(int(ev.get("day", 0)), 0)
            measured_providers = den["providers_refusing_pct"][r, d0:]
            k = float(ev["refusing"])
            num["providers_refusing_pct"][r, d0:] = np.where(np.isfinite(measured_providers), k, np.nan)
            out["providers_refusing_pct"][r, d0:] = np.where(np.isfinite(measured_providers),
                                                             100 * k / measured_providers, np.nan)
    for section, metric in (("critical_errors", "critical_clinical_errors"), ("data_loss", "data_loss_incidents")):
        for ev in scenario.events(section):
            for r in _targets(ev["location"], locs):
                d0 = pre + int(ev["day"])
                if pre <= d0 < total:
                    out[metric][r, d0] += float(ev.get("count", 1))
    for ev in scenario.events("training_gaps"):
        for r in _targets(ev["location"], locs):
            staff_n = den["training_completion_pct"][r, pre:]
            capped = np.minimum(num["training_completion_pct"][r, pre:], staff_n - int(ev.get("untrained", 1)))
            num["training_completion_pct"][r, pre:] = capped
            out["training_completion_pct"][r, pre:] = 100 * capped / staff_n
    for ev in scenario.events("champion_not_ready"):
        for r in _targets(ev["location"], locs):
            out["champion_ready"][r] = np.where(np.isfinite(out["champion_ready"][r]), 0.0, np.nan)

    metrics = {m: MetricSeries(out[m], num.get(m), den.get(m)) for m in METRICS}
    return Observations(locations=tuple(locs), start=first, days=total, metrics=metrics)

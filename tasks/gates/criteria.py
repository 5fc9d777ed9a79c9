"""What a gate checks: criteria as frozen values, parsed from a runbook's `with: {criteria: [...]}`.

Every criterion names a metric, a scope, a window, a minimum number of samples and exactly one
test. Thresholds are in the metric's own unit (rates are percentages, 0-100).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any

from golive.tasks.foundation.errors import UserInputError


class GateSpecError(UserInputError):
    """A gate criterion is malformed (unknown test, missing threshold, unknown period)."""


class Scope(str, Enum):
    LOCATION = "location"  # every location on its own; the criterion fails if any location fails
    WAVE = "wave"  # all samples of the wave's locations pooled
    ACROSS = "across"  # one statistic over per-location aggregates (dispersion)


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Op(str, Enum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="


AGGREGATES = ("mean", "median", "min", "max", "sum", "last", "rate")
TESTS = ("threshold", "no_decrease", "decrease", "trend", "dispersion", "consecutive")
METHODS = ("auto", "two_proportion", "welch", "mann_whitney", "one_sample")


@dataclass(frozen=True)
class Window:
    """Days `start`..`end` inclusive, or the last `last_days` days up to the gate's `as_of` date."""

    last_days: int | None = None
    start: date | None = None
    end: date | None = None
    period: str | None = None  # the name it was given, for the evidence

    def resolve(self, as_of: date) -> tuple[date, date]:
        if self.last_days is not None:
            return as_of - timedelta(days=self.last_days - 1), as_of
        assert self.start is not None and self.end is not None
        return self.start, min(self.end, as_of)

    @property
    def length(self) -> int:
        """Days the window spans, before any clipping to `as_of`."""
        if self.last_days is not None:
            return self.last_days
        assert self.start is not None and self.end is not None
        return (self.end - self.start).days + 1

    def describe(self) -> str:
        if self.last_days is not None:
            return f"last {self.last_days} days"
        return self.period or f"{self.start}..{self.end}"


@dataclass(frozen=True)
class Baseline:
    """The reference sample of a change test: a window, optionally over other locations (an earlier wave)."""

    window: Window
    locations: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Criterion:
    id: str
    metric: str
    test: str
    scope: Scope = Scope.LOCATION
    window: Window = Window(last_days=14)
    title: str = ""
    critical: bool = True
    weight: float = 1.0
    min_samples: int = 1
    min_baseline_samples: int | None = None  # change tests: days needed in the baseline (default min_samples)
    aggregate: str = "mean"  # how a window's samples become one number (threshold, dispersion)
    combine: str = "mean"  # how locations' daily values become one wave series (trend)
    op: Op | None = None
    value: float | None = None
    baseline: Baseline | None = None
    method: str = "auto"
    alpha: float = 0.05
    power: float = 0.8
    max_detectable: float | None = None  # a no-decrease pass needs a detectable decrease this small
    direction: str = "decreasing"
    max_cv: float | None = None
    min_locations: int = 2
    max_days: int | None = None  # consecutive: fail when the condition held longer than this
    min_days: int | None = None  # consecutive: pass only when it held at least this long, up to the end
    source: str = ""

    def label(self) -> str:
        return self.title or self.id


@dataclass(frozen=True)
class GateSpec:
    """The whole gate: its criteria, the decision date and, for wave scopes, the wave's locations."""

    criteria: tuple[Criterion, ...]
    as_of: date | None = None
    locations: tuple[str, ...] | None = None
    name: str = "gate"
    periods: Mapping[str, tuple[date, date]] = field(default_factory=dict)
    # Each location's go-live (when given): its days before it count in no window but baselines (its
    # own baseline: see `own_baselines`), a location in scope without one is not live (nothing of it
    # counts), and a GO needs every location in scope live for at least `min_live_days` days by `as_of`.
    live: Mapping[str, date] | None = None
    min_live_days: int = 0


def own_baselines(crit: Criterion, spec: GateSpec, last: date) -> dict[str, tuple[date, date]] | None:
    """Each live location's own baseline days for a change test: as many days as the baseline window
    spans, ending the day before its own go-live (and by `last`). A staggered wave's later location
    is then compared with the weeks just before it went live, not with a window that ended weeks
    earlier. None (the baseline window as written) without go-lives or for a baseline over other
    locations (an earlier wave, whose own window is the reference)."""
    if spec.live is None or crit.baseline is None or crit.baseline.locations is not None:
        return None
    days = crit.baseline.window.length
    return {loc: (day - timedelta(days=days), min(day - timedelta(days=1), last)) for loc, day in spec.live.items()}


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise GateSpecError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from exc


def parse_window(raw: Any, periods: Mapping[str, tuple[date, date]], where: str) -> Window:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"last_days": raw}
    if isinstance(raw, str):
        raw = {"period": raw}
    if not isinstance(raw, Mapping):
        raise GateSpecError(f"{where}: a window is {{last_days: N}}, {{period: NAME}} or {{start, end}}")
    if "last_days" in raw:
        days = int(raw["last_days"])
        if days < 1:
            raise GateSpecError(f"{where}: last_days must be at least 1")
        return Window(last_days=days)
    if "period" in raw:
        name = str(raw["period"])
        if name not in periods:
            known = ", ".join(sorted(periods)) or "none given"
            raise GateSpecError(f"{where}: unknown period {name!r} (periods: {known})")
        start, end = periods[name]
        return Window(start=start, end=end, period=name)
    if "start" in raw and "end" in raw:
        start, end = _date(raw["start"], where), _date(raw["end"], where)
        if end < start:
            raise GateSpecError(f"{where}: window ends before it starts")
        return Window(start=start, end=end)
    raise GateSpecError(f"{where}: a window is {{last_days: N}}, {{period: NAME}} or {{start, end}}")


def parse_periods(raw: Mapping[str, Any] | None) -> dict[str, tuple[date, date]]:
    periods: dict[str, tuple[date, date]] = {}
    for name, span in (raw or {}).items():
        if not isinstance(span, Mapping) or "start" not in span or "end" not in span:
            raise GateSpecError(f"periods.{name}: needs start and end")
        start, end = _date(span["start"], f"periods.{name}"), _date(span["end"], f"periods.{name}")
        if end < start:
            raise GateSpecError(f"periods.{name}: ends before it starts")
        periods[str(name)] = (start, end)
    return periods


def parse_criterion(raw: Mapping[str, Any], periods: Mapping[str, tuple[date, date]], index: int) -> Criterion:
    where = f"criteria[{index}]"
    cid = str(raw.get("id") or f"criterion-{index + 1}")
    where = f"criteria[{index}] ({cid})"
    test = raw.get("test")
    if test not in TESTS:
        raise GateSpecError(f"{where}: test must be one of {', '.join(TESTS)}, not {test!r}")
    if not raw.get("metric"):
        raise GateSpecError(f"{where}: metric is required")
    try:
        scope = Scope(raw.get("scope", "across" if test == "dispersion" else "location"))
    except ValueError as exc:
        raise GateSpecError(f"{where}: scope must be location, wave or across") from exc
    aggregate = str(raw.get("aggregate", "mean"))
    if aggregate not in AGGREGATES:
        raise GateSpecError(f"{where}: aggregate must be one of {', '.join(AGGREGATES)}")
    combine = str(raw.get("combine", "mean"))
    if combine not in ("mean", "sum"):
        raise GateSpecError(f"{where}: combine must be mean or sum")
    method = str(raw.get("method", "auto"))
    if method not in METHODS:
        raise GateSpecError(f"{where}: method must be one of {', '.join(METHODS)}")
    op = None
    if raw.get("op") is not None:
        try:
            op = Op(str(raw["op"]))
        except ValueError as exc:
            raise GateSpecError(f"{where}: op must be one of > >= < <= ==") from exc
    value = None if raw.get("value") is None else float(raw["value"])
    baseline = None
    if test in ("no_decrease", "decrease"):
        braw = raw.get("baseline")
        if braw is None:
            raise GateSpecError(f"{where}: a {test} test needs a baseline window")
        if isinstance(braw, Mapping) and "window" in braw:
            locs = braw.get("locations")
            baseline = Baseline(
                window=parse_window(braw["window"], periods, f"{where}.baseline.window"),
                locations=tuple(str(x) for x in locs) if locs else None,
            )
        else:
            baseline = Baseline(window=parse_window(braw, periods, f"{where}.baseline"))
    if baseline is not None and baseline.locations and scope is not Scope.WAVE:
        raise GateSpecError(f"{where}: a baseline over other locations compares groups: scope must be wave")
    if test == "threshold" and (op is None or value is None):
        raise GateSpecError(f"{where}: a threshold test needs op and value")
    if test == "consecutive":
        if op is None or value is None:
            raise GateSpecError(f"{where}: a consecutive test needs the daily condition's op and value")
        if (raw.get("max_days") is None) == (raw.get("min_days") is None):
            raise GateSpecError(f"{where}: a consecutive test needs exactly one of max_days, min_days")
    max_cv = raw.get("max_cv")
    if test == "dispersion":
        if max_cv is None:
            raise GateSpecError(f"{where}: a dispersion test needs max_cv (0.10 = 10%)")
        if scope is not Scope.ACROSS:
            raise GateSpecError(f"{where}: a dispersion test compares locations: scope must be across")
    elif scope is Scope.ACROSS:
        raise GateSpecError(f"{where}: scope across is for dispersion tests; use location or wave")
    direction = str(raw.get("direction", "decreasing"))
    if direction not in ("decreasing", "increasing"):
        raise GateSpecError(f"{where}: direction must be decreasing or increasing")
    alpha, power = float(raw.get("alpha", 0.05)), float(raw.get("power", 0.8))
    if not 0 < alpha < 0.5 or not 0.5 <= power < 1:
        raise GateSpecError(f"{where}: alpha must be in (0, 0.5) and power in [0.5, 1)")
    min_samples = int(raw.get("min_samples", 1))
    if min_samples < 1:
        raise GateSpecError(f"{where}: min_samples must be at least 1")
    return Criterion(
        id=cid,
        metric=str(raw["metric"]),
        test=str(test),
        scope=scope,
        window=parse_window(raw.get("window", {"last_days": 14}), periods, f"{where}.window"),
        title=str(raw.get("title", "")),
        critical=bool(raw.get("critical", True)),
        weight=float(raw.get("weight", 1.0)),
        min_samples=min_samples,
        min_baseline_samples=None if raw.get("min_baseline_samples") is None else int(raw["min_baseline_samples"]),
        aggregate=aggregate,
        combine=combine,
        op=op,
        value=value,
        baseline=baseline,
        method=method,
        alpha=alpha,
        power=power,
        max_detectable=None if raw.get("max_detectable") is None else float(raw["max_detectable"]),
        direction=direction,
        max_cv=None if max_cv is None else float(max_cv),
        min_locations=int(raw.get("min_locations", 2)),
        max_days=None if raw.get("max_days") is None else int(raw["max_days"]),
        min_days=None if raw.get("min_days") is None else int(raw["min_days"]),
        source=str(raw.get("source", "")),
    )


def parse_spec(
    criteria: Sequence[Mapping[str, Any]],
    *,
    periods: Mapping[str, Any] | None = None,
    as_of: Any = None,
    locations: Sequence[str] | None = None,
    name: str = "gate",
    live: Mapping[str, Any] | None = None,
    min_live_days: int = 0,
) -> GateSpec:
    """A GateSpec from plain data (a runbook's `with:`); GateSpecError names the bad criterion."""
    if not criteria:
        raise GateSpecError("a gate needs at least one criterion")
    spans = parse_periods(periods)
    parsed = tuple(parse_criterion(c, spans, i) for i, c in enumerate(criteria))
    ids = [c.id for c in parsed]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise GateSpecError(f"criterion ids must be unique: {', '.join(dupes)}")
    if min_live_days < 0:
        raise GateSpecError("min_live_days must be 0 or more")
    return GateSpec(
        criteria=parsed,
        as_of=None if as_of in (None, "") else _date(as_of, "as_of"),
        locations=None if locations is None else tuple(str(x) for x in locations),
        name=name,
        periods=spans,
        live=None if live is None else {str(k): _date(v, f"live_since.{k}") for k, v in live.items()},
        min_live_days=min_live_days,
    )

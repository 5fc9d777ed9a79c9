"""Baseline metrics: the catalogue, CSV import into the store, completeness and suspicious values.

The catalogue is `schemas/metrics.schema.json` (`$defs`): the playbook's clinical, operational and
financial baseline metrics with unit, definition, data source and collection method. Each
definition is also the JSON Schema of that metric's value, so "impossible" (outside
minimum/maximum) is decided by the schema file, not by code.

CSV format (one measurement per row, UTF-8, header required; Excel's BOM is fine):

    location,metric,value,period_start,period_end,sample_size
    downtown-metro,case_acceptance_rate,62.5,2026-08-01,2026-10-29,

A blank `value` means "not reported" and is skipped (completeness reports it). Percentages are
0-100 (a trailing % is accepted); currency may carry `$` and thousands separators.

`import_metrics_csv` is all-or-nothing: every bad row is reported with its line and column, and
nothing is written unless the file is clean or `skip_bad_rows` is given. Rows are keyed by
(location, metric, period), so importing the same file again changes nothing, and a corrected
file updates only the values that changed.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator
from sqlalchemy import Table, select

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.foundation.schema_check import load_schema
from golive.tasks.planning.metric_store import BaselineMetricRow
from golive.tasks.planning.organization import Organization
from golive.tasks.store.upsert import upsert

log = logging.getLogger(__name__)

COLUMNS = ("location", "metric", "value", "period_start", "period_end", "sample_size")
BASELINE_KEY = ("location_id", "metric", "period_start", "period_end")  # uq_baseline_metrics_key
REQUIRED_COLUMNS = ("location", "metric", "value", "period_start", "period_end")
MAX_BYTES = 50 << 20
MAD_THRESHOLD = 3.5  # modified z-score (Iglewicz and Hoaglin) above which a value is an outlier
MIN_LOCATIONS_FOR_OUTLIERS = 5


@dataclass(frozen=True)
class MetricDef:
    id: str
    category: str
    title: str
    unit: str
    definition: str
    data_source: str
    collection_method: str
    plausible: tuple[float, float]
    sample_size: int | None
    period_days: int | None
    schema: dict[str, Any] = field(repr=False, compare=False, hash=False, default_factory=dict)

    def impossible(self, value: float) -> str | None:
        """Why `value` cannot be real (outside the schema's bounds), or None."""
        errors = list(Draft202012Validator(self.schema).iter_errors(value))
        if not errors:
            return None
        s = self.schema
        lo = s.get("minimum", s.get("exclusiveMinimum"))
        op = ">" if "exclusiveMinimum" in s else "≥"
        return f"impossible {self.title.lower()} {value:g} {self.unit} (must be {op} {lo:g} and ≤ {s['maximum']:g})"


@lru_cache(maxsize=1)
def catalog() -> dict[str, MetricDef]:
    """Metric id -> definition, from `schemas/metrics.schema.json`, in the file's order."""
    schema = load_schema("metrics.schema.json")
    out: dict[str, MetricDef] = {}
    for mid, d in schema["$defs"].items():
        out[mid] = MetricDef(
            id=mid,
            category=d["x-category"],
            title=d["title"],
            unit=d["x-unit"],
            definition=d["description"],
            data_source=d["x-data-source"],
            collection_method=d["x-collection-method"],
            plausible=(float(d["x-plausible"][0]), float(d["x-plausible"][1])),
            sample_size=d.get("x-sample-size"),
            period_days=d.get("x-period-days"),
            schema={k: v for k, v in d.items() if not k.startswith("x-")},
        )
    return out


def catalog_rows() -> list[dict[str, object]]:
    return [
        {"metric": m.id, "category": m.category, "title": m.title, "unit": m.unit, "definition": m.definition,
         "data_source": m.data_source, "collection_method": m.collection_method}
        for m in catalog().values()
    ]


class MetricsImportError(UserInputError):
    """A baseline CSV has bad rows; nothing was imported (each issue has its line and column)."""

    def __init__(self, issues: Sequence[ValidationIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(i.format() for i in self.issues))


@dataclass(frozen=True)
class Measurement:
    location_id: str
    metric: str
    period_start: date
    period_end: date
    value: float
    sample_size: int | None
    line: int

    @property
    def key(self) -> tuple[str, str, date, date]:
        return (self.location_id, self.metric, self.period_start, self.period_end)


@dataclass(frozen=True)
class ImportResult:
    path: str
    source: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    blank: int
    skipped: int
    issues: tuple[ValidationIssue, ...] = ()

    def summary(self) -> str:
        text = (
            f"{self.path}: {self.rows} rows, {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.blank} blank"
        )
        if self.skipped:
            text += f", {self.skipped} bad rows skipped"
        return text


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_metrics_csv(
    path: str | Path, org: Organization | None = None, *, display: str | None = None
) -> tuple[list[Measurement], list[ValidationIssue], int, int, str]:
    """Parse and check a baseline CSV: (measurements, issues, data rows, blank rows, sha256)."""
    name = display or str(path)
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UserInputError(f"{name}: cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise UserInputError(f"{name}: file is larger than {MAX_BYTES >> 20} MiB")
    sha = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        issue = ValidationIssue(name, line, 1, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                                hint="export the CSV as UTF-8")
        return [], [issue], 0, 0, sha
    return (*_parse_text(text, name, org), sha)


def _parse_text(
    text: str, name: str, org: Organization | None
) -> tuple[list[Measurement], list[ValidationIssue], int, int]:
    issues: list[ValidationIssue] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [ValidationIssue(name, 1, 1, "file is empty; expected a header row: " + ",".join(COLUMNS))], 0, 0
    except csv.Error as exc:
        return [], [ValidationIssue(name, 1, 1, f"unreadable CSV header: {exc}")], 0, 0
    cols = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    for i, c in enumerate(cols):
        if c in COLUMNS:
            if c in index:
                issues.append(ValidationIssue(name, 1, i + 1, f"column '{c}' appears twice"))
            index[c] = i
        else:
            close = difflib.get_close_matches(c, COLUMNS, n=1)
            issues.append(ValidationIssue(
                name, 1, i + 1, f"unknown column '{header[i]}'",
                hint=f"did you mean '{close[0]}'?" if close else "columns: " + ",".join(COLUMNS),
            ))
    for c in REQUIRED_COLUMNS:
        if c not in index:
            issues.append(ValidationIssue(name, 1, 1, f"missing required column '{c}'", hint="header: " + ",".join(COLUMNS)))
    if issues:
        return [], issues, 0, 0

    known = frozenset(loc.id for loc in org.locations) if org is not None else None
    out: list[Measurement] = []
    seen: dict[tuple[str, str, date, date], tuple[int, float]] = {}
    rows = blank = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            issues.append(ValidationIssue(name, reader.line_num, 1, f"unreadable CSV row: {exc}"))
            continue
        if not any(cell.strip() for cell in record):
            continue
        rows += 1
        row = _Row(name, reader.line_num, record, index, len(header))
        m = row.check(known)
        if m is None and not row.issues:
            blank += 1
        elif m is not None:
            if m.key not in seen:
                seen[m.key] = (m.line, m.value)
                out.append(m)
            elif seen[m.key][1] != m.value:  # an exact repeat is harmless: the first is kept
                row.bad("value", f"conflicts with line {seen[m.key][0]} (same location, metric and period)")
        issues.extend(row.issues)
    return out, issues, rows, blank


class _Row:
    """One CSV record being checked; collects its issues, each at its line and column."""

    def __init__(self, name: str, line: int, record: list[str], index: dict[str, int], width: int) -> None:
        self.name, self.line, self.record, self.index = name, line, record, index
        self.issues: list[ValidationIssue] = []
        if len(record) > width:
            self.issues.append(ValidationIssue(name, line, width + 1, f"row has {len(record)} cells, header has {width}"))

    def bad(self, column: str, message: str, hint: str | None = None) -> None:
        col = self.index.get(column, 0) + 1
        self.issues.append(
            ValidationIssue(self.name, self.line, col, f"{column}: {message}", f"$[{self.line}].{column}", hint=hint)
        )

    def cell(self, column: str) -> str:
        i = self.index.get(column)
        return self.record[i].strip() if i is not None and i < len(self.record) else ""

    def check(self, known: frozenset[str] | None) -> Measurement | None:
        """The measurement, or None when the row is bad (see `issues`) or its value is blank."""
        cat = catalog()
        location = self.cell("location")
        if not location:
            self.bad("location", "empty")
        elif known is not None and location not in known:
            close = difflib.get_close_matches(location, sorted(known), n=1)
            self.bad("location", f"unknown location '{location}'", f"did you mean '{close[0]}'?" if close else None)
        metric_id = self.cell("metric")
        metric = cat.get(metric_id)
        if metric is None:
            close = difflib.get_close_matches(metric_id, list(cat), n=1)
            self.bad("metric", f"unknown metric '{metric_id}'" if metric_id else "empty",
                     f"did you mean '{close[0]}'?" if close else "see schemas/metrics.schema.json")
        start = _date(self.cell("period_start"), "period_start", self.bad)
        end = _date(self.cell("period_end"), "period_end", self.bad)
        if start and end and start > end:
            self.bad("period_end", f"period ends ({end}) before it starts ({start})")
        raw = self.cell("value")
        if raw == "":
            return None  # not reported: completeness reports it
        value = _number(raw, metric.unit if metric else "")
        if value is None:
            self.bad("value", f"not a number: {raw!r}")
        elif metric is not None and (why := metric.impossible(value)):
            self.bad("value", why)
        sample: int | None = None
        raw_sample = self.cell("sample_size")
        if raw_sample:
            try:
                sample = int(raw_sample)
                if sample < 1:
                    self.bad("sample_size", f"must be at least 1, got {sample}")
            except ValueError:
                self.bad("sample_size", f"not a whole number: {raw_sample!r}")
        if self.issues or metric is None or value is None or start is None or end is None:
            return None
        return Measurement(location, metric_id, start, end, value, sample, self.line)


def _date(text: str, column: str, bad: Any) -> date | None:
    if not text:
        bad(column, "empty")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        bad(column, f"not a date: {text!r}", "use YYYY-MM-DD")
        return None


def _number(text: str, unit: str) -> float | None:
    t = text.strip()
    if unit == "%" and t.endswith("%"):
        t = t[:-1].strip()
    if unit.startswith("USD"):
        t = t.replace("$", "").replace(",", "").strip()
    try:
        v = float(t)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------------------------
# Import


def import_metrics_csv(
    store: Any,
    path: str | Path,
    source: str | None = None,
    skip_bad_rows: bool = False,
    *,
    org: Organization | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Import a baseline CSV into the store (all-or-nothing unless `skip_bad_rows`).

    Raises `MetricsImportError` (a `UserInputError`) listing every bad row when the file has
    errors and `skip_bad_rows` is false; nothing is written then. `org`, when given, rejects
    unknown location ids.
    """
    name = str(path)
    measurements, issues, rows, blank, sha = parse_metrics_csv(path, org)
    header_broken = any(i.line == 1 for i in issues) and not measurements
    if issues and (not skip_bad_rows or header_broken):
        raise MetricsImportError(issues)
    src = source or Path(path).name
    stamp = now or datetime.now(UTC)
    inserted = updated = unchanged = 0
    with store.session() as s:
        existing = {
            (r.location_id, r.metric, r.period_start, r.period_end): r
            for r in s.scalars(
                select(BaselineMetricRow).where(
                    BaselineMetricRow.location_id.in_({m.location_id for m in measurements})
                )
            )
        } if measurements else {}
        changed = []
        for m in measurements:
            row = existing.get(m.key)
            if row is not None and row.value == m.value and row.sample_size == m.sample_size:
                unchanged += 1
                continue
            inserted, updated = (inserted + 1, updated) if row is None else (inserted, updated + 1)
            changed.append({"location_id": m.location_id, "metric": m.metric, "period_start": m.period_start,
                            "period_end": m.period_end, "value": m.value, "sample_size": m.sample_size,
                            "source": src, "file_sha256": sha, "line": m.line, "imported_at": stamp})
        # An upsert on the natural key: a concurrent import of the same rows updates, never fails.
        upsert(s, store.dialect, cast(Table, BaselineMetricRow.__table__), changed, BASELINE_KEY)
    bad_lines = {i.line for i in issues}
    result = ImportResult(name, src, sha, rows, inserted, updated, unchanged, blank, len(bad_lines), tuple(issues))
    log.info("baseline import %s", result.summary())
    return result


def load_measurements(store: Any, location_ids: Iterable[str] | None = None) -> list[Measurement]:
    with store.session(readonly=True) as s:
        q = select(BaselineMetricRow)
        if location_ids is not None:
            q = q.where(BaselineMetricRow.location_id.in_(list(location_ids)))
        return [
            Measurement(r.location_id, r.metric, r.period_start, r.period_end, r.value, r.sample_size, r.line)
            for r in s.scalars(q)
        ]


def _imported_dates(store: Any) -> dict[tuple[str, str], datetime]:
    with store.session(readonly=True) as s:
        out: dict[tuple[str, str], datetime] = {}
        for loc, metric, at in s.execute(
            select(BaselineMetricRow.location_id, BaselineMetricRow.metric, BaselineMetricRow.imported_at)
        ):
            key = (loc, metric)
            out[key] = min(out.get(key, at), at)
        return out


# ---------------------------------------------------------------------------------------------
# Completeness and suspicious values


@dataclass(frozen=True)
class Flag:
    location_id: str
    metric: str
    value: float
    kind: str  # impossible | implausible | outlier | small sample | short period
    detail: str


@dataclass(frozen=True)
class LocationCompleteness:
    location_id: str
    name: str
    reported: int
    expected: int
    missing: tuple[str, ...]
    late: tuple[str, ...]  # metrics first submitted after the deadline
    status: str  # complete | pending | overdue

    @property
    def percent(self) -> float:
        return 100.0 * self.reported / self.expected if self.expected else 100.0


@dataclass(frozen=True)
class BaselineReport:
    deadline: date
    as_of: date
    locations: tuple[LocationCompleteness, ...]
    flags: tuple[Flag, ...]

    @property
    def complete(self) -> int:
        return sum(1 for loc in self.locations if loc.status == "complete")

    def rows(self) -> list[dict[str, object]]:
        flagged: dict[str, int] = {}
        for f in self.flags:
            flagged[f.location_id] = flagged.get(f.location_id, 0) + 1
        return [
            {"location": c.name, "id": c.location_id, "reported": f"{c.reported}/{c.expected}",
             "percent": round(c.percent, 1), "status": c.status, "missing": ", ".join(c.missing),
             "late": ", ".join(c.late), "flags": flagged.get(c.location_id, 0)}
            for c in self.locations
        ]

    def flag_rows(self) -> list[dict[str, object]]:
        return [{"id": f.location_id, "metric": f.metric, "value": f.value, "kind": f.kind, "detail": f.detail}
                for f in self.flags]


def robust_outliers(values: dict[str, float], threshold: float = MAD_THRESHOLD) -> dict[str, float]:
    """Modified z-scores |0.6745 (x - median) / MAD| above `threshold` (Iglewicz and Hoaglin).

    When more than half the values are equal (MAD = 0), the mean absolute deviation scaled by
    1.2533 stands in, as those authors suggest; when every value is equal nothing is an outlier.
    """
    if len(values) < MIN_LOCATIONS_FOR_OUTLIERS:
        return {}
    xs = list(values.values())
    med = statistics.median(xs)
    mad = statistics.median(abs(x - med) for x in xs)
    if mad > 0:
        scores = {k: 0.6745 * (v - med) / mad for k, v in values.items()}
    else:
        meanad = statistics.fmean(abs(x - med) for x in xs)
        if meanad == 0:
            return {}
        scores = {k: (v - med) / (1.2533 * meanad) for k, v in values.items()}
    return {k: z for k, z in scores.items() if abs(z) > threshold}


def baseline_report(
    store: Any,
    org: Organization,
    deadline: date,
    as_of: date | None = None,
    metrics: Sequence[str] | None = None,
) -> BaselineReport:
    """Completeness per location and suspicious values, against the baseline deadline."""
    cat = catalog()
    wanted = list(metrics) if metrics else list(cat)
    for metric_id in wanted:
        if metric_id not in cat:
            raise UserInputError(f"unknown metric '{metric_id}'")
    as_of = as_of or datetime.now(UTC).date()
    ids = [loc.id for loc in org.locations]
    latest: dict[tuple[str, str], Measurement] = {}
    for m in load_measurements(store, ids):
        k = (m.location_id, m.metric)
        if m.metric in wanted and (k not in latest or m.period_end > latest[k].period_end):
            latest[k] = m
    first_import = _imported_dates(store)

    locations = []
    for loc in org.locations:
        have = [mid for mid in wanted if (loc.id, mid) in latest]
        missing = tuple(mid for mid in wanted if (loc.id, mid) not in latest)
        late = tuple(
            mid for mid in have if first_import.get((loc.id, mid), datetime.min.replace(tzinfo=UTC)).date() > deadline
        )
        status = "complete" if not missing else ("overdue" if as_of > deadline else "pending")
        locations.append(LocationCompleteness(loc.id, loc.name, len(have), len(wanted), missing, late, status))

    flags: list[Flag] = []
    for (loc_id, metric_id), m in sorted(latest.items()):
        d = cat[metric_id]
        if why := d.impossible(m.value):
            flags.append(Flag(loc_id, metric_id, m.value, "impossible", why))
        elif not d.plausible[0] <= m.value <= d.plausible[1]:
            flags.append(Flag(loc_id, metric_id, m.value, "implausible",
                              f"{m.value:g} {d.unit} outside the plausible {d.plausible[0]:g}–{d.plausible[1]:g}"))
        if d.sample_size and m.sample_size is not None and m.sample_size < d.sample_size:
            flags.append(Flag(loc_id, metric_id, m.value, "small sample",
                              f"{m.sample_size} cases sampled; the method asks for {d.collection_method.lower()}"))
        if d.period_days:
            days = (m.period_end - m.period_start).days + 1
            if days < d.period_days * 0.8:
                flags.append(Flag(loc_id, metric_id, m.value, "short period",
                                  f"{days}-day period; the method asks for {d.period_days} days"))
    for metric_id in wanted:
        values = {loc: m.value for (loc, mid), m in latest.items() if mid == metric_id}
        d = cat[metric_id]
        med = statistics.median(values.values()) if values else 0.0
        for loc_id, z in sorted(robust_outliers(values).items()):
            flags.append(Flag(loc_id, metric_id, values[loc_id], "outlier",
                              f"{values[loc_id]:g} {d.unit} vs median {med:g} across {len(values)} locations "
                              f"(modified z {z:+.1f})"))
    flags.sort(key=lambda f: (f.location_id, f.metric, f.kind))
    return BaselineReport(deadline, as_of, tuple(locations), tuple(flags))

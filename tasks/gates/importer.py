"""Daily metric CSV imports (PMS reports, training log, usage report, issue tracker, champion
survey, help desk, vendor dashboard) into the gate store, with every bad row reported.

Columns: `location,metric,day,value,numerator,denominator`. Rates (`*_pct`) may give only their
counts: the value is derived (adoption = treatment plans made with the platform / all treatment
plans × 100). Nothing is imported from a file with errors unless bad rows are skipped on purpose;
importing the same file again replaces the same days, so it changes nothing.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.issues import ValidationIssue
from golive.tasks.gates.observations import Sample

COLUMNS = ("location", "metric", "day", "value", "numerator", "denominator")
REQUIRED = ("location", "metric", "day")


@dataclass(frozen=True)
class DailyMetric:
    kind: str  # rate (percent, with counts) | count | flag (0/1) | value
    lo: float = 0.0
    hi: float = math.inf
    definition: str = ""


DAILY_METRICS: dict[str, DailyMetric] = {
    "uptime_pct": DailyMetric("rate", 0, 100, "Platform availability: successful probes / probes (or vendor dashboard), %"),
    "adoption_pct": DailyMetric("rate", 0, 100, "Treatment plans made with the platform / all treatment plans, %"),
    "case_acceptance_pct": DailyMetric("rate", 0, 100, "Cases accepted / cases presented, %"),
    "training_completion_pct": DailyMetric("rate", 0, 100, "Staff trained / staff to train, %"),
    "providers_refusing_pct": DailyMetric("rate", 0, 100, "Providers refusing the system after training / providers, %"),
    "treatment_plans": DailyMetric("count", definition="Treatment plans made that day"),
    "support_tickets": DailyMetric("count", definition="Help-desk tickets opened that day"),
    "critical_bugs_open": DailyMetric("count", definition="Critical bugs open at the end of the day (issue tracker)"),
    "critical_clinical_errors": DailyMetric("count", definition="Critical clinical errors reported (misdiagnosis, patient safety)"),
    "data_loss_incidents": DailyMetric("count", definition="Integration failures with data loss or corruption"),
    "training_hours": DailyMetric("value", 0, 1000, "Training hours for the location (training log)"),
    "champion_ready": DailyMetric("flag", 0, 1, "Champion survey: 1 = ready to recommend, 0 = not"),
    # ROI: collected from the PMS (procedures completed that day, by CDT range; fees as charged)
    "procedures_implant": DailyMetric("count", definition="Implant procedures completed that day (CDT D6000-D6199)"),
    "procedures_ortho": DailyMetric("count", definition="Orthodontic procedures completed that day (CDT D8000-D8999)"),
    "procedures_restorative": DailyMetric("count", definition="Restorative procedures completed that day (CDT D2000-D2999)"),
    "production": DailyMetric("value", definition="Fees of the procedures completed that day"),
    "patients_seen": DailyMetric("count", definition="Patients with a procedure completed that day"),
    "production_per_patient": DailyMetric("value", definition="Production / patients seen that day"),
}


@dataclass(frozen=True)
class ImportReport:
    samples: tuple[Sample, ...]
    issues: tuple[ValidationIssue, ...]
    rows: int

    @property
    def bad_rows(self) -> int:
        return len({i.line for i in self.issues if i.line > 1})


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_daily_csv(text: str, name: str, *, source: str = "csv", known_locations: Collection[str] | None = None) -> ImportReport:
    """Samples and every problem (file:line:column, column = the CSV column number)."""
    issues: list[ValidationIssue] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ImportReport((), (ValidationIssue(name, 1, 1, "file is empty; expected a header: " + ",".join(COLUMNS)),), 0)
    index: dict[str, int] = {}
    for i, col in enumerate(header):
        if col in COLUMNS and col not in index:
            index[col] = i
        else:
            close = difflib.get_close_matches(col, COLUMNS, n=1)
            issues.append(ValidationIssue(name, 1, i + 1, f"unknown or repeated column {col!r}",
                                          hint=f"did you mean {close[0]!r}?" if close else "columns: " + ",".join(COLUMNS)))
    for col in REQUIRED:
        if col not in index:
            issues.append(ValidationIssue(name, 1, 1, f"missing required column {col!r}", hint="header: " + ",".join(COLUMNS)))
    if issues:
        return ImportReport((), tuple(issues), 0)
    samples: list[Sample] = []
    seen: dict[tuple[str, str, date], int] = {}
    rows = 0
    for record in reader:
        if not any(c.strip() for c in record):
            continue
        rows += 1
        line = reader.line_num
        row_issues: list[ValidationIssue] = []

        def cell(col: str, record: list[str] = record) -> str:
            i = index.get(col)
            return record[i].strip() if i is not None and i < len(record) else ""

        def bad(col: str, message: str, hint: str | None = None, line: int = line, into: list[ValidationIssue] = row_issues) -> None:
            into.append(ValidationIssue(name, line, index.get(col, 0) + 1, f"{col}: {message}", f"$[{line}].{col}", hint=hint))

        loc, metric_id = cell("location"), cell("metric")
        if not loc:
            bad("location", "empty")
        elif known_locations is not None and loc not in known_locations:
            close = difflib.get_close_matches(loc, sorted(known_locations), n=1)
            bad("location", f"unknown location {loc!r}", f"did you mean {close[0]!r}?" if close else None)
        metric = DAILY_METRICS.get(metric_id)
        if metric is None:
            close = difflib.get_close_matches(metric_id, list(DAILY_METRICS), n=1)
            bad("metric", f"unknown metric {metric_id!r}" if metric_id else "empty",
                f"did you mean {close[0]!r}?" if close else "metrics: " + ", ".join(DAILY_METRICS))
        day: date | None = None
        try:
            day = date.fromisoformat(cell("day"))
        except ValueError:
            bad("day", f"not a date (YYYY-MM-DD): {cell('day')!r}")
        num = den = None
        counts_ok = True
        raw_num, raw_den = cell("numerator"), cell("denominator")
        if raw_num or raw_den:
            num, den = _number(raw_num), _number(raw_den)
            counts_ok = False
            if num is None or den is None:
                bad("numerator" if num is None else "denominator", "numerator and denominator go together, as numbers")
            elif den <= 0 or num < 0 or num > den:
                bad("numerator", f"counts must satisfy 0 <= numerator <= denominator, denominator > 0 (got {raw_num}/{raw_den})")
            elif metric is not None and metric.kind != "rate":
                bad("numerator", f"{metric_id} is a {metric.kind}, not a rate: give only a value")
            else:
                counts_ok = True
        raw_value = cell("value")
        value = _number(raw_value) if raw_value else None
        if raw_value and value is None:
            bad("value", f"not a number: {raw_value!r}")
        elif value is None and not raw_value:
            if not counts_ok:
                pass  # already reported
            elif num is not None and den is not None:
                value = 100.0 * num / den  # derived rate
            else:
                bad("value", "empty (give a value, or numerator and denominator for a rate)")
        if value is not None and metric is not None:
            if not metric.lo <= value <= metric.hi:
                bad("value", f"impossible {metric_id} {value:g} (must be {metric.lo:g}..{metric.hi:g})")
            elif metric.kind == "flag" and value not in (0.0, 1.0):
                bad("value", f"{metric_id} is 0 or 1, got {value:g}")
            elif metric.kind == "count" and value != int(value):
                bad("value", f"{metric_id} is a count, got {value:g}")
            elif counts_ok and num is not None and den is not None and abs(value - 100 * num / den) > 0.05:
                bad("value", f"{value:g}% does not match {num:g}/{den:g} = {100 * num / den:.2f}%")
        if not row_issues and day is not None and value is not None:
            key = (loc, metric_id, day)
            if key in seen:
                bad("day", f"repeats line {seen[key]} (same location, metric and day)")
            else:
                seen[key] = line
                samples.append(Sample(loc, metric_id, day, value, num, den, source))
        issues.extend(row_issues)
    return ImportReport(tuple(samples), tuple(issues), rows)


def read_daily_csv(path: str | Path, *, source: str = "csv", known_locations: Collection[str] | None = None,
                   skip_bad_rows: bool = False) -> ImportReport:
    """Parse a file; RunbookInvalid (all issues) unless it is clean or bad rows are skipped."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise RunbookInvalid([ValidationIssue(str(path), 1, 1, "file is not valid UTF-8", hint="export it as UTF-8 CSV")]) from None
    except OSError as exc:
        raise RunbookInvalid([ValidationIssue(str(path), 1, 1, f"cannot read file: {exc.strerror or exc}")]) from None
    report = parse_daily_csv(text, str(path), source=source, known_locations=known_locations)
    header_bad = any(i.line == 1 for i in report.issues)
    if report.issues and (header_bad or not skip_bad_rows):
        raise RunbookInvalid(list(report.issues))
    return report

"""Daily metric CSV imports: derived rates, every bad row at its line and column, idempotence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import RunbookInvalid
from golive.tasks.foundation.paths import EXAMPLES
from golive.tasks.gates import repository
from golive.tasks.gates.importer import parse_daily_csv, read_daily_csv
from golive.tasks.gates.kinds import KINDS

HEADER = "location,metric,day,value,numerator,denominator\n"


def test_counts_give_the_derived_rate() -> None:
    r = parse_daily_csv(HEADER + "a,adoption_pct,2026-04-06,,41,50\n", "x.csv")
    assert not r.issues
    assert r.samples[0].value == pytest.approx(82.0) and (r.samples[0].numerator, r.samples[0].denominator) == (41, 50)


def test_every_bad_row_is_reported_with_line_and_column() -> None:
    text = HEADER + "\n".join([
        "a,adoption_pct,2026-04-06,,41,50",      # line 2: fine
        "a,adoptoin_pct,2026-04-06,80,,",        # 3: unknown metric (column 2), did-you-mean
        "a,uptime_pct,2026-13-01,99,,",          # 4: bad date (column 3)
        "a,uptime_pct,2026-04-06,101,,",         # 5: impossible percent (column 4)
        "a,adoption_pct,2026-04-07,,51,50",      # 6: numerator > denominator (column 5)
        "a,adoption_pct,2026-04-08,70,41,50",    # 7: value does not match the counts
        "a,support_tickets,2026-04-06,2.5,,",    # 8: a count must be whole
        ",champion_ready,2026-04-06,2,,",        # 9: empty location and a flag of 2
        "a,adoption_pct,2026-04-06,,41,50",      # 10: repeats line 2
    ]) + "\n"
    r = parse_daily_csv(text, "x.csv", known_locations={"a"})
    where = sorted((i.line, i.column) for i in r.issues)
    assert where == [(3, 2), (4, 3), (5, 4), (6, 5), (7, 4), (8, 4), (9, 1), (9, 4), (10, 3)]
    assert any(i.hint == "did you mean 'adoption_pct'?" for i in r.issues)
    assert r.issues[0].format().startswith("x.csv:3:2: error: metric: unknown metric")
    assert len(r.samples) == 1 and r.bad_rows == 8


def test_header_problems_stop_everything(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("location,metrc,day,value\na,uptime_pct,2026-04-06,99\n", encoding="utf-8")
    with pytest.raises(RunbookInvalid, match="did you mean 'metric'"):
        read_daily_csv(f, skip_bad_rows=True)


def test_nothing_imported_from_a_bad_file_unless_skipping(tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_text(HEADER + "a,uptime_pct,2026-04-06,99,,\na,uptime_pct,2026-04-07,abc,,\n", encoding="utf-8")
    with pytest.raises(RunbookInvalid, match=r"b.csv:3:4"):
        read_daily_csv(f)
    assert len(read_daily_csv(f, skip_bad_rows=True).samples) == 1


def test_import_kind_is_idempotent(sqlite_store: Any) -> None:
    kind = next(k for k in KINDS if k.name == "metrics.import_daily")
    c = StepContext(run_id="r", run_key="k", runbook="import", step_id="imp", step_key="imp", store=sqlite_store)
    path = str(EXAMPLES / "acme-dental" / "daily" / "usage-report-2026-04-06.csv")
    first = kind.run(c, {"file": path})
    second = kind.run(c, {"file": path})
    assert first["imported"] == second["imported"] == 13 and first["bad_rows"] == 0
    assert len(repository.load_observations(sqlite_store).samples()) == 13
    assert first["source"] == "usage-report-2026-04-06"

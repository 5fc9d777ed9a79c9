"""Training completion from an LMS's CSV export, for groups without an xAPI Learning Record Store.

The shape followed is Moodle's course completion report downloaded as CSV
(`report/completion/index.php?course=ID&format=csv`, Moodle's report_completion; read in the copy a
Totara tree carries, github.com/reetakoshik/totara1112to129 report/completion/index.php): a header row
`ID, Name, <the site's user identity fields>, <one or two columns per completion criterion>,
Course complete`, then one row per tracked user; `Course complete` holds the completion time as
`userdate(timecompleted, strftimedatetimeshort)` (English language pack: `%d/%m/%y, %H:%M`), or is
empty while the course is incomplete. The location comes from an identity field the site shows
(default `Department`, the user's department set to the location id).

Completion at the end of day D for a location = its rows with a completion time on or before D
over all its rows (every tracked user there is staff to train). Names and emails are never read
into a sample, a log or an error: rows are counted, and errors name the file, line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from golive.tasks.gates.collect.base import rate
from golive.tasks.gates.collect.http import SourceError
from golive.tasks.gates.collected import Outcome

SOURCE = "lms_csv"
DATE_FORMAT = "%d/%m/%y, %H:%M"  # Moodle langconfig strftimedatetimeshort (en)
ID_COLUMN, COMPLETE_COLUMN = "ID", "Course complete"


class LmsCsvError(SourceError):
    """The LMS export cannot be read as the documented shape; the message names file:line:column."""


def read_completions(path: Path, location_column: str = "Department",
                     date_format: str = DATE_FORMAT) -> dict[str, list[date | None]]:
    """Per location, each tracked user's completion day (None: not complete)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LmsCsvError(f"{SOURCE}: {path.name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LmsCsvError(f"{SOURCE}: {path.name}: cannot read ({type(exc).__name__}; UTF-8 CSV expected, "
                          "not the Excel-compatible UTF-16 download)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    cols = {}
    for name in (ID_COLUMN, location_column, COMPLETE_COLUMN):
        if name not in header:
            raise LmsCsvError(f"{SOURCE}: {path.name}:1:1: no column {name!r} in the header "
                              f"(Moodle's course completion CSV: {ID_COLUMN}, Name, identity fields, criteria, "
                              f"{COMPLETE_COLUMN})")
        cols[name] = header.index(name)
    out: dict[str, list[date | None]] = {}
    seen: dict[str, int] = {}
    line_end = reader.line_num
    for row in reader:
        line, line_end = line_end + 1, reader.line_num  # a quoted field may span lines: name the row's first
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise LmsCsvError(f"{SOURCE}: {path.name}:{line}:{min(len(row), len(header)) + 1}: "
                              f"{len(row)} fields, the header has {len(header)}")
        uid, loc, done = (row[cols[c]].strip() for c in (ID_COLUMN, location_column, COMPLETE_COLUMN))
        if not uid:
            raise LmsCsvError(f"{SOURCE}: {path.name}:{line}:{cols[ID_COLUMN] + 1}: {ID_COLUMN} is empty")
        if uid in seen:
            raise LmsCsvError(f"{SOURCE}: {path.name}:{line}:{cols[ID_COLUMN] + 1}: user {ID_COLUMN} repeats "
                              f"line {seen[uid]} (one course per export)")
        seen[uid] = line
        if not loc:
            raise LmsCsvError(f"{SOURCE}: {path.name}:{line}:{cols[location_column] + 1}: {location_column} "
                              "(the location id) is empty")
        day = None
        if done:
            try:
                day = datetime.strptime(done, date_format).date()
            except ValueError:
                raise LmsCsvError(f"{SOURCE}: {path.name}:{line}:{cols[COMPLETE_COLUMN] + 1}: {COMPLETE_COLUMN} "
                                  f"{done!r} is not a time in the format {date_format!r}") from None
        out.setdefault(loc, []).append(day)
    return out


class LmsCsvCollector:
    source = SOURCE
    metrics: tuple[str, ...] = ("training_completion_pct",)

    def __init__(self, path: str | Path, location_column: str = "Department", date_format: str = DATE_FORMAT) -> None:
        self.path = Path(path)
        self.location_column = location_column
        self.date_format = date_format

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        users = read_completions(self.path, self.location_column, self.date_format)
        query = f"{self.path.name}: rows by {self.location_column}, {COMPLETE_COLUMN} on or before {day}"
        return [rate(loc, "training_completion_pct", day, sum(1 for d in users.get(loc, ()) if d is not None and d <= day),
                     len(users.get(loc, ())), self.source, query, f"no tracked users at this location in {self.path.name}")
                for loc in locations]

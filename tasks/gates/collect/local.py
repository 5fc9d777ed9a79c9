"""Collectors over what golive itself holds or is handed: uptime from the `probe.http` results in
the store, and the champion survey / provider refusals from a survey export (CSV).

Uptime for a day = successful probes / probes that day (UTC), as `repository.daily_availability`
defines it; a day without a single probe is missing, never 100 %. The survey is periodic: a day
without a survey row is simply not observed (no gap); a file that cannot be read is an error.
Survey columns: `location,day,champion_ready,providers,providers_refusing` (counts, no names).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.gates import repository
from golive.tasks.gates.collect.base import rate, sample
from golive.tasks.gates.collect.http import SourceError
from golive.tasks.gates.collected import Outcome

SURVEY_COLUMNS = ("location", "day", "champion_ready", "providers", "providers_refusing")


class ProbeCollector:
    source = "probe"
    metrics: tuple[str, ...] = ("uptime_pct",)

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        end = start + timedelta(days=1)
        query = f"availability_samples checked_at in [{start.isoformat()}, {end.isoformat()})"
        out = []
        for loc in locations:
            todays = [s for s in repository.probe_samples(self.store, loc, since=start) if s.checked_at < end]
            daily = repository.daily_availability(todays)
            if not daily:
                out.append(Outcome(loc, "uptime_pct", day, self.source, query, None, "no probe results that day"))
                continue
            d = daily[0]
            out.append(sample(loc, "uptime_pct", day, d.value, self.source, query, d.numerator, d.denominator))
        return out


class SurveyCollector:
    source = "survey"
    metrics: tuple[str, ...] = ("champion_ready", "providers_refusing_pct")
    periodic = True  # days without a survey are not gaps

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _rows(self) -> list[dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"survey: cannot read {self.path.name}: {type(exc).__name__}") from None
        reader = csv.DictReader(io.StringIO(text))
        cols = [c.strip().lower() for c in reader.fieldnames or []]
        lacking = [c for c in SURVEY_COLUMNS if c not in cols]
        if lacking:
            raise SourceError(f"survey: {self.path.name}:1: missing column(s) {', '.join(lacking)} "
                              f"(header: {','.join(SURVEY_COLUMNS)})")
        return [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        out = []
        query = f"{self.path.name} rows with day={day}"
        for line, r in enumerate(self._rows(), start=2):
            if r["day"] != day.isoformat() or r["location"] not in locations:
                continue
            try:
                ready, providers, refusing = int(r["champion_ready"]), int(r["providers"]), int(r["providers_refusing"])
            except ValueError:
                raise SourceError(f"survey: {self.path.name}:{line}: champion_ready, providers and "
                                  "providers_refusing must be whole numbers") from None
            if ready not in (0, 1) or not 0 <= refusing <= providers:
                raise SourceError(f"survey: {self.path.name}:{line}: champion_ready is 0 or 1 and "
                                  "0 <= providers_refusing <= providers")
            out.append(sample(r["location"], "champion_ready", day, ready, self.source, query))
            out.append(rate(r["location"], "providers_refusing_pct", day, refusing, providers, self.source, query,
                            "no providers"))
        return out

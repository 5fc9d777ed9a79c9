"""Open Dental collectors: case acceptance, treatment plans, procedure volumes and production.

Read through the PMS area's connector (documented routes only, paged 100 a page with Limit/Offset,
paced per customer key, retried, version-gated); aggregated per location and day here, in memory.
Nothing about a patient is kept: PatNum only counts distinct patients and is dropped.

Queries (apitreatplans.html, "TreatPlans GET"; apiprocedurelogs.html, "ProcedureLogs GET (multiple)"):
- `GET /treatplans?SecDateTEdit=D 00:00:00` ("Only include treatplans with a SecDateTEdit altered
  after the specified date and time"): every plan presented on D was written on or after D.
  Presented on D = `DateTP` is D and `TPStatus` Active or Inactive (Saved plans are frozen copies,
  apitreatplans.html: "treatplans with a TPStatus of "Saved" use proctp which are copies").
  Accepted = of those, signed by the patient (`DateTSigned` set) by the time of collection;
  re-collecting the day later updates it (the collection replaces the day).
- `GET /procedurelogs?DateTStamp=D 00:00:00`: every procedure completed on D changed on or after D.
  Completed on D = `ProcStatus` "C" and `ProcDate` D. The ProcStatus filter exists only from
  25.2.21 (PARAMS_ADDED), so the status is tested here, which works on every version with the route.
  Category by CDT range of `procCode` (tasks/pms/cdt.py); production = sum of `ProcFee`.
A location-day with neither a plan nor a procedure is recorded as missing: "no data".

A period (a baseline backfill) is read once per location (`prefetch`): each query's rows since the
first day, then each day keeps what its own query would have returned (`SecDateTEdit` after, and
`DateTStamp` on or after, the day's midnight, as the two routes filter). Otherwise every early day
would page through all the later days' edits again.

Adoption (with `platform_marker`): plans made with the platform / all plans presented that day,
a platform plan being one whose `Note` carries the marker the platform's write-back puts there
(the note is tested, never kept).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from golive.tasks.gates.collect.base import missing, rate, sample
from golive.tasks.gates.collected import Outcome
from golive.tasks.pms import cdt
from golive.tasks.pms.protocol import PmsError

log = logging.getLogger(__name__)

SOURCE = "opendental"
CATEGORIES = {"implant-services": "procedures_implant", "orthodontics": "procedures_ortho",
              "restorative": "procedures_restorative"}
PLAN_METRICS = ("case_acceptance_pct", "treatment_plans")
PROC_METRICS = (*CATEGORIES.values(), "production", "patients_seen", "production_per_patient")
UNSIGNED = ("", "0001-01-01 00:00:00", "0001-01-01")


class OpenDentalCollector:
    """`connect(location)` gives that location's connector (organization file + secret references)."""

    source = SOURCE
    metrics: tuple[str, ...] = (*PLAN_METRICS, *PROC_METRICS)

    def __init__(self, connect: Callable[[str], Any], *, workers: int = 8, platform_marker: str | None = None) -> None:
        self._connect = connect
        self.workers = workers
        self.requests = 0
        self._period: dict[str, tuple[str, list[Any], list[Any]] | str] = {}  # loc -> (since, plans, procs) | error
        self.platform_marker = platform_marker or None
        if self.platform_marker:
            self.metrics = (*self.metrics, "adoption_pct")

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        # Open Dental throttles per customer key: locations are read side by side, each at its own pace.
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(locations)))) as pool:
            parts = list(pool.map(lambda loc: self._location(day, loc), locations))
        return [o for part in parts for o in part]

    def prefetch(self, first: date, locations: Sequence[str]) -> None:
        """Read each location's edits since `first` once, for a period collected day by day."""
        stamp = f"{first.isoformat()} 00:00:00"

        def read(loc: str) -> tuple[str, tuple[str, list[Any], list[Any]] | str]:
            got = self._read(loc, stamp)
            return loc, got if isinstance(got, str) else (stamp, *got)

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(locations)))) as pool:
            self._period.update(pool.map(read, locations))

    def _read(self, loc: str, stamp: str) -> tuple[list[Any], list[Any]] | str:
        """Plans and procedures changed since `stamp`, or why they could not be read."""
        try:
            conn = self._connect(loc)
        except Exception as exc:  # PmsConfigError, a missing secret: this location's days are missing
            return f"opendental connection: {exc}"
        try:
            return list(conn.iterate("/treatplans", {"SecDateTEdit": stamp})), list(
                conn.iterate("/procedurelogs", {"DateTStamp": stamp}))
        except PmsError as exc:
            return f"opendental: {exc}"
        finally:
            self.requests += int(getattr(conn, "requests_sent", 0))
            conn.close()

    def _location(self, day: date, loc: str) -> list[Outcome]:
        stamp = f"{day.isoformat()} 00:00:00"
        q_plans = f"GET /treatplans?SecDateTEdit={stamp}"
        q_procs = f"GET /procedurelogs?DateTStamp={stamp}"
        cached = self._period.get(loc)
        if isinstance(cached, tuple) and cached[0] <= stamp:
            # What the day's own queries return: SecDateTEdit "after" the stamp, DateTStamp on or after it.
            plans = [p for p in cached[1] if str(p.get("SecDateTEdit", "")) > stamp]
            procs = [p for p in cached[2] if str(p.get("DateTStamp", "")) >= stamp]
        else:
            got = cached if isinstance(cached, str) else self._read(loc, stamp)
            if isinstance(got, str):
                return missing(self, day, [loc], got, failed=True)
            plans, procs = got
        iso = day.isoformat()
        presented = [p for p in plans if str(p.get("DateTP", ""))[:10] == iso
                     and p.get("TPStatus") in ("Active", "Inactive")]
        accepted = sum(1 for p in presented if str(p.get("DateTSigned", "")) not in UNSIGNED)
        done = [p for p in procs if p.get("ProcStatus") == "C" and str(p.get("ProcDate", ""))[:10] == iso]
        if not presented and not done:
            return missing(self, day, [loc], "no data: no plan presented and no procedure completed that day",
                           f"{q_plans}; {q_procs}")
        out = [rate(loc, "case_acceptance_pct", day, accepted, len(presented), SOURCE, q_plans,
                    "no treatment plan presented that day"),
               sample(loc, "treatment_plans", day, len(presented), SOURCE, q_plans)]
        if self.platform_marker:
            made = sum(1 for p in presented if self.platform_marker in str(p.get("Note", "")))
            out.append(rate(loc, "adoption_pct", day, made, len(presented), SOURCE,
                            f"{q_plans} (Note carries the platform marker)", "no treatment plan presented that day"))
        counts = dict.fromkeys(CATEGORIES.values(), 0)
        fees = 0.0
        patients: set[Any] = set()
        for p in done:
            metric = CATEGORIES.get(cdt.category(str(p.get("procCode", ""))) or "")
            if metric:
                counts[metric] += 1
            fees += float(p.get("ProcFee") or 0.0)
            patients.add(p.get("PatNum"))
        out += [sample(loc, m, day, n, SOURCE, q_procs) for m, n in counts.items()]
        out += [sample(loc, "production", day, round(fees, 2), SOURCE, q_procs),
                sample(loc, "patients_seen", day, len(patients), SOURCE, q_procs)]
        if patients:
            out.append(sample(loc, "production_per_patient", day, round(fees / len(patients), 2), SOURCE, q_procs))
        else:
            out.append(Outcome(loc, "production_per_patient", day, SOURCE, q_procs, None,
                               "no procedure completed that day"))
        return out

"""Metric collection benchmark: one day for 50 locations from every source simulator.

Pacing is scaled down 50x (Open Dental 5 s -> 100 ms per request and customer key, Zendesk's 200
requests a minute -> 6 ms, the LRS's 10 a second -> 2 ms), with each simulator enforcing the same
scaled limits. Reported: the measured wall time of the paced collection against the same
collection unpaced (the baseline: what golive itself costs), the pacing-bound time computed from
the requests each source was sent (Open Dental: 8 offices read side by side, each at its own
key's pace; Zendesk and the LRS: one account, one request at a time) and the ratio of measured to
computed (near 1: the documented pacing, not golive, sets the time), and that pacing-bound time at
the real, documented pacing. Then the alternative sources on the same day for the same 50
locations: uptime from the vendor's Statuspage and training from an LMS CSV export, against probe
results and the xAPI LRS (the baseline), interleaved.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bench.timing import Samples, interleaved, ratio_line, timed
from golive.tasks.gates.collect.base import collect_day
from golive.tasks.gates.collect.kinds import STATUSPAGE_INTERVAL_S, XAPI_INTERVAL_S, ZENDESK_INTERVAL_S, build
from golive.tasks.gates.collect.opendental import OpenDentalCollector
from golive.tasks.gates.collect.sim.rig import start_rig
from golive.tasks.pms.pacing import READ_ALL_INTERVAL_S, duration
from golive.tasks.store import Store

LOCATIONS = 50
SCALE = 50
ROUNDS = 3
DAY = date(2026, 10, 1)


class _Ctx:
    org = None
    store = None


def main() -> Iterator[str]:
    locs = [f"office-{i:02d}" for i in range(LOCATIONS)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'golive.db'}")
        od_s, zd_s, x_s = READ_ALL_INTERVAL_S / SCALE, ZENDESK_INTERVAL_S / SCALE, XAPI_INTERVAL_S / SCALE
        rig = start_rig(Path(tmp), locs, DAY, 1, store, od_throttle_s=od_s * 0.8)
        rig.zendesk.interval_s = zd_s * 0.8
        os.environ.update(rig.env())
        try:
            paced = build(_Ctx(), rig.sources(od_interval_s=od_s, zendesk_interval_s=zd_s, xapi_interval_s=x_s), store)  # type: ignore[arg-type]
            bare = build(_Ctx(), rig.sources(), store)  # type: ignore[arg-type]
            ours, base = interleaved(lambda: collect_day(store, paced, DAY, locs),
                                     lambda: collect_day(store, bare, DAY, locs), ROUNDS)
            # The requests one collection sends, per source (one more measured run, counted).
            od = next(c for c in paced if isinstance(c, OpenDentalCollector))
            clients = {c.source: c.client for c in paced if hasattr(c, "client")}
            before = (od.requests, {k: v.requests for k, v in clients.items()})
            early0 = sum(f.stats.throttled for f in rig.farm.faults.values()) + rig.zendesk.rate_limited
            cpu0 = time.process_time()
            wall = timed(lambda: collect_day(store, paced, DAY, locs))
            cpu = time.process_time() - cpu0
            load = os.getloadavg()[0]
            early = sum(f.stats.throttled for f in rig.farm.faults.values()) + rig.zendesk.rate_limited - early0
            od_req = od.requests - before[0]
            zd_req = clients["zendesk"].requests - before[1]["zendesk"]
            x_req = clients["xapi"].requests - before[1]["xapi"]
        finally:
            rig.stop()
    waves = -(-LOCATIONS // od.workers)  # offices read `workers` at a time, each paced on its own key
    per_office = od_req / LOCATIONS

    def bound(od_i: float, zd_i: float, x_i: float) -> float:
        return waves * per_office * od_i + zd_req * zd_i + x_req * x_i

    scaled, real = bound(od_s, zd_s, x_s), bound(READ_ALL_INTERVAL_S, ZENDESK_INTERVAL_S, XAPI_INTERVAL_S)
    yield ratio_line(f"one day, {LOCATIONS} locations, 5 sources, pacing 1/{SCALE}", ours, "same collection unpaced",
                     base)
    yield (f"requests: Open Dental {od_req} ({per_office:.1f} per office), Zendesk {zd_req}, LRS {x_req}; "
           f"paced requests the simulators caught early: {early}")
    measured = Samples((*ours.seconds, wall))
    yield (f"pacing-bound time at 1/{SCALE} pacing: {scaled:.2f} s computed, {measured.median:.2f} s measured; "
           f"ratio {measured.median / scaled:.2f}")
    yield (f"CPU time of that collection, golive and the in-process simulators together: {cpu:.2f} s of "
           f"{wall:.2f} s wall (load average {load:.1f} on {os.cpu_count()} cores: the rest is waiting)")
    yield (f"at the documented pacing (Open Dental 1 request / {READ_ALL_INTERVAL_S:g} s per key, {od.workers} offices "
           f"side by side; Zendesk 200/min; LRS 10/s): {duration(real)} for the day's collection")
    yield from alternatives(locs)


def alternatives(locs: list[str]) -> Iterator[str]:
    """Statuspage + LMS CSV against probe + xAPI for the same day and locations (unpaced: golive's cost)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'golive.db'}")
        alt = start_rig(Path(tmp) / "alt", locs, DAY, 1, store, uptime="statuspage", training="lms_csv")
        base = start_rig(Path(tmp) / "base", locs, DAY, 1, store)
        os.environ.update(alt.env())
        try:
            ours_c = build(_Ctx(), alt.sources(include=("statuspage", "lms_csv")), store)  # type: ignore[arg-type]
            os.environ.update(base.env())
            base_c = build(_Ctx(), base.sources(include=("probe", "xapi")), store)  # type: ignore[arg-type]
            ours, theirs = interleaved(lambda: collect_day(store, ours_c, DAY, locs),
                                       lambda: collect_day(store, base_c, DAY, locs), ROUNDS)
            sp_req = next(c.client.requests for c in ours_c if c.source == "statuspage")  # type: ignore[attr-defined]
        finally:
            alt.stop()
            base.stop()
    yield ratio_line(f"one day, {LOCATIONS} locations: Statuspage uptime + LMS CSV training", ours,
                     "probe results + xAPI LRS", theirs)
    per_day = sp_req / (ROUNDS + 1)  # a warm-up, then ROUNDS timed collections
    yield (f"Statuspage: {per_day:.0f} requests a day for all {LOCATIONS} locations (summary.json, incidents.json); "
           f"at {STATUSPAGE_INTERVAL_S:g} s apart: {duration(per_day * STATUSPAGE_INTERVAL_S)}")

"""PMS benchmarks against the Open Dental simulator process.

1. A full battery at one request per 5 s (Open Dental's documented ApiReadAll throttle): its wall
   time computed from the pacing (requests x 5 s), and measured against the simulator with the
   pacing scaled down (server throttle and client interval both 1/50 of it), as the ratio of the
   measured time to the one computed for that scaled pacing: a ratio near 1 means the pacing, not
   golive, sets the battery's duration, so the computed 5 s figure is the real one.
2. Patient sync of 10,000 simulated patients through `Patients GET Simple`, 100 per page, unpaced
   (as the Local API is), against a bare httpx paging loop over the same simulator.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from bench.timing import interleaved, ratio_line
from golive.tasks.pms.check import ALL_CHECKS, run_checks
from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.pacing import READ_ALL_INTERVAL_S, Pacer, duration
from golive.tasks.pms.simulator.process import SimProcess, start_simulator
from golive.tasks.store import Store

PATIENTS = 10_000
ROUNDS = 5
SCALE = 50  # 5 s -> 100 ms: still well above a request's own time here
BATTERY_ROUNDS = 3


def _bare(sim: SimProcess) -> int:
    """Baseline: the loop a developer would write from Open Dental's pagination docs, no retries."""
    n, offset = 0, 0
    headers = {"Authorization": f"ODFHIR {sim.developer_key}/{sim.customer_key}", "Content-Type": "application/json"}
    with httpx.Client(headers=headers, timeout=30) as client:
        while True:
            page = client.get(f"{sim.url}/patients/Simple", params={"Offset": offset} if offset else None).json()
            n += len(page)
            if len(page) < 100:
                return n
            offset += len(page)


def _connector(sim: SimProcess, interval_s: float) -> OpenDentalConnector:
    return OpenDentalConnector(sim.url, sim.developer_key, sim.customer_key, allow_insecure_local=True,
                               pacer=Pacer(interval_s))


def _golive(sim: SimProcess) -> int:
    conn = _connector(sim, 0.0)
    try:
        return sum(1 for _ in conn.patients())
    finally:
        conn.close()


def _battery(sim: SimProcess, store: Store, interval_s: float) -> int:
    """One full battery (8 checks, test patient 1); returns the requests it sent."""
    conn = _connector(sim, interval_s)
    try:
        results = run_checks(conn, location="bench", store=store, test_patient="1", checks=ALL_CHECKS)
        assert all(r.passed for r in results), [r.summary for r in results if not r.passed]
        return conn.requests_sent
    finally:
        conn.close()


def _battery_lines(d: Path) -> list[str]:
    scaled = READ_ALL_INTERVAL_S / SCALE
    sim = start_simulator(d / "battery.db", patients=40, seed=2, throttle_s=scaled, startup_s=180)
    store = Store.open(f"sqlite:///{d / 'golive.db'}")

    def paced() -> int:
        sim.configure(throttle_s=scaled)
        return _battery(sim, store, scaled)

    def unpaced() -> int:
        sim.configure(throttle_s=0)
        return _battery(sim, store, 0.0)

    try:
        requests = paced()
        measured, bare = interleaved(paced, unpaced, BATTERY_ROUNDS)
    finally:
        sim.stop()
        store.dispose()
    computed_real = requests * READ_ALL_INTERVAL_S
    computed_scaled = requests * scaled
    spread = [s / computed_scaled for s in measured.seconds]
    return [
        f"full battery (Open Dental 25.3.20, 8 checks): {requests} requests; at 1 request / "
        f"{READ_ALL_INTERVAL_S:g} s computed {duration(computed_real)} ({computed_real:.0f} s)",
        f"measured with pacing scaled 1/{SCALE} ({scaled * 1000:g} ms/request): {measured.describe()}; computed "
        f"{computed_scaled:.3f} s: ratio {measured.median / computed_scaled:.2f} (per-run {min(spread):.2f}–"
        f"{max(spread):.2f})",
        ratio_line("the same battery, paced (scaled)", measured, "unpaced (server and client)", bare),
    ]


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        lines = _battery_lines(d)
        sim = start_simulator(d / "sim.db", patients=PATIENTS, seed=1, throttle_s=0, startup_s=180)
        try:
            counts = {"golive": _golive(sim), "bare": _bare(sim)}
            ours, base = interleaved(lambda: _golive(sim), lambda: _bare(sim), ROUNDS)
        finally:
            sim.stop()
    assert counts["golive"] == counts["bare"] == PATIENTS, counts
    pages = PATIENTS // 100 + 1
    return lines + [
        ratio_line(f"sync {PATIENTS} patients via Patients GET Simple, 100/page, unpaced", ours,
                   "bare httpx paging loop", base),
        f"the same sync at 1 request / {READ_ALL_INTERVAL_S:g} s: {pages} requests, computed "
        f"{duration(pages * READ_ALL_INTERVAL_S)}",
    ]


if __name__ == "__main__":
    print("\n".join(main()))

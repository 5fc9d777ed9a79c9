"""Gate step kinds over a real (SQLite) store: verdicts stored and audited, no-go fails the step,
inconclusive returns for an approval, triggers and rollbacks, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.gates import repository
from golive.tasks.gates.kinds import KINDS, DeadlineMissed, GateNoGo
from golive.tasks.gates.observations import Sample

K = {k.name: k for k in KINDS}
D0 = date(2026, 4, 1)


def ctx(store: Any, audit: list[tuple[str, Any]], step: str = "gate") -> StepContext:
    return StepContext(run_id="run-1", run_key="key-1", runbook="test", step_id=step, step_key=step, store=store,
                       artifacts=NullArtifacts(), audit=lambda e, d: audit.append((e, dict(d))))


def put(store: Any, location: str, metric: str, values: list[float]) -> None:
    repository.save_samples(store, [Sample(location, metric, D0 + timedelta(days=i), v) for i, v in enumerate(values)], "test")


UPTIME = {"id": "uptime", "metric": "uptime_pct", "test": "threshold", "op": ">", "value": 99, "window": {"last_days": 14},
          "min_samples": 14}


def test_gate_go_is_stored_audited_and_published(sqlite_store: Any) -> None:
    put(sqlite_store, "a", "uptime_pct", [99.9] * 14)
    audit: list[tuple[str, Any]] = []
    c = ctx(sqlite_store, audit)
    out = K["gate"].run(c, {"criteria": [UPTIME], "locations": ["a"], "wave": 1})
    assert out["verdict"] == "go" and out["criteria"][0]["status"] == "pass"
    stored = repository.verdicts(sqlite_store)
    assert stored[0]["verdict"] == "go" and stored[0]["wave"] == "1"
    assert stored[0]["evidence"]["criteria"][0]["results"][0]["value"] == pytest.approx(99.9)
    assert audit[0][0] == "gate.verdict" and audit[0][1]["verdict"] == "go"
    assert c.artifacts.published[0][0] == "table"  # type: ignore[attr-defined]


def test_gate_no_go_fails_the_step_after_storing_the_verdict(sqlite_store: Any) -> None:
    put(sqlite_store, "a", "uptime_pct", [99.0] * 14)
    with pytest.raises(GateNoGo, match="uptime"):
        K["gate"].run(ctx(sqlite_store, []), {"criteria": [UPTIME], "locations": ["a"]})
    assert repository.verdicts(sqlite_store)[0]["verdict"] == "no-go"
    out = K["gate"].run(ctx(sqlite_store, []), {"criteria": [UPTIME], "locations": ["a"], "fail_on_no_go": False})
    assert out["verdict"] == "no-go"


def test_gate_inconclusive_returns_for_the_deciding_role(sqlite_store: Any) -> None:
    put(sqlite_store, "a", "uptime_pct", [99.9] * 5)
    out = K["gate"].run(ctx(sqlite_store, []), {"criteria": [UPTIME], "locations": ["a"], "decide_role": "COO"})
    assert out["verdict"] == "inconclusive" and out["decide_role"] == "COO"


def test_a_verdict_before_the_period_closes_is_provisional_unless_go(sqlite_store: Any) -> None:
    # A gate deployed daily: while its period is open, too few days (or the adoption ramp) is not a
    # decision to put to anyone; a GO is final at once; after the period closes nothing is provisional.
    put(sqlite_store, "a", "uptime_pct", [99.9] * 5 + [98.0] * 15)
    crit = {**UPTIME, "window": {"period": "pilot"}}
    periods = {"pilot": {"start": D0.isoformat(), "end": (D0 + timedelta(days=27)).isoformat()}}

    def gate(as_of: date) -> dict[str, Any]:
        return K["gate"].run(ctx(sqlite_store, []), {"criteria": [crit], "locations": ["a"], "periods": periods,
                                                     "as_of": as_of.isoformat(), "fail_on_no_go": False})

    early, failing, closed = gate(D0 + timedelta(days=4)), gate(D0 + timedelta(days=19)), gate(D0 + timedelta(days=27))
    assert (early["verdict"], early["waiting_for_data"]) == ("inconclusive", True)
    assert (failing["verdict"], failing["waiting_for_data"]) == ("no-go", True)
    assert (closed["verdict"], closed["waiting_for_data"]) == ("no-go", False)
    assert closed["window_end"] == (D0 + timedelta(days=27)).isoformat()
    put(sqlite_store, "b", "uptime_pct", [99.9] * 14)
    go = K["gate"].run(ctx(sqlite_store, []), {"criteria": [crit], "locations": ["b"], "periods": periods,
                                                "as_of": (D0 + timedelta(days=13)).isoformat()})
    assert (go["verdict"], go["waiting_for_data"]) == ("go", False)


def test_bad_criteria_are_user_errors(sqlite_store: Any) -> None:
    with pytest.raises(UserInputError):
        K["gate"].run(ctx(sqlite_store, []), {"criteria": [{"id": "x", "metric": "m", "test": "nope"}]})


def test_triggers_then_start_is_idempotent_and_scoped(sqlite_store: Any) -> None:
    put(sqlite_store, "a", "uptime_pct", [99.9] * 10)
    put(sqlite_store, "b", "uptime_pct", [99.9] * 5 + [80] * 3 + [99.9] * 2)
    audit: list[tuple[str, Any]] = []
    out = K["rollback.triggers"].run(ctx(sqlite_store, audit, "triggers"), {"locations": ["a", "b"]})
    assert out["locations"] == ["b"] and out["count"] == 1
    entry = out["affected"][0]
    started = K["rollback.start"].run(ctx(sqlite_store, audit, "start"), {"location": entry, "launch": "record"})
    assert started["created"] and started["launch"]["mode"] == "record"
    assert "rollback.yaml" in started["launch"]["command"] and "b" in started["launch"]["command"]
    again = K["rollback.start"].run(ctx(sqlite_store, audit, "start"), {"location": entry, "launch": "record"})
    assert not again["created"] and again["rollback_id"] == started["rollback_id"]
    # The next watch does not list b again while its rollback is open.
    out2 = K["rollback.triggers"].run(ctx(sqlite_store, audit, "triggers"), {"locations": ["a", "b"]})
    assert out2["count"] == 0 and out2["already_open"] == ["b"]
    assert ("rollback.started" in [e for e, _ in audit]) and ("rollback.already_open" in [e for e, _ in audit])


def test_rollout_set_returns_before_and_closes_rollback_when_live_again(sqlite_store: Any) -> None:
    repository.open_rollback(sqlite_store, location="b", reason="r", triggers=[], triggered_at=datetime.now(UTC), run_id=None)
    out = K["rollout.set"].run(ctx(sqlite_store, [], "revert"), {"locations": ["b"], "status": "rolled_back"})
    assert out["workflow"] == "previous" and out["changed"][0]["before"]["status"] is None
    K["rollout.set"].run(ctx(sqlite_store, [], "undo"), {"locations": ["b"], "status": "live"})
    assert repository.rollout(sqlite_store)["b"]["workflow"] == "platform"
    assert repository.open_rollbacks(sqlite_store) == {}


def test_deadline_met_overdue_and_fail() -> None:
    audit: list[tuple[str, Any]] = []
    c = ctx(None, audit, "deadline")
    met = K["deadline.check"].run(c, {"since": "2026-04-10T08:00:00Z", "within": "2h", "now": "2026-04-10T10:00:00Z"})
    assert met["overdue"] is False and met["escalated_to"] == []  # exactly on time is in time
    late = K["deadline.check"].run(c, {"since": "2026-04-10T08:00:00Z", "within": "2h", "now": "2026-04-10T10:00:01Z",
                                       "escalate_to": ["COO"], "subject": "Rollback b"})
    assert late["overdue"] and late["escalated_to"] == ["COO"] and late["late_by_s"] == 1.0
    assert audit[-1][0] == "deadline.overdue" and audit[-1][1]["to"] == ["COO"]
    with pytest.raises(DeadlineMissed):
        K["deadline.check"].run(c, {"since": "2026-04-10", "within": "24h", "now": "2026-04-12T00:00:00Z", "on_overdue": "fail"})
    assert issubclass(DeadlineMissed, StepFailed)


def test_simulate_stores_the_scenario(sqlite_store: Any) -> None:
    out = K["metrics.simulate"].run(ctx(sqlite_store, [], "sim"), {
        "scenario": "examples/acme-dental/scenarios/pilot-ok.yaml", "locations": ["a", "b"]})
    assert out["rows"] > 0 and out["go_live"] == "2026-03-30"
    obs = repository.load_observations(sqlite_store, locations=["a", "b"], metrics=["adoption_pct"])
    assert obs.metrics["adoption_pct"].numerator is not None
    again = K["metrics.simulate"].run(ctx(sqlite_store, [], "sim"), {
        "scenario": "examples/acme-dental/scenarios/pilot-ok.yaml", "locations": ["a", "b"]})
    assert again["rows"] == out["rows"]
    assert len(repository.load_observations(sqlite_store).samples()) == out["rows"]  # replaced, not duplicated


def test_simulate_until_extends_a_staggered_waves_data_to_its_periods_close(sqlite_store: Any) -> None:
    # pilot-ok: 28 days from go-live (2026-03-30). b goes live 3 weeks after a; the gate's period
    # closes four weeks after b's go-live, so a's data must run past its own 28 days to that day.
    params = {"scenario": "examples/acme-dental/scenarios/pilot-ok.yaml", "locations": ["a", "b"],
              "starts": {"b": "2026-04-20"}, "until": "2026-05-17"}
    K["metrics.simulate"].run(ctx(sqlite_store, [], "sim"), params)
    obs = repository.load_observations(sqlite_store, locations=["a", "b"], metrics=["adoption_pct"])
    last = {loc: max(s.day for s in obs.samples() if s.location == loc and s.metric == "adoption_pct")
            for loc in ("a", "b")}
    assert last["a"] >= date(2026, 5, 17) and last["b"] >= date(2026, 5, 17), last
    with pytest.raises(UserInputError, match="until"):
        K["metrics.simulate"].run(ctx(sqlite_store, [], "sim"), {**params, "until": "17 May"})


def test_gate_reads_imported_baseline_reports(sqlite_store: Any) -> None:
    from golive.tasks.planning.metric_store import BaselineMetricRow

    with sqlite_store.session() as s:
        for loc, value, n in (("a", 60.0, 600), ("b", 60.0, None)):
            s.add(BaselineMetricRow(location_id=loc, metric="case_acceptance_rate", period_start=date(2026, 1, 1),
                                    period_end=date(2026, 3, 31), value=value, sample_size=n, source="pms",
                                    file_sha256="0" * 64, line=2, imported_at=datetime.now(UTC)))
    repository.save_samples(sqlite_store, [Sample("a", "case_acceptance_pct", D0 + timedelta(days=i), 50.0, 10, 20)
                                           for i in range(14)], "pms")
    crit = {"id": "acc", "metric": "case_acceptance_pct", "test": "no_decrease", "window": {"last_days": 14},
            "baseline": {"start": "2026-01-01", "end": "2026-03-31"}, "min_samples": 14, "min_baseline_samples": 1}
    out = K["gate"].run(ctx(sqlite_store, []), {"criteria": [crit], "locations": ["a"], "fail_on_no_go": False,
                                                "baseline_metrics": {"case_acceptance_rate": "case_acceptance_pct"}})
    assert out["verdict"] == "no-go"  # 50% (140/280) against 60% (360/600): a significant decrease
    ev = repository.verdicts(sqlite_store)[0]["evidence"]["criteria"][0]["evidence"]
    assert ev["method"] == "two_proportion" and ev["n_baseline"] == 600 and ev["n_current"] == 280


def test_a_location_not_live_yet_keeps_the_period_open_and_holds_the_go(sqlite_store: Any) -> None:
    # Wave 3: a went live on D0, b is scheduled but not live. The period (a's 4 weeks) has closed,
    # yet b's has not begun: the verdict is provisional, and it is no GO though a alone would pass.
    put(sqlite_store, "a", "uptime_pct", [99.9] * 28)
    crit = {**UPTIME, "window": {"period": "pilot"}}
    periods = {"pilot": {"start": D0.isoformat(), "end": (D0 + timedelta(days=27)).isoformat()}}
    params = {"criteria": [crit], "locations": ["a", "b"], "periods": periods,
              "as_of": (D0 + timedelta(days=27)).isoformat(), "min_live_days": 14, "fail_on_no_go": False}
    out = K["gate"].run(ctx(sqlite_store, []), {**params, "live_since": {"a": D0.isoformat()}})
    assert (out["verdict"], out["waiting_for_data"]) == ("inconclusive", True)
    assert out["criteria"][0]["id"] == "live-period" and "b" in out["criteria"][0]["reason"]
    # An empty mapping is "not given" (a gate run by hand): b is then simply a location without data.
    by_hand = K["gate"].run(ctx(sqlite_store, []), {**params, "live_since": {}})
    assert by_hand["waiting_for_data"] is False and by_hand["criteria"][0]["id"] == "uptime"
    with pytest.raises(UserInputError, match="live_since"):
        K["gate"].run(ctx(sqlite_store, []), {**params, "live_since": ["a"]})


def test_gate_with_go_lives_reads_each_locations_own_baseline_from_the_store(sqlite_store: Any) -> None:
    # b goes live four weeks after a; its acceptance rose from 60% to 75% in the weeks between and
    # fell back to 60% at go-live. The stored days before the written baseline's end and after it
    # are both loaded: b is compared with its own 75% and the decrease fails the gate.
    def acc(loc: str, rates: list[int]) -> list[Sample]:
        return [Sample(loc, "acc", D0 + timedelta(days=i), 100 * x / 20, x, 20) for i, x in enumerate(rates)]

    def day(n: int) -> str:
        return (D0 + timedelta(days=n)).isoformat()

    repository.save_samples(sqlite_store, acc("a", [12] * 70) + acc("b", [12] * 14 + [15] * 28 + [12] * 28), "test")
    crit = {"id": "acc", "metric": "acc", "test": "no_decrease", "scope": "location", "window": {"period": "pilot"},
            "baseline": {"period": "baseline"}, "min_samples": 14}
    params = {"criteria": [crit], "locations": ["a", "b"], "fail_on_no_go": False, "as_of": day(69),
              "periods": {"baseline": {"start": day(0), "end": day(13)}, "pilot": {"start": day(14), "end": day(69)}},
              "live_since": {"a": day(14), "b": day(42)}}
    out = K["gate"].run(ctx(sqlite_store, []), params)
    assert out["verdict"] == "no-go" and out["criteria"][0]["failing"] == ["b"]
    b = out["criteria"][0]["results"][1]["evidence"]
    assert b["baseline_window"] == f"its 14 days before its go-live ({day(28)}..{day(41)})"
    assert b["effect"] == pytest.approx(-15.0)
    without = K["gate"].run(ctx(sqlite_store, []), {**params, "live_since": {}})  # by hand: the written window
    assert without["criteria"][0]["results"][1]["evidence"]["baseline_window"] == f"{day(0)}..{day(13)}"

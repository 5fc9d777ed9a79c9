"""Missing collection days turn a pass into inconclusive, inside the window only; a failure stays."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.gates.collect.kinds import build
from golive.tasks.gates.completeness import apply_gaps
from golive.tasks.gates.criteria import Status, parse_spec
from golive.tasks.gates.evaluate import evaluate
from golive.tasks.gates.observations import Observations, Sample

D0 = date(2026, 10, 1)


def _verdict(values: list[float], op: str = ">=", value: float = 50) -> tuple[Any, Any]:
    samples = [Sample(loc, "m", D0 + timedelta(days=i), v) for loc in ("a", "b") for i, v in enumerate(values)]
    spec = parse_spec([{"id": "c", "metric": "m", "test": "threshold", "op": op, "value": value,
                        "window": {"last_days": 5}}], as_of=str(D0 + timedelta(days=len(values) - 1)),
                      locations=["a", "b"], name="t")
    return spec, evaluate(spec, Observations.from_samples(samples))


def test_a_missing_day_in_the_window_makes_a_pass_inconclusive() -> None:
    spec, verdict = _verdict([60, 70, 80, 90])
    assert verdict.decision.value == "go"
    after = apply_gaps(verdict, spec, [("b", "m", D0 + timedelta(days=1), "opendental", "no data")])
    c = after.criteria[0]
    assert c.status is Status.INCONCLUSIVE and after.decision.value == "inconclusive"
    assert "b 2026-10-02" in c.reason and "opendental: no data" in c.reason
    assert {r.location: r.status for r in c.results} == {"a": Status.PASS, "b": Status.INCONCLUSIVE}
    assert after.score == 0


@pytest.mark.parametrize("gap", [
    ("b", "m", D0 - timedelta(days=3), "x", "before the window"),
    ("b", "other", D0 + timedelta(days=1), "x", "another metric"),
    ("z", "m", D0 + timedelta(days=1), "x", "a location out of scope"),
])
def test_gaps_outside_what_the_criterion_reads_change_nothing(gap: Any) -> None:
    spec, verdict = _verdict([60, 70, 80, 90])
    assert apply_gaps(verdict, spec, [gap]) == verdict


def test_a_failure_stays_a_failure() -> None:
    spec, verdict = _verdict([10, 20, 30, 40])
    after = apply_gaps(verdict, spec, [("a", "m", D0, "x", "no data")])
    assert after.criteria[0].status is Status.FAIL and after.decision.value == "no-go"


class _Ctx:
    org = None
    store = None


@pytest.mark.parametrize("sources,message", [
    ({"jira": {}}, "unknown source"),
    ({"zendesk": {"base_url": "https://x.zendesk.com", "email": "a@b", "token": "plain-token"}}, "secret reference"),
    ({"xapi": {"base_url": "https://lrs", "username": "u", "password": "env:GOLIVE_TEST_NOPE_UNSET"}}, "not set"),
    ({"survey": {}}, "sources.survey.file is required"),
])
def test_bad_source_configuration_is_a_clear_input_error(sources: dict[str, Any], message: str) -> None:
    with pytest.raises(UserInputError, match=message) as err:
        build(_Ctx(), sources, None)  # type: ignore[arg-type]
    assert "plain-token" not in str(err.value)


def _step(store: Any, audit: list[Any]) -> Any:
    import logging

    from golive.tasks.context import NullArtifacts, StepContext

    return StepContext(run_id="run-1", run_key="key-1", runbook="test", step_id="collect", step_key="collect",
                       store=store, logger=logging.getLogger("test"), artifacts=NullArtifacts(),
                       audit=lambda event, data: audit.append((event, data)))


def test_live_only_with_nothing_live_says_so_and_probe_days_without_probes_are_missing(
        sqlite_store: Any, tmp_path: Any) -> None:
    from golive.tasks.gates import collected, repository
    from golive.tasks.gates.collect.kinds import run_collect

    audit: list[Any] = []
    out = run_collect(_step(sqlite_store, audit), {"sources": {"probe": {}}, "day": "2026-10-01",
                                                   "locations": ["a"], "live_only": True})
    assert out["locations"] == [] and out["note"] == "no locations to collect (none is live)"
    repository.set_rollout(sqlite_store, "a", status="live", workflow="platform")
    out = run_collect(_step(sqlite_store, audit), {"sources": {"probe": {}}, "day": "2026-10-01",
                                                   "locations": ["a", "b"], "live_only": True})
    assert out["locations"] == ["a"] and out["missing"] == 1
    assert collected.gaps(sqlite_store) == [("a", "uptime_pct", D0, "probe", "no probe results that day")]
    assert audit[-1][0] == "metrics.collected"


def test_the_steps_calendar_records_a_closed_day_closed(sqlite_store: Any) -> None:
    """`with: calendar:` (no organization): Sunday without probe results is closed; Saturday is missing."""
    from golive.tasks.gates import collected
    from golive.tasks.gates.collect.kinds import run_collect

    out = run_collect(_step(sqlite_store, []), {"sources": {"probe": {}}, "start": "2026-10-03", "end": "2026-10-04",
                                                "locations": ["a"], "calendar": {"closed_weekdays": ["sunday"]}})
    assert (out["missing"], out["closed"]) == (1, 1)
    rows = {r["day"]: (r["status"], r["reason"]) for r in collected.ledger(sqlite_store)}
    assert rows[date(2026, 10, 4)] == ("closed", "office closed on sundays (no probe results that day)")
    assert rows[date(2026, 10, 3)] == ("missing", "no probe results that day")


def test_a_day_missing_before_a_locations_own_go_live_is_not_read() -> None:
    # b went live on D0 + 2 (a staggered wave): the collector's missing day for it on D0 + 1 lies in
    # the window but before b's go-live, where the gate reads none of b; a missing day after it counts.
    samples = [Sample(loc, "m", D0 + timedelta(days=i), 80) for loc in ("a", "b") for i in range(6)]
    spec = parse_spec([{"id": "c", "metric": "m", "test": "threshold", "op": ">=", "value": 50,
                        "window": {"last_days": 6}}], as_of=str(D0 + timedelta(days=5)), locations=["a", "b"],
                      name="t", live={"a": str(D0), "b": str(D0 + timedelta(days=2))})
    verdict = evaluate(spec, Observations.from_samples(samples))
    assert verdict.decision.value == "go"
    assert apply_gaps(verdict, spec, [("b", "m", D0 + timedelta(days=1), "x", "not live yet")]) == verdict
    after = apply_gaps(verdict, spec, [("b", "m", D0 + timedelta(days=3), "x", "no data")])
    assert after.decision.value == "inconclusive"


def test_with_go_lives_a_missing_day_counts_in_a_locations_own_baseline_only() -> None:
    # b went live 10 days after a; its own 5-day baseline (D0 + 5 .. D0 + 9) lies after the baseline
    # window as written (a's, D0 .. D0 + 4): a gap there is read, a gap in the written window is not.
    samples = [Sample(loc, "m", D0 + timedelta(days=i), 60, 12, 20) for loc in ("a", "b") for i in range(30)]
    periods = {"base": {"start": str(D0), "end": str(D0 + timedelta(days=4))},
               "pilot": {"start": str(D0 + timedelta(days=5)), "end": str(D0 + timedelta(days=29))}}
    spec = parse_spec([{"id": "acc", "metric": "m", "test": "no_decrease", "scope": "wave", "window": {"period": "pilot"},
                        "baseline": {"period": "base"}, "min_samples": 5}], periods=periods,
                      as_of=str(D0 + timedelta(days=29)), locations=["a", "b"], name="t",
                      live={"a": str(D0 + timedelta(days=5)), "b": str(D0 + timedelta(days=10))})
    verdict = evaluate(spec, Observations.from_samples(samples))
    assert verdict.decision.value == "go"
    assert apply_gaps(verdict, spec, [("b", "m", D0 + timedelta(days=2), "x", "before b's own baseline")]) == verdict
    after = apply_gaps(verdict, spec, [("b", "m", D0 + timedelta(days=7), "x", "no data")])
    assert after.decision.value == "inconclusive" and "b 2026-10-08" in after.criteria[0].reason
    assert apply_gaps(verdict, spec, [("a", "m", D0 + timedelta(days=2), "x", "no data")]).decision.value == "inconclusive"

"""The program's hard rules bind the shipped runbooks, end to end through Prefect on the example
group: no baselines stops pre-implementation; a stored NO-GO stops wave 2's go-live until a CEO
override with a reason is recorded; go-lives take slots (3 a day); the board shows the override."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from golive.tasks.foundation.paths import DEFAULT_ORG, EXAMPLES, RUNBOOKS
from golive.tasks.foundation.yamlsafe import load_yaml
from golive.tasks.gates import repository as gates
from golive.tasks.program import repository
from golive.tasks.store import Store
from tests.e2e.conftest import steps_by_key

pytestmark = pytest.mark.e2e

ACME = EXAMPLES / "acme-dental"
PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
WAVE2 = ["downtown-metro", "suburban-west", "northside-family", "cedar-hills", "maple-grove", "oak-park", "pine-ridge"]
BASELINES = [str(ACME / "baseline" / f"{r}.csv") for r in ("central", "north", "east", "west", "south")]
GATE = {"locations": PILOT, "pilot_start": "2026-03-30", "pilot_end": "2026-04-26",
        "baseline_start": "2026-03-02", "baseline_end": "2026-03-29"}


def decisions(name: str) -> dict[str, Any]:
    return dict(load_yaml(ACME / name))


def test_no_baselines_stops_pre_implementation_before_the_timeline(run_book: Any, golive_env: Path, org: None) -> None:
    given = decisions("pre-implementation-inputs.yaml")
    del given["approvals"]["baseline-override"]  # the example's override is for 3 late locations, not 25
    result = run_book(RUNBOOKS / "pre-implementation.yaml", {}, decisions=given)
    assert result["state"] == "failed"
    s = steps_by_key(result)
    assert s["approve-budget"]["state"] == "completed"  # the tick-box approvals still happen
    assert len(s["baseline-guard"]["outputs"]["blocked"]) == 25
    assert "baselines (downtown-metro): baseline 0/" in s["baseline-override"]["error"]
    assert "an approval from CEO or COO with a reason" in s["baseline-override"]["error"]
    assert s["approve-timeline"]["state"] == "skipped" and s["brief"]["state"] == "skipped"


def test_late_baselines_need_a_recorded_override(run_book: Any, golive_env: Path,
                                                                      org: None) -> None:
    result = run_book(RUNBOOKS / "pre-implementation.yaml", {"baseline_files": BASELINES},
                      decisions=decisions("pre-implementation-inputs.yaml"))
    assert result["state"] == "completed", result
    s = steps_by_key(result)
    assert sorted(b["subject"] for b in s["baseline-guard"]["outputs"]["blocked"]) == ["bayview", "old-town", "valley-view"]
    assert s["baseline-override"]["outputs"]["approved_by"] == "Dana Whitfield"
    store = Store.open()
    try:
        kept = repository.overrides(store)
        assert sorted((o["subject"], o["role"], o["guard"]) for o in kept) == [
            ("bayview", "CEO", "baselines"), ("old-town", "CEO", "baselines"), ("valley-view", "CEO", "baselines")]
        assert all("none a pilot candidate" in o["reason"] for o in kept)
    finally:
        store.dispose()


def test_a_stored_no_go_stops_wave_2_until_an_override_and_slots_stagger_it(run_book: Any, golive_env: Path,
                                                                             org: None) -> None:
    sim = run_book(RUNBOOKS / "simulate-metrics.yaml", {"scenario": f"{ACME}/scenarios/pilot-outage.yaml",
                                                         "locations": PILOT})
    assert sim["state"] == "completed", sim
    gate = run_book(RUNBOOKS / "go-no-go-wave1.yaml", GATE)
    assert steps_by_key(gate)["gate"]["outputs"]["verdict"] == "no-go"

    params = {"wave": 2, "start_date": "2026-05-04", "locations": WAVE2, "config_exports": str(ACME / "platform-config")}
    run_day = datetime.now(ZoneInfo("America/Chicago")).date()  # the example's time zone
    wave = decisions("wave1-inputs.yaml")
    del wave["approvals"]["go-live-override"]  # the example's pilot override
    wave["confirmations"]["earlier-wave-learnings"] = "all"  # waves 2-3 only
    stopped = run_book(RUNBOOKS / "wave-go-live.yaml", params, decisions=wave, run_key="wave2-a")
    assert stopped["state"] == "failed", stopped
    s = steps_by_key(stopped)
    assert s["start-parallel-run"]["state"] == "completed"
    assert [i["id"] for i in s["earlier-wave-learnings"]["outputs"]["items"]] == [
        "apply-learnings", "training-materials", "peer-champions", "regional-coordination"]
    err = s["go-live-override"]["error"]
    assert "previous-wave-go (wave 2): the latest wave 1 verdict is NO-GO" in err
    assert "integration-validated (downtown-metro): no integration validation recorded" in err
    assert s["go-live-slots"]["state"] == "skipped" and s["go-live"]["state"] == "skipped"
    # The board step never ran, yet the run refreshed the board (the engine does after every run).
    refreshed = (golive_env / "out" / "program-board.md").read_text(encoding="utf-8")
    assert "| downtown-metro | parallel_run | 2 |" in refreshed and "| 1 | —" not in refreshed
    store = Store.open()
    try:
        assert gates.rollout(store) == {}  # nothing went live
        assert {w.state.value for w in repository.locations(store).values()} == {"parallel_run"}
    finally:
        store.dispose()

    # The CEO overrides with a reason: recorded, and the go-lives take slots (3, 3, 1 a day).
    wave["approvals"]["go-live-override"] = {"name": "Dana Whitfield", "role": "CEO",
                                             "comment": "Outage root-caused to the vendor's DNS; fix verified"}
    went = run_book(RUNBOOKS / "wave-go-live.yaml", params, decisions=wave, run_key="wave2-a")
    assert went["state"] == "completed", went
    s = steps_by_key(went)
    days = s["go-live-slots"]["outputs"]["go_live_days"]
    per_day = sorted(list(days.values()).count(d) for d in set(days.values()))
    assert per_day == [1, 3, 3]
    board = Path(s["board"]["outputs"]["file"]).read_text(encoding="utf-8")
    assert "overridden by Dana Whitfield (CEO)" in board and "vendor's DNS" in board
    assert "| 2 | 7 | 7 | 100.0% |" in board
    store = Store.open()
    try:
        assert {w.state.value for w in repository.locations(store).values()} == {"stabilised"}
        # Each go-live pack went once, across the stopped run and its resume, to its own office only,
        # with its own pack attached (hashes recorded in the ledger match the files).
        import hashlib

        from golive.tasks.delivery.send import history

        sent = [d for d in history(store, "wave2-a") if d["step_key"].startswith("send-go-live-packs[")]
        assert len(sent) == len(WAVE2) and {d["state"] for d in sent} == {"sent"}
        acme = load_yaml(DEFAULT_ORG)
        for d in sent:
            [pack] = [a for a in d["attachments"] if a["name"].endswith(".docx")]  # (+ its PDF where made)
            location = pack["name"].removeprefix("go-live-pack-").removesuffix(".docx")
            assert {Path(a["name"]).stem for a in d["attachments"]} == {f"go-live-pack-{location}"}
            assert location in WAVE2
            managers = {p["name"] for p in acme["people"] if p.get("location") == location
                        and "Office Manager" in p["roles"]}
            assert {r.split(" <")[0] for r in d["recipients"]} == (managers or {"Office Manager"})
            [path] = (golive_env / "out" / "wave2-a").glob(f"go-live-pack-{location}.docx")
            assert hashlib.sha256(path.read_bytes()).hexdigest() == pack["sha256"]
        events = [e.event for e in store.audit.entries()]
        assert events.count("program.transition") >= 6 and "program.override" in events
        # Due dates on wave 2's own weeks (no stored plan here: its start_date, or the run's day when
        # later): `week 3 day 1` of the pilot timeline is wave 2's go-live week, its fourth.
        start = max(date(2026, 5, 4), run_day)
        due = next(e.data["due"] for e in store.audit.entries() if e.event == "step.start" and e.data["step"] == "go-live-slots")
        expected = start + timedelta(weeks=3)
        while expected.weekday() >= 5:
            expected += timedelta(days=1)
        assert due == expected.isoformat()
    finally:
        store.dispose()

    # A rollback of one location: only it becomes rolled back; the board turns the wave red.
    rollback = run_book(RUNBOOKS / "rollback.yaml",
                        {"locations": ["oak-park"], "reason": "availability below 95% for 3 days",
                         "triggered_at": "2026-05-20T09:00:00+00:00"},
                        decisions=decisions("rollback-inputs.yaml"))
    assert steps_by_key(rollback)["lifecycle"]["outputs"]["changes"][0]["to"] == "rolled_back"
    store = Store.open()
    try:
        states = {k: w.state.value for k, w in repository.locations(store).items()}
        assert states.pop("oak-park") == "rolled_back" and set(states.values()) == {"stabilised"}
    finally:
        store.dispose()
    # The weekly status checks the invariants over all of it: the overrides are what made it legal.
    status = run_book(RUNBOOKS / "program-status.yaml", {})
    assert status["state"] == "completed", status
    checks = {r["invariant"]: r for r in steps_by_key(status)["invariants"]["outputs"]["results"]}
    assert checks["go-live-needs-go"]["checked"] == 7 and checks["go-live-needs-go"]["broken"] == 0
    assert checks["slots"]["checked"] == 7 and checks["lifecycle"]["broken"] == 0


@pytest.mark.slow  # two readiness runs (scoring, charts, brief) and a re-assessment: ~60 s here
def test_the_plan_enters_the_program_an_oversized_wave_needs_a_decision_and_deferred_get_a_plan(
        run_book: Any, golive_env: Path, org: None) -> None:
    approvals = decisions("readiness-inputs.yaml")
    undecided = {"approvals": {"approve-pilot": approvals["approvals"]["approve-pilot"]}}
    stopped = run_book(RUNBOOKS / "readiness-assessment.yaml", {"as_of": "2027-01-11"}, decisions=undecided,
                       run_key="plan-a")
    assert stopped["state"] == "failed"
    s = steps_by_key(stopped)
    assert "wave-size (wave 2): 12 location(s) planned: split the wave, or approve its size" in s["plan-override"]["error"]
    assert s["record-plan"]["state"] == "skipped"

    done = run_book(RUNBOOKS / "readiness-assessment.yaml", {"as_of": "2027-01-11"}, decisions=approvals,
                    run_key="plan-a")
    assert done["state"] == "completed", done
    plan = steps_by_key(done)["record-plan"]["outputs"]
    assert {k: len(v) for k, v in plan["scheduled"].items()} == {"1": 3, "2": 12, "3": 6}
    assert plan["duration"] == {"weeks": 18, "locations": 25, "playbook": "16–20", "within": True}
    assert [p["phase"] for p in plan["phases"]] == ["pre-implementation", "wave-1", "wave-2", "wave-3"]
    deferred = {d["location"]: d for d in plan["deferred"]}
    assert set(deferred) == {"meadowbrook", "valley-view", "old-town", "bayview"}
    items = deferred["old-town"]["remediation"]
    assert {i["factor"]: i["owner"] for i in items}["IT Infrastructure Maturity"] == "VP of IT"
    assert all(i["due"] == "2027-03-01" for i in items)  # 8 weeks after the 2027-01-04 start, a Monday

    # Re-assessment: still tier 5, so it stays deferred; the lifecycle is unchanged.
    again = run_book(RUNBOOKS / "reassess-location.yaml", {"location": "old-town"},
                     decisions={"confirmations": {"remediation": "all"}})
    assert again["state"] == "failed" and "still tier 5: it stays deferred" in steps_by_key(again)["fixed"]["error"]
    store = Store.open()
    try:
        where = repository.locations(store)
        assert where["old-town"].state.value == "deferred" and where["old-town"].remediation == items
        assert where["lakeview-implant"].state.value == "scheduled" and where["lakeview-implant"].wave == 1
        assert [o["subject"] for o in repository.overrides(store)] == ["wave 2"]
    finally:
        store.dispose()


def test_weekly_status_reminds_the_owner_of_an_overdue_remediation(run_book: Any, golive_env: Path, org: None) -> None:
    from datetime import date

    store = Store.open()
    try:
        store.start_run(run_id="seed", run_key="seed", runbook="readiness-assessment", parameters={})
        plan = [{"factor": "IT Infrastructure Maturity", "action": "bandwidth upgrade to 50 Mbps", "owner": "VP of IT",
                 "due": "2026-01-05"}]
        repository.apply(store, [repository.Change("old-town", repository.State.DEFERRED, None, date(2025, 11, 3),
                                                   "tier 5", plan)], run_id="seed", step_key="seed")
    finally:
        store.dispose()
    result = run_book(RUNBOOKS / "program-status.yaml", {})
    assert result["state"] == "completed", result
    s = steps_by_key(result)
    (reminder,) = [v for k, v in s.items() if k.startswith("remind[")]
    assert reminder["outputs"]["to"] == ["VP of IT"]
    assert "Old Town: overdue remediation: bandwidth upgrade to 50 Mbps (due 2026-01-05, VP of IT)" in \
        reminder["outputs"]["message"]
    assert "| old-town | deferred |" in Path(s["board"]["outputs"]["file"]).read_text(encoding="utf-8")


@pytest.mark.slow  # readiness scoring through Prefect, ~6 s here: kept out of the default budget
def test_a_remediated_location_is_reassessed_into_a_later_wave(run_book: Any, golive_env: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    # Bayview was deferred for missing data; the organization file now has its staff and champion.
    text = DEFAULT_ORG.read_text(encoding="utf-8")
    fixed = text.replace("    name: Bayview\n", "    name: Bayview\n"
                         "    staff: {annual_turnover: 0.14, adoption_history: neutral, training_completion: 0.90}\n"
                         "    champion: {provider: committed, office_manager: committed, previous_experience: false}\n", 1)
    assert fixed != text
    org_file = golive_env / "organization.yaml"
    org_file.write_text(fixed, encoding="utf-8")
    monkeypatch.setenv("GOLIVE_ORG", str(org_file))
    store = Store.open()
    try:
        store.start_run(run_id="seed", run_key="seed", runbook="readiness-assessment", parameters={})
        repository.apply(store, [repository.Change("bayview", repository.State.DEFERRED, None, date(2027, 1, 4),
                                                   "not scored (data missing)",
                                                   [{"factor": "data", "action": "collect data", "owner": "VP of Ops",
                                                     "due": "2027-03-01"}])], run_id="seed", step_key="seed")
    finally:
        store.dispose()
    result = run_book(RUNBOOKS / "reassess-location.yaml", {"location": "bayview", "wave": 3},
                      decisions={"confirmations": {"remediation": "all"}})
    assert result["state"] == "completed", result
    (change,) = steps_by_key(result)["reschedule"]["outputs"]["changes"]
    assert (change["from"], change["to"], change["wave"]) == ("deferred", "scheduled", 3)
    store = Store.open()
    try:
        where = repository.locations(store)["bayview"]
        assert where.state.value == "scheduled" and where.wave == 3
        assert (where.reason or "").startswith("re-assessed after remediation: tier ")
    finally:
        store.dispose()


def test_deadline_reminders_escalate_an_open_rollbacks_missed_deadlines_once(run_book: Any, golive_env: Path,
                                                                             org: None) -> None:
    from datetime import UTC

    store = Store.open()
    try:  # a rollback triggered 30 hours ago whose run never got going: 2 h and 24 h are missed
        gates.open_rollback(store, location="oak-park", reason="availability below 95% for 3 days", triggers=[],
                            triggered_at=datetime.now(UTC) - timedelta(hours=30), run_id="watch")
    finally:
        store.dispose()
    first = run_book(RUNBOOKS / "deadline-reminders.yaml", {}, run_key="reminders-1")
    assert first["state"] == "completed", first
    s = steps_by_key(first)
    sent = [r["message"] for r in s["deadlines"]["outputs"]["reminders"]]
    assert len(sent) == 2 and all(m.startswith("Rollback oak-park: ") for m in sent)
    assert sorted(k for k in s if k.startswith("remind")) == ["remind[0]", "remind[1]"]
    again = run_book(RUNBOOKS / "deadline-reminders.yaml", {}, run_key="reminders-2")  # the next hour
    assert again["state"] == "completed" and steps_by_key(again)["deadlines"]["outputs"]["reminders"] == []

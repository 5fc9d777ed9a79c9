"""The program kinds on a real store (SQLite and PostgreSQL): the lifecycle, the guards and their
recorded overrides, go-live slots and the board."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from golive.tasks.context import Approval, NullArtifacts, StepContext
from golive.tasks.foundation.errors import ApprovalRejected
from golive.tasks.gates.records import GateVerdictRow
from golive.tasks.planning.organization import Holiday, Organization
from golive.tasks.program import repository
from golive.tasks.program.kinds import KINDS, GuardBlocked, InvariantBroken, SlotFull
from golive.tasks.program.lifecycle import IllegalTransition, State

pytestmark = pytest.mark.integration

K = {k.name: k.run for k in KINDS}
W2 = ["downtown-metro", "suburban-west", "harbor-point", "lakeview-implant", "riverside-ortho"]
SUNDAY_EVENING_DENVER = datetime(2026, 6, 8, 1, 30, tzinfo=UTC)  # Sunday 7 June 19:30 in America/Denver


def ctx(store: Any, org: Organization, key: str = "s", decision: Approval | None = None,
        out: Path = Path("out")) -> StepContext:
    if store.get_run("run-1") is None:
        store.start_run(run_id="run-1", run_key="k", runbook="wave-go-live", parameters={})
    return StepContext(run_id="run-1", run_key="k", runbook="wave-go-live", step_id=key, step_key=key, store=store,
                       org=org, human_input=decision, run_started=SUNDAY_EVENING_DENVER, out_dir=out,
                       audit=lambda event, data: store.audit.append(event, data, run_id="run-1"))


def verdict(store: Any, wave: str, decision: str) -> None:
    with store.session() as s:
        s.add(GateVerdictRow(gate=f"go-no-go-wave{wave}", runbook="g", run_id="g", step_key="gate", wave=wave,
                             as_of=date(2026, 5, 1), verdict=decision, score=0.0, evidence={},
                             decided_at=datetime.now(UTC)))


def walk_to_parallel_run(store: Any, org: Organization, locs: list[str], wave: int) -> None:
    for to in ("scheduled", "configuring", "training", "parallel_run"):
        K["program.transition"](ctx(store, org, f"to-{to}"), {"locations": locs, "to": to, "wave": wave})


def test_illegal_transition_names_state_target_rule_and_writes_nothing(store: Any, acme: Organization) -> None:
    K["program.transition"](ctx(store, acme), {"locations": W2[:2], "to": "scheduled", "wave": 2})
    K["program.transition"](ctx(store, acme), {"locations": W2[:1], "to": "configuring"})
    with pytest.raises(IllegalTransition, match=r"suburban-west: illegal transition scheduled -> training \(rule: "):
        K["program.transition"](ctx(store, acme), {"locations": W2[:2], "to": "training"})
    states = {k: v.state.value for k, v in repository.locations(store).items()}
    assert states == {"downtown-metro": "configuring", "suburban-west": "scheduled"}  # all or nothing
    events = [e.event for e in store.audit.entries()]
    assert events.count("program.transition") == 2 and "program.illegal" in events


def test_wave2_go_live_needs_a_stored_go_and_a_validation(store: Any, acme: Organization) -> None:
    walk_to_parallel_run(store, acme, W2, 2)
    verdict(store, "1", "no-go")
    for loc in W2:
        repository.record_validation(store, location=loc, passed=loc != "harbor-point", evidence=None, run_id="v")
    with pytest.raises(GuardBlocked) as err:
        K["program.transition"](ctx(store, acme), {"locations": W2, "to": "live", "wave": 2})
    assert "latest wave 1 verdict is NO-GO" in str(err.value) and "harbor-point" in str(err.value)
    assert all(w.state.value == "parallel_run" for w in repository.locations(store).values())

    check = K["program.check"](ctx(store, acme), {"locations": W2, "to": "live", "wave": 2})
    assert {(b["guard"], b["subject"]) for b in check["blocked"]} == {
        ("previous-wave-go", "wave 2"), ("integration-validated", "harbor-point")}
    with pytest.raises(GuardBlocked, match="override needs an approval from CEO or COO"):
        K["program.override"](ctx(store, acme), {"blocked": check["blocked"], "approvers": ["CEO", "COO"]})
    wrong_role = Approval("approve", "Priya Raman", "VP of Ops", "ship it")
    with pytest.raises(ApprovalRejected, match="may not override"):
        K["program.override"](ctx(store, acme, decision=wrong_role), {"blocked": check["blocked"], "approvers": ["CEO", "COO"]})
    no_reason = Approval("approve", "Dana Whitfield", "CEO", " ")
    with pytest.raises(ApprovalRejected, match="needs a reason"):
        K["program.override"](ctx(store, acme, decision=no_reason), {"blocked": check["blocked"], "approvers": ["CEO"]})
    impostor = Approval("approve", "Somebody Else", "CEO", "board asked")
    with pytest.raises(ApprovalRejected, match="does not hold the role CEO"):
        K["program.override"](ctx(store, acme, decision=impostor), {"blocked": check["blocked"], "approvers": ["CEO"]})
    ok = Approval("approve", "Dana Whitfield", "CEO", "wave-1 outage root-caused; vendor fix verified")
    out = K["program.override"](ctx(store, acme, decision=ok), {"blocked": check["blocked"], "approvers": ["CEO"]})
    assert len(out["overridden"]) == 2

    # Now it goes live, 3 on the first business day (Monday 8 June: the run started Sunday in Denver), 2 next day.
    live = K["program.transition"](ctx(store, acme), {"locations": W2, "to": "live", "wave": 2})
    assert live["go_live_days"] == {"downtown-metro": "2026-06-08", "suburban-west": "2026-06-08",
                                    "harbor-point": "2026-06-08", "lakeview-implant": "2026-06-09",
                                    "riverside-ortho": "2026-06-09"}
    assert [c["overrides"] for c in live["changes"]][2] == [o["override_id"] for o in out["overridden"]]


def test_a_full_day_fails_naming_the_next_free_slot(store: Any, acme: Organization) -> None:
    walk_to_parallel_run(store, acme, W2, 2)
    verdict(store, "1", "go")
    for loc in W2:
        repository.record_validation(store, location=loc, passed=True, evidence=None, run_id="v")
    K["program.transition"](ctx(store, acme), {"locations": W2[:3], "to": "live", "wave": 2, "on": "2026-06-10"})
    with pytest.raises(SlotFull, match=r"no go-live slot on 2026-06-10 .*already has 3.*next free slot 2026-06-12"):
        K["program.transition"](ctx(store, acme), {"locations": W2[3:], "to": "live", "on": "2026-06-10",
                                                   "when_full": "fail", "holidays": ["2026-06-11"]})
    with pytest.raises(SlotFull, match=r"next free slot 2026-06-11"):
        K["program.transition"](ctx(store, acme), {"locations": W2[3:], "to": "live", "on": "2026-06-10",
                                                   "when_full": "fail"})
    # the organization file's holidays count as well, with nothing passed to the step
    closed = dataclasses.replace(acme, holidays=(Holiday(date(2026, 6, 11), "closed"),))
    with pytest.raises(SlotFull, match=r"next free slot 2026-06-12"):
        K["program.transition"](ctx(store, closed), {"locations": W2[3:], "to": "live", "on": "2026-06-10",
                                                     "when_full": "fail"})


def test_pilot_needs_baselines_and_wave_size(store: Any, acme: Organization, tmp_path: Path) -> None:
    pilot = ["lakeview-implant", "riverside-ortho", "harbor-point", "suburban-west"]
    check = K["program.check"](ctx(store, acme), {"locations": pilot, "to": ["scheduled", "configuring"], "wave": 1})
    guards = sorted({b["guard"] for b in check["blocked"]})
    assert guards == ["baselines", "wave-size"]
    assert "4 location(s) planned: split the wave, or approve its size" in str(check["blocked"])
    assert sum(b["guard"] == "baselines" for b in check["blocked"]) == 4
    with pytest.raises(GuardBlocked, match="wave-size"):
        K["program.transition"](ctx(store, acme), {"locations": pilot, "to": "scheduled", "wave": 1})
    ok = Approval("approve", "Dana Whitfield", "CEO", "fourth site shares the pilot region's trainer")
    K["program.override"](ctx(store, acme, decision=ok), {"blocked": check["blocked"], "approvers": ["CEO"]})
    K["program.transition"](ctx(store, acme), {"locations": pilot, "to": "scheduled", "wave": 1})
    K["program.transition"](ctx(store, acme), {"locations": pilot, "to": "configuring"})
    checks = {r["invariant"]: r for r in K["program.invariants"](ctx(store, acme), {})["results"]}
    assert checks["baselines-before-pilot"]["checked"] == 4 and checks["baselines-before-pilot"]["broken"] == 0
    # The same pilot entering configuration by a write around the guard: the invariant names it.
    repository.apply(store, [repository.Change("downtown-metro", State.SCHEDULED, 1, date(2026, 6, 1)),
                             repository.Change("downtown-metro", State.CONFIGURING, 1, date(2026, 6, 1))],
                     run_id="run-1", step_key="sql")
    bad = K["program.invariants"](ctx(store, acme), {"fail_on_broken": False})["results"]
    assert [r["details"] for r in bad if r["invariant"] == "baselines-before-pilot"] == [
        ["downtown-metro entered the pilot on 2026-06-01 with 14 baseline metric(s) missing and no override"]]
    board = K["program.board"](ctx(store, acme, out=tmp_path), {})
    text = Path(board["file"]).read_text(encoding="utf-8")
    assert "overridden by Dana Whitfield (CEO)" in text and "fourth site shares" in text
    assert board["waves"] == [{"wave": 1, "locations": 5, "live": 0, "progress_pct": 0.0, "last_gate": None,
                               "rag": "amber"}]


def test_deferred_needs_a_reason_and_keeps_its_remediation(store: Any, acme: Organization, tmp_path: Path) -> None:
    plan = [{"factor": "network", "action": "bandwidth upgrade to 100 Mbps", "owner": "VP of IT", "due": "2026-06-01"}]
    K["program.transition"](ctx(store, acme), {"locations": ["downtown-metro"], "to": "deferred",
                                               "reason": "tier 4", "remediation": plan})
    board = K["program.board"](ctx(store, acme, out=tmp_path), {})
    row = next(r for r in (Path(board["file"]).read_text().splitlines()) if r.startswith("| downtown-metro"))
    assert "bandwidth upgrade to 100 Mbps (due 2026-06-01)" in row and "(due 2026-06-01, VP of IT)" in row
    K["program.transition"](ctx(store, acme), {"locations": ["downtown-metro"], "to": "scheduled", "wave": 3})
    assert repository.locations(store)["downtown-metro"].state.value == "scheduled"


def test_board_artifact_is_published(store: Any, acme: Organization, tmp_path: Path) -> None:
    sink = NullArtifacts()
    c = ctx(store, acme, out=tmp_path)
    c.artifacts = sink
    K["program.board"](c, {})
    assert sink.published[0][0:2] == ("markdown", "program-board")


def test_the_plan_is_recorded_once_and_an_oversized_wave_blocks(store: Any, acme: Organization) -> None:
    waves = {"1": W2[:3], "2": [f"x{i}" for i in range(9)]}
    with pytest.raises(GuardBlocked, match=r"wave-size \(wave 2\): 9 location\(s\)"):
        K["program.plan"](ctx(store, acme), {"waves": waves, "start": "2027-01-04"})
    assert repository.locations(store) == {}  # nothing half-written
    waves = {"1": W2[:3], "2": W2[3:]}
    deferred = [{"id": "old-town", "tier": 5, "fix": ["IT Infrastructure Maturity 1/5 (internet unreliable)",
                                                     "Local Champion Availability 1/5 (none)"]},
                {"id": "bayview", "tier": None, "fix": ["collect data: Staff Tenure"]}]
    out = K["program.plan"](ctx(store, acme), {"waves": waves, "deferred": deferred, "start": "2027-01-04"})
    assert out["scheduled"] == {"1": W2[:3], "2": W2[3:]} and len(out["assessed"]) == len(acme.locations)
    plan = {d["location"]: d["remediation"] for d in out["deferred"]}
    assert [(i["factor"], i["owner"], i["due"]) for i in plan["old-town"]] == [
        ("IT Infrastructure Maturity", "VP of IT", "2027-03-01"), ("Local Champion Availability", "Regional Manager", "2027-03-01")]
    assert plan["bayview"][0]["factor"] == "data"
    where = repository.locations(store)
    assert where["rural-clinic"].state.value == "assessed" and where["old-town"].reason == "tier 5"
    assert out["duration"] is None  # no calendar given
    again = K["program.plan"](ctx(store, acme), {"waves": waves, "start": "2027-01-04", "weeks": 22})
    assert again["assessed"] == []  # a re-run moves nothing the program already tracks
    assert again["duration"] == {"weeks": 22, "locations": 25, "playbook": "16–20", "within": False}


def test_invariants_find_what_bypassed_the_guards(store: Any, acme: Organization) -> None:
    # A clean history written through the kinds: nothing broken.
    walk_to_parallel_run(store, acme, W2[:3], 2)
    verdict(store, "1", "go")
    for loc in W2[:3]:
        repository.record_validation(store, location=loc, passed=True, evidence=None, run_id="v")
    K["program.transition"](ctx(store, acme), {"locations": W2[:3], "to": "live", "wave": 2, "on": "2026-06-10"})
    clean = K["program.invariants"](ctx(store, acme), {})
    assert clean["broken"] == 0 and clean["checked"] >= 15
    # Writes that went around the guards (straight into the tables): each invariant names them.
    day = date(2026, 6, 10)
    repository.apply(store, [repository.Change(W2[3], State.LIVE, 3, day),          # untracked -> live, unvalidated
                             repository.Change(W2[0], State.LIVE, 2, day)],         # live twice, 5th that day
                     run_id="run-1", step_key="sql")
    out = K["program.invariants"](ctx(store, acme), {"fail_on_broken": False})
    broken = {r["invariant"]: r["details"] for r in out["results"] if r["broken"]}
    assert set(broken) == {"lifecycle", "go-live-needs-go", "go-live-validated", "slots", "one-go-live"}
    assert broken["go-live-needs-go"] == ["lakeview-implant live on 2026-06-10 in wave 3 without a stored GO for wave 2"]
    assert "lakeview-implant: illegal transition not in the program -> live" in broken["lifecycle"][0]
    assert broken["slots"] == ["2026-06-10: 4 go-lives (at most 3)", "2026-06-10: 5 go-lives (at most 3)"]
    with pytest.raises(InvariantBroken, match=r"one-go-live \(1 of 5\): downtown-metro went live again"):
        K["program.invariants"](ctx(store, acme), {})


def test_the_rehearsal_invariants_find_a_wide_rollback_a_silent_deadline_and_a_double_effect(
        store: Any, acme: Organization) -> None:
    from golive.tasks.program import invariants

    walk_to_parallel_run(store, acme, W2[:2], 2)
    day = date(2026, 6, 10)
    remediation = [{"factor": "PMS version", "action": "upgrade Open Dental", "owner": "VP of IT", "due": "2026-06-01"}]
    repository.apply(store, [repository.Change("old-town", State.DEFERRED, None, date(2026, 5, 4), "tier 5",
                                               remediation)], run_id="run-1", step_key="plan")
    clean = {r.name: r for r in invariants.check(store, today=date(2026, 6, 5))}  # due, not a week past it
    assert all(not r.broken for r in clean.values())
    assert clean["deadlines-met-or-escalated"].checked == 1 and clean["rollback-scoped"].checked == 0
    # A "rollback" run that also moved another location; an overdue escalated to nobody; a step
    # recorded twice for one step; the remediation a week past due with no reminder.
    store.start_run(run_id="rb", run_key="rb", runbook="rollback", parameters={})
    repository.apply(store, [repository.Change(W2[0], State.PAUSED, 2, day),
                             repository.Change(W2[1], State.PAUSED, 2, day)], run_id="rb0", step_key="x")
    repository.apply(store, [repository.Change(W2[0], State.ROLLED_BACK, 2, day),
                             repository.Change(W2[1], State.DEFERRED, None, day, "swept along")],
                     run_id="rb", step_key="lifecycle")
    store.finish_run("rb", "completed")
    store.audit.append("deadline.overdue", {"step": "check-2h", "to": []}, run_id="rb")
    for _ in range(2):
        store.record_approval(run_id="rb", step_key="approve", decision="approve", name="Carmen Ortiz", role="COO",
                              comment="")
    broken = {r.name: r.broken for r in invariants.check(store, today=date(2026, 6, 9)) if r.broken}
    assert set(broken) == {"rollback-scoped", "deadlines-met-or-escalated", "no-effect-twice"}
    assert broken["rollback-scoped"] == [f"run rb rolled back {W2[0]} and also changed {W2[1]}"]
    assert broken["deadlines-met-or-escalated"] == [
        "run rb: an overdue deadline escalated to nobody",
        "old-town: remediation 'upgrade Open Dental' due 2026-06-01 neither met nor escalated"]
    assert broken["no-effect-twice"] == ["approval recorded 2 times: rb / approve"]


def test_board_next_item_is_the_earliest_due_step_started_or_not(store: Any, acme: Organization,
                                                                 tmp_path: Path) -> None:
    # A wave run recorded its steps' due days at start (its wave's own calendar) and waits on its
    # first checklist: the board shows that step next, and a later step already past due as overdue
    # though it has not started.
    walk_to_parallel_run(store, acme, W2[:1], 2)
    store.start_run(run_id="w2", run_key="wave2", runbook="wave-go-live", parameters={"wave": 2, "locations": W2[:1]},
                    audit=("run.start", {"runbook": "wave-go-live", "run_key": "wave2", "dues": [
                        {"step": "support-plan", "owner": "VP of IT", "due": "2026-06-01"},
                        {"step": "config-checklist", "owner": "VP of IT", "due": "2026-05-20"},
                        {"step": "champion-training", "owner": "CDO", "due": "2026-06-12"}]}))
    store.record_step(run_id="w2", run_key="wave2", step_key="config-checklist", step_id="config-checklist",
                      state="completed", input_hash="h", outputs={})
    board = K["program.board"](ctx(store, acme, out=tmp_path), {})  # today: Sunday 7 June 2026 (Denver)
    row = next(r for r in Path(board["file"]).read_text().splitlines() if r.startswith("| downtown-metro"))
    assert "| support-plan in wave-go-live (due 2026-06-01) | VP of IT |" in row, row
    assert "support-plan in wave-go-live (due 2026-06-01, VP of IT, not started)" in row, row
    assert "config-checklist" not in row and "champion-training" not in row  # done; not yet due
    assert board["reminders"] == []  # step reminders come from deadline-reminders, not the weekly board
    assert board["waves"][0]["rag"] == "amber"

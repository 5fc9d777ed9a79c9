"""The planning step kinds called as plain functions with a StepContext (no Prefect)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from golive.tasks.context import NullArtifacts, StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.foundation.schema_check import load_schema
from golive.tasks.planning import kinds
from golive.tasks.planning.organization import Organization
from golive.tasks.planning.readiness import score_organization
from golive.tasks.registry import STEP_KINDS


def ctx(org: Any, tmp_path: Path, step: str = "s") -> StepContext:
    return StepContext(run_id="r1", run_key="rk", runbook="readiness-assessment", step_id=step, step_key=step,
                       org=org, out_dir=tmp_path, artifacts=NullArtifacts())


def test_kinds_are_registered_with_schemas() -> None:
    for kind in kinds.KINDS:
        assert STEP_KINDS[kind.name].implementation() is kind
        Draft202012Validator.check_schema(load_schema(f"steps/{kind.name}.schema.json"))


def test_readiness_kind(acme: Organization, tmp_path: Path) -> None:
    c = ctx(acme, tmp_path)
    out = kinds.run_readiness(c, {})
    json.dumps(out)
    # the kind tallies the scorer's tiers (the scorer itself is checked against the playbook's matrix)
    tally = Counter("unscored" if s.tier is None else str(int(s.tier)) for s in score_organization(acme))
    assert out["tiers"] == dict(tally) and sum(tally.values()) == len(acme.locations) == 25
    assert out["unscored"] == ["bayview"]
    assert out["details"]["rural-clinic"]["it"]["score"] == 2
    (kind, key, rows) = c.artifacts.published[0]  # type: ignore[attr-defined]
    assert (kind, key, len(rows)) == ("table", "readiness-matrix", 25)


def test_waves_kind(acme: Organization, tmp_path: Path) -> None:
    out = kinds.run_waves(ctx(acme, tmp_path), {"pilot": {"max_size": 2}})
    json.dumps(out)
    assert len(out["pilot"]) == 2 and out["all_rules_met"]
    assert out["waves"]["1"] == out["pilot"]
    assert {d["id"] for d in out["deferred"]} == {"meadowbrook", "valley-view", "old-town", "bayview"}


def test_calendar_kind_writes_an_ics(acme: Organization, tmp_path: Path) -> None:
    waves = kinds.run_waves(ctx(acme, tmp_path), {})["waves"]
    c = ctx(acme, tmp_path)
    out = kinds.run_calendar(c, {"start": "2027-01-04", "holidays": ["2027-01-18"], "waves": waves,
                                 "rules": {"support_capacity": 6}, "standup_time": "08:30"})
    json.dumps(out)
    ics = Path(out["ics"])
    assert ics == tmp_path / "rk" / "rollout-calendar.ics" and ics.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert b"T083000" in ics.read_bytes()
    assert out["baseline_deadline"] == "2027-01-08"
    assert [g["id"] for g in out["go_lives"] if g["wave"] == 1] == waves["1"]
    published = {(k, key) for k, key, _ in c.artifacts.published}  # type: ignore[attr-defined]
    assert published == {("table", "go-live-calendar"), ("link", "rollout-calendar")}


def test_calendar_kind_rejects_bad_input(acme: Organization, tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="start: not a date"):
        kinds.run_calendar(ctx(acme, tmp_path), {"start": "next monday"})
    with pytest.raises(StepFailed, match="unknown location"):
        kinds.run_calendar(ctx(acme, tmp_path), {"start": "2027-01-04", "waves": {"1": ["atlantis"]}})
    with pytest.raises(StepFailed, match="max_per_day must be 1-3"):
        kinds.run_calendar(ctx(acme, tmp_path), {"start": "2027-01-04", "rules": {"max_per_day": 5}})


def test_tech_check_kind(acme: Organization, tmp_path: Path) -> None:
    out = kinds.run_tech_check(ctx(acme, tmp_path), {})
    assert "old-town" in out["failed"] and "downtown-metro" in out["passed"]
    with pytest.raises(StepFailed, match="fail technical checks"):
        kinds.run_tech_check(ctx(acme, tmp_path), {"fail_on_failures": True})
    only = kinds.run_tech_check(ctx(acme, tmp_path), {"locations": ["downtown-metro"], "fail_on_failures": True})
    assert only["passed"] == ["downtown-metro"]


def test_kinds_need_the_organization(acme: Organization, tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="needs the organization file"):
        kinds.run_readiness(ctx(None, tmp_path), {})
    with pytest.raises(StepFailed, match="unknown location 'nowhere'"):
        kinds.run_readiness(ctx(acme, tmp_path), {"locations": ["nowhere"]})


def test_wave_rows_carry_technical_prerequisites(acme: Organization, tmp_path: Path) -> None:
    rows = {r["id"]: r for r in kinds.run_waves(ctx(acme, tmp_path), {})["rows"]}
    assert rows["northside-family"]["notes"] == "prerequisite: bandwidth: 45 Mbps (upgrade before rollout)"
    assert rows["lakeview-implant"]["notes"] == ""


def test_calendar_kind_keeps_go_lives_off_the_organizations_holidays(acme: Organization, tmp_path: Path) -> None:
    import dataclasses
    from datetime import date

    from golive.tasks.planning.organization import Holiday

    waves = kinds.run_waves(ctx(acme, tmp_path), {})["waves"]
    plain = kinds.run_calendar(ctx(acme, tmp_path), {"start": "2027-01-04", "waves": waves})
    days = sorted({g["date"] for g in plain["go_lives"]})
    # declare two go-live days of the plain plan holidays in the organization file alone
    off = (days[0], days[len(days) // 2])
    org = dataclasses.replace(acme, holidays=tuple(Holiday(date.fromisoformat(d), "closed") for d in off))
    out = kinds.run_calendar(ctx(org, tmp_path), {"start": "2027-01-04", "waves": waves})
    assert not set(off) & {g["date"] for g in out["go_lives"]}
    assert {f"{d} is a holiday: no go-lives or check-ins" for d in off} <= set(out["notes"])
    assert not set(off) & {c["date"] for c in out["check_ins"]}

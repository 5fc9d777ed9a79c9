"""Runbook validation end to end: golden error output, the built model, paths, run parameters.

Golden files: `tests/fixtures/invalid/NN-name.yaml` and the exact `golive validate` lines in
`NN-name.err` (paths relative to `tests/fixtures`). After an intended change of wording, rewrite
them with `GOLIVE_UPDATE_GOLDEN=1 pytest tests/unit/flows/test_validate.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from golive.flows.engine.model import Due, OnFailure, Position
from golive.flows.engine.validate import check_parameters, validate_file, validate_paths, validate_text
from golive.tasks.foundation.errors import ParameterError, RunbookInvalid
from tests.unit.flows.loader_kinds import FIXTURES, TEST_KINDS, kind_schema_for

INVALID = FIXTURES / "invalid"
CASES = sorted(p.name for p in INVALID.glob("*.yaml"))
UPDATE = os.environ.get("GOLIVE_UPDATE_GOLDEN") == "1"

VALID = """\
apiVersion: golive/v1
kind: Runbook
metadata:
  name: wave-go-live
  title: Wave go-live
  phase: go-live
  owner: VP of IT
parameters:
  wave: {type: integer, minimum: 1, default: 1}
  sites: {type: array, items: {type: string}, description: Location ids}
  dry_run: {type: boolean, default: true}
steps:
  - id: scan
    uses: expect
    with: {that: "params.sites | length > 0", message: "no sites for wave {{ params.wave }}"}
    timeout: 2m
    retries: 2
    retry_delay: 30s
    due: week 1 day 3
    owner: IT lead
  - id: per-site
    title: Notify each site
    uses: notify
    needs: [scan]
    for_each: params.sites
    when: "not params.dry_run and item != 'closed'"
    with: {to: [Practice Manager], message: "{{ item }} goes live in wave {{ params.wave }}"}
    on_failure: rollback
    undo: {uses: notify, with: {to: [CDO], message: "rolled back {{ item }}"}}
  - id: checks
    uses: checklist
    needs: [per-site]
    timeout: 90
    due: day 10
    with:
      items:
        - {id: backups, text: "Backups verified for {{ org.name }}", check: "steps.scan.outputs.ok"}
        - {id: training, text: Staff trained, owner: Trainer}
on_failure:
  - id: tell-cdo
    uses: notify
    with: {to: [CDO], message: "run {{ run.id }} failed at {{ steps.checks.outputs }}"}
"""


def _validate(path: Path | str) -> Any:
    return validate_file(path, kinds=TEST_KINDS, kind_schema=kind_schema_for)


def _output(name: str) -> str:
    try:
        _validate(Path("invalid") / name)
    except RunbookInvalid as exc:
        return "\n".join(i.format() for i in exc.issues) + "\n"
    return "(valid)\n"


def test_there_are_enough_golden_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_golden_error_output(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    got = _output(name)
    golden = INVALID / name.replace(".yaml", ".err")
    if UPDATE:
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with GOLIVE_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")
    assert got != "(valid)\n"
    for line in got.splitlines():
        assert line.startswith(f"invalid/{name}:") or line.startswith("    hint: "), line


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.name.replace(".err", ".yaml") for p in INVALID.glob("*.err")) == CASES


def test_valid_runbook_builds_the_model(tmp_path: Path) -> None:
    path = tmp_path / "wave.yaml"
    path.write_text(VALID, encoding="utf-8")
    rb = _validate(path)
    assert rb.name == "wave-go-live" and rb.metadata.owner == "VP of IT" and rb.source == path
    assert list(rb.parameters) == ["wave", "sites", "dry_run"]
    assert rb.parameters["wave"] == {"type": "integer", "minimum": 1, "default": 1}
    assert type(rb.parameters["wave"]) is dict
    scan, per_site, checks = rb.steps
    assert scan.timeout_s == 120.0 and scan.retries == 2 and scan.retry_delay_s == 30.0
    assert scan.due == Due("week 1 day 3", 2) and scan.owner == "IT lead"
    assert scan.position == Position(13, 5)
    assert per_site.needs == ("scan",) and per_site.for_each == "params.sites"
    assert per_site.on_failure is OnFailure.ROLLBACK and per_site.title == "Notify each site"
    assert per_site.undo is not None and per_site.undo.uses == "notify"
    assert per_site.undo.with_ == {"to": ["CDO"], "message": "rolled back {{ item }}"}
    assert checks.timeout_s == 90.0 and checks.due == Due("day 10", 9) and checks.retry_delay_s == 0.0
    assert checks.body.with_["items"][1] == {"id": "training", "text": "Staff trained", "owner": "Trainer"}
    assert checks.on_failure is OnFailure.HALT and checks.undo is None and checks.when is None
    assert [s.id for s in rb.on_failure] == ["tell-cdo"]
    assert rb.step("tell-cdo").uses == "notify"


def test_validate_text_reports_the_given_name() -> None:
    with pytest.raises(RunbookInvalid) as err:
        validate_text(
            VALID.replace("uses: expect", "uses: expectt"),
            "x.yaml",
            kinds=TEST_KINDS,
            kind_schema=kind_schema_for,
        )
    assert [i.format() for i in err.value.issues] == [
        "x.yaml:14:11: error: steps[0].uses: unknown step kind 'expectt'\n    hint: did you mean 'expect'?"
    ]


def test_issues_are_sorted_by_line() -> None:
    with pytest.raises(RunbookInvalid) as err:
        _validate(INVALID / "34-bad-with-for-kind.yaml")
    lines = [(i.line, i.column) for i in err.value.issues]
    assert lines == sorted(lines) and len(lines) >= 4


def test_validate_paths_expands_directories_and_collects_issues(tmp_path: Path) -> None:
    good = tmp_path / "runbooks"
    (good / "nested").mkdir(parents=True)
    (good / "a.yaml").write_text(VALID, encoding="utf-8")
    (good / "nested" / "b.yml").write_text(VALID.replace("wave-go-live", "other"), encoding="utf-8")
    (good / "notes.txt").write_text("not a runbook", encoding="utf-8")
    (good / "same-name.yaml").write_text(VALID, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: golive/v1\n", encoding="utf-8")
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    runbooks, issues = validate_paths(
        [good, bad, tmp_path / "missing.yaml", empty, good / "a.yaml"],
        kinds=TEST_KINDS,
        kind_schema=kind_schema_for,
    )
    assert [r.name for r in runbooks] == ["wave-go-live", "other"]
    text = [i.format() for i in issues]
    assert (
        f"{good / 'same-name.yaml'}:4:9: error: metadata.name: runbook name 'wave-go-live' is already used"
        in (t.split("\n")[0] for t in text)
    )
    assert f"{bad}:1:1: error: missing required key 'kind'" in text
    assert f"{tmp_path / 'missing.yaml'}:1:1: error: no such file or directory" in text
    assert f"{empty}:1:1: error: no runbooks (*.yaml, *.yml) in this directory" in text


def test_validate_paths_all_valid(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    runbooks, issues = validate_paths([tmp_path], kinds=TEST_KINDS, kind_schema=kind_schema_for)
    assert issues == [] and len(runbooks) == 1


def test_real_registry_is_the_default(tmp_path: Path) -> None:
    """Without injected kinds, the registry and schemas/steps/ are used."""
    path = tmp_path / "wave.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert validate_file(path).name == "wave-go-live"
    path.write_text(VALID.replace("uses: checklist", "uses: no-such-kind"), encoding="utf-8")
    with pytest.raises(RunbookInvalid, match="unknown step kind 'no-such-kind'"):
        validate_file(path)


def test_shipped_runbooks_validate() -> None:
    from golive.tasks.foundation.paths import RUNBOOKS

    files = sorted(RUNBOOKS.glob("*.y*ml"))
    if not files:
        pytest.skip("no runbooks shipped yet")
    runbooks, issues = validate_paths(files)
    assert [i.format() for i in issues] == []
    assert len(runbooks) == len(files)


# -- run parameters --------------------------------------------------------------------------


@pytest.fixture
def runbook(tmp_path: Path) -> Any:
    path = tmp_path / "wave.yaml"
    path.write_text(VALID, encoding="utf-8")
    return _validate(path)


def test_check_parameters_merges_defaults(runbook: Any) -> None:
    assert check_parameters(runbook, {"sites": ["north"]}) == {"wave": 1, "sites": ["north"], "dry_run": True}
    assert check_parameters(runbook, {"sites": [], "wave": 3, "dry_run": False}) == {
        "wave": 3,
        "sites": [],
        "dry_run": False,
    }


def test_check_parameters_missing_required(runbook: Any) -> None:
    with pytest.raises(ParameterError, match="missing required parameter 'sites'"):
        check_parameters(runbook, {})


def test_check_parameters_unknown(runbook: Any) -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'wav' \(declared: wave, sites, dry_run\)"):
        check_parameters(runbook, {"sites": [], "wav": 2})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"sites": [], "wave": "2"}, "parameter 'wave': expected an integer, got a string"),
        ({"sites": [], "wave": 0}, "parameter 'wave': 0 is less than the minimum of 1"),
        ({"sites": [], "wave": True}, "parameter 'wave': expected an integer, got a boolean"),
        ({"sites": ["a", 3]}, "parameter 'sites': [1]: expected a string, got an integer"),
        ({"sites": "north"}, "parameter 'sites': expected a list, got a string"),
    ],
)
def test_check_parameters_bad_values(runbook: Any, given: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as err:
        check_parameters(runbook, given)
    assert str(err.value) == message


def test_check_parameters_reports_every_problem(runbook: Any) -> None:
    with pytest.raises(ParameterError) as err:
        check_parameters(runbook, {"wave": "x", "extra": 1})
    assert str(err.value) == (
        "unknown parameter 'extra' (declared: wave, sites, dry_run); "
        "parameter 'wave': expected an integer, got a string; missing required parameter 'sites'"
    )


def test_a_wave_due_calendar_needs_a_wave_parameter() -> None:
    text = VALID.replace("  owner: VP of IT\n", "  owner: VP of IT\n  due_calendar: wave\n", 1)
    book = validate_text(text, "x.yaml", kinds=TEST_KINDS, kind_schema=kind_schema_for)
    assert book.metadata.due_calendar == "wave"
    with pytest.raises(RunbookInvalid) as err:
        validate_text(text.replace("  wave: {type: integer, minimum: 1, default: 1}\n", ""), "x.yaml",
                      kinds=TEST_KINDS, kind_schema=kind_schema_for)
    assert [i.format().split("\n")[0] for i in err.value.issues][0] == (
        "x.yaml:8:17: error: metadata.due_calendar: 'wave' counts due dates from a wave's plan, but the runbook "
        "has no 'wave' parameter")

"""Runbooks run end to end through Prefect: fan-out, when, retries, timeouts, rollback, approvals, resume."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from golive.tasks.foundation.errors import StepFailed
from golive.tasks.kind import StepKind
from golive.tasks.registry import STEP_KINDS, KindSpec
from tests.e2e.conftest import steps_by_key

pytestmark = pytest.mark.e2e


def write(tmp_path: Path, body: str, name: str = "book") -> Path:
    path = tmp_path / f"{name}.yaml"
    header = f"apiVersion: golive/v1\nkind: Runbook\nmetadata: {{name: {name}}}\n"
    path.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return path


class Counter:
    """Shared state for test kinds (tasks run in worker threads of this process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[str] = []

    def hit(self, key: str) -> int:
        with self.lock:
            self.calls.append(key)
            return self.calls.count(key)


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Counter:
    c = Counter()

    def flaky(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        attempt = c.hit(ctx.step_key)
        if attempt <= params.get("fail_times", 0):
            raise StepFailed(f"attempt {attempt} fails")
        return {"attempts": attempt}

    def sleep(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        c.hit(ctx.step_key)
        threading.Event().wait(params["seconds"])
        return {"slept": params["seconds"]}

    def record(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        c.hit(f"{ctx.step_key}:{params.get('tag', '')}")
        return {"tag": params.get("tag", ""), "item": ctx.item}

    for name, fn, effects in (("test.flaky", flaky, False), ("test.sleep", sleep, False),
                              ("test.record", record, True)):
        monkeypatch.setitem(STEP_KINDS, name, KindSpec(name, module="", summary="test", side_effects=effects,  # type: ignore[index]
                                                       code=StepKind(name=name, run=fn)))
    return c


def test_fan_out_over_runtime_items_and_when(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    book = write(tmp_path, """
        parameters:
          skip_b: {type: boolean, default: true}
        steps:
          - id: discover
            uses: test.record
            with: {tag: discover}
          - id: per-site
            uses: test.record
            needs: [discover]
            for_each: "['a', 'b', 'c']"
            when: "not (params.skip_b and item == 'b')"
            with: {tag: "site-{{ item }}"}
          - id: after
            uses: expect
            needs: [per-site]
            with: {that: "steps['per-site'].outputs | length == 3"}
    """)
    result = run_book(book)
    steps = steps_by_key(result)
    assert result["state"] == "completed"
    assert steps["per-site[a]"]["state"] == "completed"
    assert steps["per-site[b]"]["state"] == "skipped"
    assert steps["per-site[c]"]["outputs"] == {"tag": "site-c", "item": "c"}
    assert "per-site[b]:site-b" not in counter.calls


def test_retries_then_success_and_timeout(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    book = write(tmp_path, """
        steps:
          - id: flaky
            uses: test.flaky
            retries: 2
            with: {fail_times: 2}
          - id: slow
            uses: test.sleep
            timeout: 1s
            on_failure: continue
            with: {seconds: 5}
    """)
    result = run_book(book)
    steps = steps_by_key(result)
    assert steps["flaky"]["state"] == "completed"
    assert steps["flaky"]["outputs"] == {"attempts": 3}
    assert steps["slow"]["state"] == "failed"
    assert "TimeoutError" in steps["slow"]["error"] or "timed out" in steps["slow"]["error"].lower()
    assert result["state"] == "failed"  # `continue` keeps going, but the failure still fails the run


def test_halt_stops_dependents_and_runs_on_failure(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    book = write(tmp_path, """
        steps:
          - id: boom
            uses: expect
            with: {that: "1 > 2", message: "one is not above two"}
          - id: never
            uses: test.record
            needs: [boom]
        on_failure:
          - id: cleanup
            uses: test.record
            with: {tag: "after {{ steps.boom.state }}"}
    """)
    result = run_book(book)
    steps = steps_by_key(result)
    assert result["state"] == "failed"
    assert steps["boom"]["error"] == "one is not above two"
    assert steps["never"]["state"] == "skipped"
    assert steps["cleanup"]["outputs"]["tag"] == "after failed"


def test_rollback_runs_undo_in_reverse_completion_order(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    book = write(tmp_path, """
        steps:
          - id: one
            uses: test.record
            with: {tag: do-one}
            undo: {uses: test.record, with: {tag: undo-one}}
          - id: two
            uses: test.record
            needs: [one]
            with: {tag: do-two}
            undo: {uses: test.record, with: {tag: "undo-two-{{ steps.two.outputs.tag }}"}}
          - id: three
            uses: expect
            needs: [two]
            on_failure: rollback
            with: {that: "false", message: broken}
          - id: four
            uses: test.record
            needs: [three]
    """)
    result = run_book(book)
    steps = steps_by_key(result)
    assert result["state"] == "rolled_back"
    assert [steps[k]["state"] for k in ("one", "two", "three", "four")] == ["rolled_back", "rolled_back", "failed", "skipped"]
    undo_calls = [c for c in counter.calls if ":undo" in c]
    assert undo_calls == ["undo-two:undo-two-do-two", "undo-one:undo-one"]


APPROVAL = """
    steps:
      - id: sign-off
        uses: approval
        with: {approvers: [CDO, VP of IT], question: Ready?}
      - id: after
        uses: test.record
        needs: [sign-off]
        with: {tag: "{{ steps['sign-off'].outputs.approver }}"}
"""


@pytest.mark.parametrize(
    ("decision", "state", "error_part"),
    [
        ({"name": "Dana", "role": "CDO"}, "completed", None),
        ({"name": "Dana", "role": "CDO", "decision": "reject", "comment": "not yet"}, "failed", "rejected"),
    ],
    ids=["approve", "reject"],
)
def test_approval(tmp_path: Path, run_book: Any, counter: Counter, decision: dict[str, str], state: str,
                  error_part: str | None) -> None:
    result = run_book(write(tmp_path, APPROVAL), decisions={"approvals": {"sign-off": decision}})
    steps = steps_by_key(result)
    assert result["state"] == state
    if error_part:
        assert error_part in steps["sign-off"]["error"]
        assert steps["after"]["state"] == "skipped"
    else:
        assert steps["after"]["outputs"]["tag"] == "Dana"


def test_wrong_role_is_refused_before_any_step(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    result = run_book(write(tmp_path, APPROVAL), decisions={"approvals": {"sign-off": {"name": "Casey", "role": "CFO"}}})
    assert result["state"] == "failed" and result["steps"] == []
    assert result["error"] == ("refused before the first step: --approve sign-off: role 'CFO' may not decide "
                               "sign-off; approvers: CDO, VP of IT")
    assert counter.calls == []  # nothing ran


def test_missing_approval_fails_with_instructions(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    result = run_book(write(tmp_path, APPROVAL))
    assert result["state"] == "failed"
    assert "needs an approval from one of: CDO, VP of IT" in steps_by_key(result)["sign-off"]["error"]


def test_resume_reuses_completed_steps_and_never_repeats_side_effects(tmp_path: Path, run_book: Any,
                                                                       counter: Counter) -> None:
    book = write(tmp_path, """
        parameters:
          ok: {type: boolean, default: false}
          label: {type: string, default: first}
        steps:
          - id: effect
            uses: test.record
            with: {tag: "{{ params.label }}"}
          - id: pure
            uses: test.flaky
            needs: [effect]
            with: {fail_times: 0}
          - id: gate
            uses: expect
            needs: [pure]
            with: {that: "params.ok"}
    """)
    first = run_book(book, {"ok": False}, run_key="rk-1")
    assert first["state"] == "failed"
    second = run_book(book, {"ok": True}, run_key="rk-1")
    steps = steps_by_key(second)
    assert second["state"] == "completed"
    assert steps["effect"]["state"] == "cached" and steps["pure"]["state"] == "cached"
    assert steps["gate"]["state"] == "completed"
    # Changed inputs: the side-effecting step still is not repeated; the pure step's own inputs did
    # not change (it does not read `label`), so it stays cached.
    third = run_book(book, {"ok": True, "label": "second"}, run_key="rk-1")
    assert steps_by_key(third)["effect"]["state"] == "cached"
    assert steps_by_key(third)["pure"]["state"] == "cached"
    assert counter.calls.count("effect:first") == 1 and counter.calls.count("effect:second") == 0


def test_checklist_manual_items_need_confirmation(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    book = write(tmp_path, """
        steps:
          - id: list
            uses: checklist
            with:
              items:
                - {id: auto, text: Two locations, check: "org.locations | length == 2"}
                - {id: manual, text: Signed, owner: Legal, due: week 1 day 3}
    """)
    unconfirmed = run_book(book, run_key="c1")
    assert "manual" in steps_by_key(unconfirmed)["list"]["error"]
    confirmed = run_book(book, run_key="c2", decisions={"confirmations": {"list": "all"}})
    items = {i["id"]: i for i in steps_by_key(confirmed)["list"]["outputs"]["items"]}
    assert items["auto"]["state"] == "passed" and items["manual"]["state"] == "confirmed"
    assert items["manual"]["due_date"] is not None


def test_audit_log_records_the_run_and_verifies(tmp_path: Path, run_book: Any, counter: Counter) -> None:
    from golive.tasks.store import Store

    run_book(write(tmp_path, APPROVAL), decisions={"approvals": {"sign-off": {"name": "Dana", "role": "CDO"}}})
    store = Store.open()
    try:
        verification = store.audit.verify()
        assert verification.ok and verification.count >= 6
    finally:
        store.dispose()

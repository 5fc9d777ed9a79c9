"""What a rollout lead does in the Prefect UI, as Playwright steps (tests/e2e/test_ui_browser.py).

Prefect's selects open from the keyboard (focus, ArrowDown) in headless Chromium; a click on the
select button does not open them there, so `choose` uses the keyboard, as a person may.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.ui_stack import Stack


def shot(page: Any, out: Path, name: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def prop(page: Any, scope: Any, label: str) -> Any:
    """One field of a Prefect schema form, by its label (without the "(Optional)" suffix)."""
    title = page.locator(".schema-form-property__label", has_text=re.compile(rf"^{re.escape(label)}( \(Optional\))?$"))
    return scope.locator(".schema-form-property").filter(has=title).first


def choose(page: Any, field: Any, option: str) -> None:
    field.locator(".p-select-button__control").first.focus()
    page.keyboard.press("ArrowDown")
    page.locator(".p-select-option", has_text=re.compile(rf"^{re.escape(option)}$")).first.click()
    page.keyboard.press("Escape")


def api(stack: Stack, method: str, path: str, body: Any = None) -> Any:
    """One API call; a 503 (Prefect's answer to SQLite's SQLITE_BUSY under concurrent writes) is
    retried, as Prefect's own client does."""
    for attempt in range(5):
        response = httpx.request(method, f"{stack.api_url}{path}", json=body, timeout=30)
        if response.status_code != 503:
            break
        time.sleep(0.5 * (attempt + 1))
    response.raise_for_status()
    return response.json() if response.content else None


def flow_run(stack: Stack, run_id: str) -> dict[str, Any]:
    return dict(api(stack, "GET", f"/flow_runs/{run_id}"))


def run_logs(stack: Stack, run_id: str) -> str:
    """The flow run's logs (its task runs' included) as the UI lists them, one message a line."""
    rows: list[dict[str, Any]] = []
    while True:  # the API pages at 200
        page = api(stack, "POST", "/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}},
                                                   "sort": "TIMESTAMP_ASC", "offset": len(rows), "limit": 200})
        rows.extend(page)
        if len(page) < 200:
            return "\n".join(str(r["message"]) for r in rows)


def wait_state(stack: Stack, run_id: str, states: set[str], *, pause_key: str | None = None,
               timeout: float = 180) -> dict[str, Any]:
    """Poll the API until the run is in one of `states` (and, for PAUSED, at that pause key)."""
    end = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < end:
        run = flow_run(stack, run_id)
        state = run.get("state") or {}
        if state.get("type") in states:
            key = (state.get("state_details") or {}).get("pause_key")
            if pause_key is None or key == pause_key:
                return run
        if state.get("type") in {"FAILED", "CRASHED", "CANCELLED"} - states:
            raise AssertionError(f"run {run_id} ended {state.get('type')}: {state.get('message')}")
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} not in {states} (pause {pause_key}) after {timeout:.0f} s: {run.get('state')}")


def refused_by_form(page: Any, stack: Stack, deployment_id: str, params: dict[str, Any], *, out: Path,
                    name: str) -> str:
    """Submit the Run form with `params` as JSON input and expect no flow run; returns the page text."""
    page.goto(f"{stack.ui_url}/deployments/deployment/{deployment_id}/run")
    page.locator(".flow-run-create-form-v2__header button").click()
    page.get_by_text("Use JSON input").click()
    page.locator("textarea.p-code-input__textarea").fill(json.dumps(params))
    before = len(api(stack, "POST", "/flow_runs/filter", {}))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_timeout(5000)
    shot(page, out, name)
    assert len(api(stack, "POST", "/flow_runs/filter", {})) == before, "the form created a run with a bad value"
    return str(page.inner_text("body"))


def pick_date(page: Any, field: Any, day: date) -> None:
    """Choose `day` in a `format: date` field's date picker: open it, step to the month, click the day, Apply."""
    picker = page.locator(".p-date-picker").first
    for attempt in range(3):  # right after another field's dropdown, the first click only closes that one
        field.locator(".p-date-button__control").click()
        try:
            picker.wait_for(timeout=3000)
            break
        except Exception:
            if attempt == 2:
                raise
    for _ in range(240):  # months
        shown = datetime.strptime(f"{picker.locator('.p-date-picker__title-month').inner_text().strip()} "
                                  f"{picker.locator('.p-date-picker__title-year').inner_text().strip()}", "%B %Y").date()
        if (shown.year, shown.month) == (day.year, day.month):
            break
        side = "after" if shown < day.replace(day=1) else "before"
        picker.locator(f".p-calendar-header__{side} .p-calendar-header__arrow").click()
    picker.locator(".p-calendar-date-picker__date--in-month", has_text=re.compile(rf"^\s*{day.day}\s*$")).click()
    picker.get_by_role("button", name="Apply").click()
    picker.wait_for(state="detached")


def start_from_form(page: Any, stack: Stack, deployment_id: str, params: dict[str, Any], *, out: Path,
                    name: str, locations: list[str] | None = None, dates: dict[str, date] | None = None) -> str:
    """The deployment's Run form: locations from the multi-select, dates from the date picker, the
    rest (if any) as JSON input."""
    page.goto(f"{stack.ui_url}/deployments/deployment/{deployment_id}/run")
    if locations:
        field = prop(page, page, "locations")
        for location in locations:
            choose(page, field, location)
    for label, day in (dates or {}).items():
        pick_date(page, prop(page, page, label), day)
    shot(page, out, f"{name}-form")
    if params:
        page.locator(".flow-run-create-form-v2__header button").click()
        page.get_by_text("Use JSON input").click()
        editor = page.locator("textarea.p-code-input__textarea")
        current = json.loads(editor.input_value() or "{}")
        editor.fill(json.dumps({**current, **params}))
    before = {r["id"] for r in api(stack, "POST", "/flow_runs/filter", {})}
    failures: list[str] = []

    def note_failure(response: Any) -> None:
        if response.status >= 400:
            try:
                body = response.text()[:300]
            except Exception:  # the page navigated on; its body is gone
                body = ""
            failures.append(f"{response.request.method} {response.url} -> {response.status} {body}")

    page.on("response", note_failure)
    for attempt in range(2):  # the issue saw "Something went wrong" once, and a second submit work
        page.get_by_role("button", name="Submit").click()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            new = [r["id"] for r in api(stack, "POST", "/flow_runs/filter", {}) if r["id"] not in before]
            if new:
                page.remove_listener("response", note_failure)
                if attempt:
                    print(f"the run form needed a second submit; failed requests: {failures}")
                return str(new[0])
            time.sleep(0.3)
        shot(page, out, f"{name}-not-submitted-{attempt}")
    raise AssertionError(f"the run form did not create a flow run; failed requests: {failures}")


def image_loaded(image: Any) -> tuple[int, int]:
    """(naturalWidth, naturalHeight) of an <img> once the browser finished it; (0, 0) for a broken one."""
    image.wait_for()
    image.evaluate("img => img.complete || new Promise(done => { img.onload = img.onerror = done; })")
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    return int(size[0]), int(size[1])


def open_resume(page: Any, stack: Stack, run_id: str) -> Any:
    page.goto(f"{stack.ui_url}/runs/flow-run/{run_id}")
    page.get_by_role("button", name="Resume").click()
    dialog = page.get_by_role("dialog")
    dialog.locator(".schema-form-property").first.wait_for()
    return dialog


def submit_resume(page: Any, dialog: Any, out: Path, name: str) -> None:
    dialog.get_by_role("button", name="Submit").click()
    try:
        dialog.wait_for(state="detached", timeout=20000)
    except Exception:  # a busy machine: the click can land before the form is ready; say so, then retry once
        shot(page, out, f"{name}-submit-retry")
        dialog.get_by_role("button", name="Submit").click()
        dialog.wait_for(state="detached", timeout=30000)


def approve(page: Any, stack: Stack, run_id: str, *, name: str, role: str | None, out: Path, shot_name: str) -> str:
    """Resume an approval pause; `role=None` keeps the preselected single role. Returns the dialog text."""
    dialog = open_resume(page, stack, run_id)
    choose(page, prop(page, dialog, "Decision"), "approve")
    prop(page, dialog, "Name").locator("textarea, input").first.fill(name)
    if role is not None:
        choose(page, prop(page, dialog, "Role"), role)
    text = str(dialog.inner_text())
    shot(page, out, shot_name)
    submit_resume(page, dialog, out, shot_name)
    return text


def confirm(page: Any, stack: Stack, run_id: str, *, name: str, tick: list[str], out: Path, shot_name: str) -> str:
    """Resume a checklist pause, ticking the items whose id is in `tick`. Returns the dialog text."""
    dialog = open_resume(page, stack, run_id)
    prop(page, dialog, "Name").locator("textarea, input").first.fill(name)
    for item in tick:
        field = dialog.locator(".schema-form-property").filter(
            has=page.locator(".schema-form-property__label", has_text=re.compile(rf"^{re.escape(item)}:"))).first
        switch = field.locator("[role=switch]").first
        switch.click()
        if switch.get_attribute("aria-checked") != "true":
            raise AssertionError(f"the checkbox of {item} did not tick")
    text = str(dialog.inner_text())
    shot(page, out, shot_name)
    submit_resume(page, dialog, out, shot_name)
    return text

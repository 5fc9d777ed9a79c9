"""The Prefect UI as the rollout lead's console, driven in the system Chromium (issue 11).

The README's set-up as real processes (`golive server start`, `prefect deploy --all`, a process
worker; tests/e2e/ui_stack.py), then what a person does in the browser (tests/e2e/ui_pages.py):
locations from the form's multi-select, the start date from its date picker, the Resume dialogs,
the failed and refused runs' reasons, the report links and the readiness brief's chart. Screenshots
of each stage land in out/ui-browser/. All three run in `make test`: the module is one xdist group
(`--dist loadgroup`), so the stack (server, deploy, worker) starts once for the walk-through and
the failed run's log check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from golive.tasks.foundation import paths
from tests.e2e import ui_pages as ui
from tests.e2e.ui_stack import UI_ORG, Stack, free_port, ui_settings, ui_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900), pytest.mark.xdist_group("ui-stack")]
CHROMIUM = Path("/usr/bin/chromium")
OUT = paths.ROOT / "out" / "ui-browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (.ci/apt-packages installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30000)
    yield context.new_page()
    context.close()


def test_server_start_serves_a_ui_that_reaches_its_own_api(tmp_path: Path, page: Any) -> None:
    """`golive server start --port P`: the UI at the printed address talks to the API on P, not 4200."""
    import os
    import subprocess
    import sys

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(GOLIVE_HOME=str(tmp_path / ".golive"), GOLIVE_OUT=str(tmp_path / "out"), GOLIVE_REPORTS_PORT=str(free_port()))
    golive = [sys.executable, "-m", "golive.flows.cli.main", "server"]
    try:
        started = subprocess.run([*golive, "start", "--port", str(port)], env=env, capture_output=True, text=True,
                                 timeout=180, check=True)
        url = f"http://127.0.0.1:{port}"
        assert f"Prefect UI: {url}" in started.stdout
        assert f"Reports:    http://127.0.0.1:{env['GOLIVE_REPORTS_PORT']}/" in started.stdout
        stack = Stack(ui_url=url, api_url=f"{url}/api", env=env, home=tmp_path)
        assert ui_settings(stack)["api_url"] == f"{url}/api"
        page.goto(f"{url}/deployments")
        page.get_by_text("Create a deployment to get started").wait_for()  # the API answered: none deployed
        assert "Can't connect to Server API" not in page.inner_text("body")
        ui.shot(page, OUT, "00-server-start")
    finally:
        subprocess.run([*golive, "stop"], env=env, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with ui_stack(tmp_path_factory.mktemp("ui")) as running:
        yield running


def test_a_failed_deployment_run_ends_failed_with_its_reason_and_no_traceback(stack: Stack) -> None:
    """A step that fails on a process worker: the run's state is Failed with the step's reason, and
    neither the run's logs (what the UI shows) nor the worker's output hold a traceback."""
    deployment = ui.api(stack, "POST", "/deployments/filter", {})[0]
    run_id = _create_run(stack, deployment["id"], {"locations": ["loc-a"], "start_date": "2026-12-07",
                                                   "fail_step": True})
    failed = ui.wait_state(stack, run_id, {"FAILED"})
    assert failed["state"]["message"] == "runbook ui-check failed; failed steps: precheck: seat count unconfirmed for loc-a"
    finished = "Finished in state Failed('runbook ui-check failed; failed steps: precheck"

    def finished_logs() -> str:  # the run's last lines reach the API a moment after its state
        text = ui.run_logs(stack, run_id)
        return text if finished in text else ""

    logs = str(wait_for(finished_logs, timeout=60))
    assert "Traceback" not in logs and "Engine execution exited with unexpected exception" not in logs, logs
    worker = (stack.home / "worker.log").read_text(errors="replace")
    assert f"Flow run {run_id!r}" in worker or run_id in worker, worker[-3000:]  # the worker did run it
    assert "Traceback" not in worker, worker[-6000:]


def test_rollout_lead_runs_and_answers_a_runbook_in_the_ui(stack: Stack, page: Any, tmp_path: Path) -> None:
    for old in OUT.glob("[0-9]*.png"):
        if not old.name.startswith("00-"):  # this run's screenshots only (00 is the server check's)
            old.unlink()

    deployment = ui.api(stack, "POST", "/deployments/filter", {})[0]
    assert deployment["name"] == "ui-check"
    schema = deployment["parameter_openapi_schema"]["properties"]
    assert schema["locations"]["items"]["enum"] == ["loc-a", "loc-b"]  # the organization's locations
    assert schema["start_date"]["format"] == "date" and schema["seats"]["minimum"] == 1
    assert schema["run_key"]["type"] == "string" and "Resume key" in schema["run_key"]["description"]
    page.goto(f"{stack.ui_url}/deployments")
    page.get_by_text("ui-check").first.wait_for()
    ui.shot(page, OUT, "01-deployments")

    run_id = ui.start_from_form(page, stack, deployment["id"], {}, out=OUT, name="02-run", locations=["loc-a", "loc-b"],
                                dates={"start_date": date(2026, 12, 7)})
    parameters = ui.flow_run(stack, run_id)["parameters"]
    assert parameters["locations"] == ["loc-a", "loc-b"] and parameters["start_date"] == "2026-12-07"  # as picked

    # Started by the API beside the walk-through: a step that fails, and a location the run's
    # organization lacks (the form's dropdown only offers the deployment's organization's ids).
    fail_id = _create_run(stack, deployment["id"], {"locations": ["loc-a"], "start_date": "2026-12-07", "fail_step": True})
    one_location = tmp_path / "org-one-location.yaml"
    one_location.write_text(UI_ORG.read_text().split("  - id: loc-b\n")[0])
    refused_id = _create_run(stack, deployment["id"], {"locations": ["loc-b"], "start_date": "2026-12-07",
                                                        "org": str(one_location)})

    paused = ui.wait_state(stack, run_id, {"PAUSED"}, pause_key="budget")
    assert paused["name"].startswith("ui-check · loc-a, loc-b · ")  # named at submit, not "beta"
    assert "Roles that may decide: CFO" in paused["state"]["message"]
    text = ui.approve(page, stack, run_id, name="Casey Fox", role=None, out=OUT, shot_name="03-single-role-approval")
    assert "Budget for 3 seats per location approved?" in text

    ui.wait_state(stack, run_id, {"PAUSED"}, pause_key="sign-off")
    ui.approve(page, stack, run_id, name="Ira Vogt", role="VP of IT", out=OUT, shot_name="04-multi-role-approval")

    ui.wait_state(stack, run_id, {"PAUSED"}, pause_key="prep")
    text = ui.confirm(page, stack, run_id, name="Dana Lee", tick=["kickoff"], out=OUT, shot_name="05-checklist")
    assert "owner: CDO" in text and "week 1 day 2" in text
    again = ui.wait_state(stack, run_id, {"PAUSED"}, pause_key="prep-1")  # waits, does not fail
    assert "sandbox" in again["state"]["message"] and "kickoff" not in again["state"]["message"]
    ui.confirm(page, stack, run_id, name="Ira Vogt", tick=["sandbox"], out=OUT, shot_name="06-checklist-rest")

    ui.wait_state(stack, run_id, {"COMPLETED"})
    page.goto(f"{stack.ui_url}/runs/flow-run/{run_id}")
    page.get_by_text("Casey Fox decided approve as CFO").first.wait_for()
    page.get_by_text("Ira Vogt decided approve as VP of IT").first.wait_for()
    ui.shot(page, OUT, "07-completed")
    # One message per pause (outbox: the test organization has no channel), each linking to this run.
    from email import policy
    from email.parser import BytesParser

    mails = [BytesParser(policy=policy.default).parsebytes(p.read_bytes())
             for p in (stack.home / "out" / "outbox").rglob("*.eml")]
    assert sorted(m["Subject"] for m in mails) == ["Decision needed: budget", "Decision needed: prep",
                                                   "Decision needed: prep", "Decision needed: sign-off"], mails
    assert all(f"{stack.ui_url}/runs/flow-run/{run_id}" in m.get_content() for m in mails)

    # The debrief's documents, linked over http from golive's report server (not file://).
    links = {a["key"]: a["data"] for a in ui.api(stack, "POST", "/artifacts/filter",
                                                 {"artifacts": {"flow_run_id": {"any_": [run_id]}}})}
    docx = next(url for key, url in links.items() if key.endswith("debrief-docx"))
    assert docx.startswith("[ui-check-debrief.docx](http://127.0.0.1:") or docx.startswith("http://127.0.0.1:"), docx
    url = docx.split("(", 1)[1].rstrip(")") if docx.startswith("[") else docx
    reports_url = f"http://127.0.0.1:{stack.env['GOLIVE_REPORTS_PORT']}"
    assert url.startswith(reports_url + "/"), url
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text("debrief-docx").first.wait_for()
    ui.shot(page, OUT, "07b-artifacts")
    fetched = page.request.get(url)  # what a click on the link downloads
    assert fetched.status == 200 and fetched.body()[:2] == b"PK"
    markdown_url = url.removesuffix(".docx") + ".md"
    page.goto(markdown_url)
    page.get_by_text("UI check debrief").first.wait_for()
    ui.shot(page, OUT, "07c-report-opened")

    # The readiness brief's chart, as the UI shows the brief: its markdown artifact, the image served
    # by golive's report server (a file:// path there was the broken image of the issue).
    brief = next(a for a in ui.api(stack, "POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
                 if a["key"] == "ui-check-brief-ui-check-brief")
    page.goto(f"{stack.ui_url}/runs/flow-run/{run_id}")
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text(brief["key"], exact=True).first.wait_for()  # listed on the run; the list re-renders
    page.goto(f"{stack.ui_url}/artifacts/artifact/{brief['id']}")  # as its card links, without a moving target
    page.get_by_text("Scoring matrix", exact=True).first.wait_for()  # the brief, rendered
    chart = page.locator("img[alt^='Composite readiness score']").first
    assert str(chart.get_attribute("src")).startswith(reports_url + "/"), chart.get_attribute("src")
    width, height = ui.image_loaded(chart)
    assert width > 0 and height > 0, "the chart did not load in the browser"
    chart.scroll_into_view_if_needed()
    ui.shot(page, OUT, "07d-chart")

    failed = ui.wait_state(stack, fail_id, {"FAILED"})
    assert "precheck: seat count unconfirmed for loc-a" in failed["state"]["message"]
    page.goto(f"{stack.ui_url}/runs/flow-run/{fail_id}")
    page.get_by_text("seat count unconfirmed for loc-a").first.wait_for()
    assert "Unexpected result for failed state" not in page.inner_text("body")
    page.get_by_text("Task Runs", exact=True).first.click()
    page.get_by_text("precheck").first.wait_for()
    ui.shot(page, OUT, "08-failed-step")

    refused = ui.wait_state(stack, refused_id, {"FAILED"})
    assert "unknown location 'loc-b'" in refused["state"]["message"]
    assert refused["state"]["message"].startswith("refused before the first step")
    page.goto(f"{stack.ui_url}/runs/flow-run/{refused_id}")
    page.get_by_text("unknown location 'loc-b'").first.wait_for()
    ui.shot(page, OUT, "09-refused-location")
    task_runs = ui.api(stack, "POST", "/task_runs/filter", {"flow_runs": {"id": {"any_": [refused_id]}}})
    assert task_runs == []  # refused before any step or pause

    # The form itself refuses an id that is not one of the organization's locations.
    text = ui.refused_by_form(page, stack, deployment["id"], {"locations": ["nowhere"], "start_date": "2026-12-07"},
                              out=OUT, name="10-form-refuses-location")
    assert "'nowhere' is not one of ['loc-a', 'loc-b']" in text


def _create_run(stack: Stack, deployment_id: str, parameters: dict[str, Any]) -> str:
    run = ui.api(stack, "POST", f"/deployments/{deployment_id}/create_flow_run", {"parameters": parameters})
    return str(run["id"])

"""`golive run` on a laptop: validate first, then run the entry flow in-process with a progress display."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.prompt import Confirm, Prompt

from golive.flows.engine import loaded, prefect_env
from golive.flows.engine.inputs import Decisions, parse_approve_flag
from golive.flows.engine.model import Runbook
from golive.flows.engine.preflight import check_decisions, load_inputs
from golive.flows.engine.scope import default_run_key
from golive.flows.engine.validate import check_locations, check_parameters
from golive.tasks.context import Approval, Confirmation, HumanInput, InputRequest
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import resolve_runbook

_DONE = {"completed", "cached", "failed", "skipped", "rolled_back"}
_STYLE = {
    "completed": "green",
    "cached": "cyan",
    "failed": "red",
    "skipped": "yellow",
    "rolled_back": "magenta",
}


def _decisions(approve: list[str], confirm: list[str], inputs: Path | None) -> tuple[Decisions, Any, set[tuple[str, str]]]:
    """The decisions, the inputs file's positioned document and which (section, key) came from it."""
    data: dict[str, Any] = {"approvals": {}, "confirmations": {}}
    doc = None
    if inputs is not None:
        data, doc = load_inputs(inputs)
    from_file = {(section, str(k)) for section in ("approvals", "confirmations") for k in data[section]}
    base = Decisions.from_json(data)
    approvals = dict(base.approvals)
    for flag in approve:
        step, approval = parse_approve_flag(flag)
        approvals[step] = approval
    confirmations = dict(base.confirmations)
    confirmations.update({step: "all" for step in confirm})
    from_file -= {("approvals", parse_approve_flag(flag)[0]) for flag in approve}  # a flag wins over the file
    from_file -= {("confirmations", s) for s in confirm}
    return Decisions(approvals=approvals, confirmations=confirmations), doc, from_file


def collect_result(state: Any, runbook: str) -> dict[str, Any]:
    """The run's result as `golive run --json` prints it, read back from the store."""
    from golive.tasks.store import Store

    run_id = str(state.state_details.flow_run_id)
    store = Store.open()
    try:
        return _result_from_store(store, state, run_id, runbook)
    finally:
        store.dispose()


def _result_from_store(store: Any, state: Any, run_id: str, runbook: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    if run is None:  # the flow failed before it could record anything
        message = state.message or "the run failed before its first step"
        return {
            "runbook": runbook,
            "run_id": run_id,
            "state": "failed",
            "steps": [],
            "reports": [],
            "error": message,
        }
    latest: dict[str, Any] = {}
    for rec in store.steps_for_run(run_id):
        latest[rec.step_key] = rec  # records arrive in order; the last one per key wins
    steps = [
        {
            "key": r.step_key,
            "id": r.step_id,
            "state": r.state,
            "outputs": r.outputs or {},
            **({"error": r.error} if r.error else {}),
        }
        for r in latest.values()
    ]
    reports = [
        p for s in steps for p in (s["outputs"].get("reports") or []) if s["state"] in ("completed", "cached")
    ]
    return {"runbook": runbook, "run_id": run_id, "state": run.state, "steps": steps, "reports": reports}


class _RunLogsOffConsole(logging.Filter):
    """Flow- and task-run records stay in Prefect (API, UI) but not on the terminal, where the
    progress display already reports each step's state and error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))


def quiet_prefect_console() -> None:
    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if handler.__class__.__name__ != "APILogHandler" and not any(
                isinstance(f, _RunLogsOffConsole) for f in handler.filters
            ):
                handler.addFilter(_RunLogsOffConsole())


@dataclass
class LocalRun:
    book: Runbook
    path: Path
    params: dict[str, Any]
    decisions: Decisions
    org: Path | None
    run_key: str

    @classmethod
    def prepare(
        cls,
        runbook: str,
        given: dict[str, Any],
        *,
        org: Path | None,
        approve: list[str],
        confirm: list[str],
        inputs: Path | None,
        run_key: str | None,
    ) -> LocalRun:
        """Everything that can be wrong with the user's input is found here, before Prefect starts."""
        path = resolve_runbook(runbook)
        book = loaded.runbook(path)
        params = check_parameters(book, given)
        decisions, doc, from_file = _decisions(approve, confirm, inputs)
        check_decisions(book, decisions, inputs=inputs, doc=doc, from_file=from_file)
        if org is not None and not Path(org).is_file():
            raise UserInputError(f"--org {org}: no such file")
        from golive.flows.engine.org import load_org

        check_locations(book, params, load_org(org))  # an invalid organization file or location id stops it here
        return cls(
            book=book,
            path=path,
            params=params,
            decisions=decisions,
            org=org,
            run_key=run_key or default_run_key(book.name, params),
        )

    def execute(self, *, console: Console, interactive: bool) -> dict[str, Any]:
        """Take the run key's lease (RunKeyBusy, a UserInputError, when another run holds it), then run."""
        from golive.tasks.store import Store
        from golive.tasks.store.leases import Holder

        store = Store.open()
        try:
            holder = Holder.take(store, self.run_key)
        except BaseException:
            store.dispose()
            raise
        try:
            return self._execute(console=console, interactive=interactive)
        finally:
            holder.close()
            store.dispose()

    def _execute(self, *, console: Console, interactive: bool) -> dict[str, Any]:
        from golive.flows.cli import local_server

        server = local_server.use_if_running()
        prefect_env.configure()
        if server is None:
            prefect_env.tie_temporary_server()  # a killed `golive run` takes its temporary server along
            prefect_env.start_temporary_server()  # one set-up at a time on a fresh home: no tracebacks
        from golive.flows.engine.entry import golive_runbook
        from golive.flows.engine.hooks import HOOKS

        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        bar = progress.add_task(self.book.name, total=len(self.book.steps))
        seen: set[str] = set()

        def on_event(event: str, data: dict[str, Any]) -> None:
            key, state = data["key"], data["state"]
            if state not in _DONE:
                return
            if key not in seen:
                seen.add(key)
                progress.update(bar, total=max(len(seen), progress.tasks[0].total or 0), completed=len(seen))
            note = f" — {data['note']}" if data.get("note") else ""
            progress.console.print(f"[{_STYLE[state]}]{state:>11}[/] {escape(key + note)}", highlight=False)

        quiet_prefect_console()
        HOOKS.on_event = on_event
        HOOKS.ask = (lambda request: self._prompt(request, progress)) if interactive else None
        where = f"Prefect at {server.ui_url}" if server else "temporary Prefect server"
        console.print(
            f"[bold]{self.book.name}[/] run key {self.run_key} ({where})", highlight=False
        )
        try:
            with progress, prefect_env.without_heartbeats():
                state = golive_runbook(
                    runbook=str(self.path),
                    parameters=self.params,
                    run_key=self.run_key,
                    decisions=self.decisions.to_json(),
                    org=str(self.org) if self.org else None,
                    return_state=True,
                )
        finally:
            HOOKS.on_event = HOOKS.ask = None
        return collect_result(state, self.book.name)

    @staticmethod
    def _prompt(request: InputRequest, progress: Progress) -> HumanInput | None:
        progress.stop()
        try:
            console = progress.console
            console.print(f"\n[bold]{request.step_key}[/]: {request.question}")
            if request.kind == "approval":
                role = Prompt.ask("Your role", choices=list(request.approvers), console=console)
                name = Prompt.ask("Your name", console=console)
                decision: Literal["approve", "reject"] = (
                    "approve" if Confirm.ask("Approve?", console=console) else "reject"
                )
                comment = Prompt.ask("Comment", default="", console=console)
                return Approval(decision=decision, name=name, role=role, comment=comment)
            name = Prompt.ask("Your name", console=console)
            confirmed = {
                item_id
                for item_id, text in request.items
                if Confirm.ask(f"  {item_id}: {text}", console=console)
            }
            return Confirmation(confirmed=frozenset(confirmed), name=name)
        finally:
            progress.start()

    @staticmethod
    def print_summary(result: dict[str, Any], console: Console) -> None:
        state = result["state"]
        counts: dict[str, int] = {}
        for s in result["steps"]:
            counts[s["state"]] = counts.get(s["state"], 0) + 1
        tally = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        console.print(f"[bold]{result['runbook']}[/] {state} ({tally})\n  run id: {result['run_id']}")
        for s in result["steps"]:
            if s["state"] == "failed":
                console.print(
                    f"  [red]failed[/] {escape(s['key'])}: {escape(s.get('error') or '')}", highlight=False
                )
        for path in result["reports"]:
            console.print(f"  report: {path}")
        for s in result["steps"]:  # messages a person must check with a recipient (tasks/delivery/send.py)
            for d in (s.get("outputs") or {}).get("deliveries") or []:
                if d.get("state") == "unconfirmed":
                    console.print(f"  [yellow]UNCONFIRMED[/] {escape(s['key'])}: message {escape(d['message_id'])} "
                                  f"({escape(d['channel'])}) may not have arrived; ask a recipient "
                                  "(also listed by `golive status`)", highlight=False)

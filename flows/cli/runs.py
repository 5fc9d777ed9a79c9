"""`golive runs`: the runs in the store, by state, and one run key's runs, steps and lease."""

from __future__ import annotations

import typer

from golive.tasks.foundation.errors import StoreError

app = typer.Typer(invoke_without_command=True, help="Runs in the store: golive runs [--state S], golive runs show KEY.")

STATES = ("running", "suspended", "completed", "failed", "rolled_back", "crashed", "cancelled")


def _store():  # type: ignore[no-untyped-def]
    from golive.tasks.store import Store

    try:
        return Store.open()
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.callback()
def runs(ctx: typer.Context, state: str | None = typer.Option(None, "--state", help=f"One of: {', '.join(STATES)}")) -> None:
    """List runs newest first: started, state, run key, runbook, run id."""
    if ctx.invoked_subcommand is not None:
        return
    if state is not None and state not in STATES:
        typer.echo(f"error: --state {state!r}: expected one of {', '.join(STATES)}", err=True)
        raise typer.Exit(2)
    from golive.tasks.store import leases

    store = _store()
    try:
        rows = store.list_runs(state)
        if not rows:
            typer.echo("no runs" + (f" in state {state}" if state else ""))
            return
        for r in rows:
            note = ""
            if r.state == "running":  # a run whose holder died shows as such before the next run marks it crashed
                lease = leases.current(store, r.run_key)
                if lease is None or lease.run_id not in (None, r.run_id) or not leases.is_alive(lease):
                    note = "  (no live process: crashed; the next run of the key marks it)"
            typer.echo(f"{r.started_at:%Y-%m-%d %H:%M:%S}  {r.state:<11} {r.run_key}  {r.runbook}  {r.run_id}{note}")
    finally:
        store.dispose()


@app.command("show")
def show(run_key: str = typer.Argument(..., help="The run key")) -> None:
    """One run key: its lease, its runs (oldest first) and each run's step results."""
    from golive.tasks.store import leases

    store = _store()
    try:
        rows = list(reversed(store.list_runs(run_key=run_key)))
        if not rows:
            typer.echo(f"error: no runs with run key {run_key!r}", err=True)
            raise typer.Exit(2)
        lease = leases.current(store, run_key)
        if lease is None:
            typer.echo(f"run key {run_key}: no live run")
        elif leases.is_alive(lease):
            typer.echo(leases.describe(lease))
        else:
            typer.echo(f"run key {run_key}: lease of pid {lease.pid} on host {lease.host} expired")
        for r in rows:
            end = f" → {r.finished_at:%H:%M:%S}" if r.finished_at else ""
            typer.echo(f"run {r.run_id}  {r.runbook}  {r.state}  {r.started_at:%Y-%m-%d %H:%M:%S}{end}")
            for step in store.steps_for_run(r.run_id):
                note = f"  ({step.error})" if step.error else ""
                typer.echo(f"  {step.state:<11} {step.step_key}{note}")
    finally:
        store.dispose()


@app.command("reconcile")
def reconcile(
    rerun: bool = typer.Option(False, "--rerun", help="Start crashed runs again from their deployment, same run key, once each."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change; change nothing."),
    stale: float = typer.Option(120.0, "--stale", min=0, help="Seconds a Pending/Running state must be old to count as stuck."),
    worker_timeout: float = typer.Option(90.0, "--worker-timeout", min=0, help="Seconds without a worker heartbeat that make it dead."),
    lookback: float = typer.Option(86400.0, "--lookback", min=0,
                                   help="Seconds back to look for runs Prefect marked Crashed."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Bring the store's runs in line with Prefect (crashed, cancelled, suspended), release dead leases,
    put runs a dead worker had claimed back on the pool, and mark runs whose process died Crashed."""
    import json

    from golive.flows.engine.reconcile import reconcile as run_reconcile

    store = _store()
    try:
        report = run_reconcile(store, stale_s=stale, worker_timeout_s=worker_timeout, rerun=rerun, dry_run=dry_run,
                               lookback_s=lookback)
    except Exception as exc:  # no Prefect API reachable: a setup problem, not a traceback
        if type(exc).__name__ not in ("ConnectError", "ConnectTimeout", "PrefectHTTPStatusError", "RuntimeError"):
            raise
        typer.echo(f"error: Prefect API not reachable ({exc}); set PREFECT_API_URL", err=True)
        raise typer.Exit(2) from None
    finally:
        store.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.lines():
            typer.echo(line)


@app.command("install-automations")
def install_automations(
    within: float = typer.Option(90.0, "--within", min=10,
                                 help="Seconds after a flow run's last heartbeat before it counts as dead; "
                                      "more than the workers' PREFECT_FLOWS_HEARTBEAT_FREQUENCY."),
) -> None:
    """Create (or bring in line) the Prefect automation that marks a flow run Crashed when its
    heartbeats stop (flows/engine/zombies.py). Running it again changes nothing."""
    from prefect import get_client

    from golive.flows.engine import zombies

    try:
        with get_client(sync_client=True) as client:
            outcome, automation_id = zombies.install(client, within)
    except Exception as exc:  # no Prefect API reachable: a setup problem, not a traceback
        if type(exc).__name__ not in ("ConnectError", "ConnectTimeout", "PrefectHTTPStatusError", "RuntimeError"):
            raise
        typer.echo(f"error: Prefect API not reachable ({exc}); set PREFECT_API_URL", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"automation {zombies.NAME!r} {outcome} (id {automation_id}): flow runs without a heartbeat "
               f"for {within:.0f} s are marked Crashed")

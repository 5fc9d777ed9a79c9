"""Prefect settings for the embedded default: state under `.golive/prefect`, quiet, fast.

Must run before `prefect` is first imported (Prefect reads its settings then). With
`PREFECT_API_URL` set, golive talks to that server and only the home and analytics defaults apply.
Measured choices are in README ("Embedded Prefect").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from golive.tasks.foundation import paths

# Background services of the temporary server that a single local run never needs.
_SERVICES_OFF = (
    "SCHEDULER", "LATE_RUNS", "FOREMAN", "CANCELLATION_CLEANUP", "REPOSSESSOR", "TRIGGERS",
    "EVENT_PERSISTER", "CLEANUP_RECONCILER", "PAUSE_EXPIRATIONS",
)


def embedded_defaults() -> dict[str, str]:
    home = paths.state_dir() / "prefect"
    values = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # the client's usage telemetry and its notice on interactive terminals
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        # The task-run recorder writes one task run per transaction by default; batching it is what
        # makes 200 concurrent tasks fast (see README). Its flush interval stays at the default:
        # below it (0.5 s) Prefect 3.9.1's server spins at 100% CPU when idle (measured).
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "500",
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "500",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    }
    if not os.environ.get("PREFECT_API_URL"):
        for service in _SERVICES_OFF:
            values[f"PREFECT_SERVER_SERVICES_{service}_ENABLED"] = "false"
    return values


def configure() -> None:
    """Apply the defaults without overriding anything the user set."""
    for key, value in embedded_defaults().items():
        os.environ.setdefault(key, value)
    (paths.state_dir() / "prefect").mkdir(parents=True, exist_ok=True)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:  # runs in the forked child, before exec
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the child outlives a killed parent, as before
        pass


class _PopenDiesWithParent:
    """`subprocess` as Prefect's server module sees it, except that Popen children get SIGKILL
    when the process that started them dies (kill -9 included), so no orphaned server is left."""

    def __getattr__(self, name: str) -> object:
        import subprocess

        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: object, **kwargs: object) -> object:  # noqa: N802  (the name Prefect calls)
        import subprocess

        kwargs.setdefault("preexec_fn", _die_with_parent)
        return subprocess.Popen(*args, **kwargs)  # type: ignore[call-overload]


def tie_temporary_server() -> None:
    """The temporary Prefect server a run starts (no PREFECT_API_URL) dies with this process.

    Prefect starts it with `subprocess.Popen` in `prefect.server.api.server`; that module's
    `subprocess` name is swapped for a proxy adding PR_SET_PDEATHSIG (Linux). The signal is tied
    to the starting *thread*; Prefect starts the server from its long-lived loop thread or the main
    thread, both of which live as long as the run.
    """
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("PREFECT_API_URL"):
        return
    from prefect.server.api import server

    if not isinstance(getattr(server, "subprocess", None), _PopenDiesWithParent):
        server.subprocess = _PopenDiesWithParent()  # type: ignore[assignment]


def start_temporary_server() -> None:
    """Start this process's temporary server now, one process at a time per golive home.

    Several first runs at once on a fresh home each started a temporary server on the same
    Prefect database, and their concurrent schema set-up printed tracebacks (`NoSuchTableError`,
    `index ... already exists`). Holding a lock file until our server answers its health check
    serialises the set-up; the server (a per-port singleton in Prefect) is then reused by the run.
    """
    if os.environ.get("PREFECT_API_URL"):
        return
    import fcntl

    lock = paths.state_dir() / "prefect" / "startup.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:
                client.api_healthcheck()
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """Flow runs on the temporary server of this process send no heartbeats.

    Heartbeats let another process (the zombie automation, flows/engine/zombies.py) notice a dead
    run; the temporary server dies with this process, so nobody is left to act on them. Prefect
    3.9.1 stops the heartbeat thread at each run's end by joining it, and the thread sleeps in 1 s
    increments: up to a second per run (0.72 s a run measured in a rehearsal). With a server of
    its own (PREFECT_API_URL) a run keeps them.
    """
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield

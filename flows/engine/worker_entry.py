"""What a process worker runs for a golive flow run: Prefect's `python -m prefect.engine`, asking
for the final state instead of the result.

Prefect 3.9's engine entry calls `run_flow(...)` for the flow's *result*; for a run that ends
Failed (golive returns `Failed(message=...)` when a step fails or a parameter is refused), taking
the result re-raises the failure, and Prefect logs "Engine execution exited with unexpected
exception" with a traceback into the run's logs and the worker's output (prefect/flow_engine.py,
`run_flow`; measured: `run_flow(flow, return_type="state")` logs "Finished in state Failed(...)"
and nothing else). The state already carries the reason; this entry asks for it
(`return_type="state"`) and exits 0, as Prefect's own entry does once the engine reported the
final state. Everything else (loading the run and the flow, the pull steps, the runner's control
channel, signals) is Prefect's, called as `prefect.engine` calls it.

It also lets a flow run outlive its worker. The process worker reads the run's stdout and stderr
through pipes; when the worker dies (SIGKILL, OOM) the pipes break, and the next log line makes
Prefect's console handler (rich) call `Console.on_broken_pipe`, which raises SystemExit(1) in
whichever thread logged (rich/console.py). The engine reports that as Crashed ("Execution was
aborted by Python system exit call"), a run that had nothing wrong with it: seen as 1 of 100 runs in
the 100-run scale test with a worker SIGKILLed. `PipeGuard` wraps both streams before Prefect
configures logging: once a pipe breaks, the stream goes to /dev/null and the run carries on (its
logs still reach the Prefect API through Prefect's API log handler).

prefect.yaml sets it as the process pool's `command` job variable for every golive deployment.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO
from uuid import UUID


class PipeGuard:
    """A text stream that survives its reader: on a broken pipe, the file descriptor is pointed at
    /dev/null (so buffered and later output is dropped quietly) instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.diverted = False

    def _divert(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        self.diverted = True

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._divert()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._divert()
            self._stream.flush()  # what was buffered goes to /dev/null now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_std_streams() -> None:
    """Before `import prefect`: its logging configuration binds the console handler to sys.stderr."""
    if not isinstance(sys.stdout, PipeGuard):
        sys.stdout = PipeGuard(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, PipeGuard):
        sys.stderr = PipeGuard(sys.stderr)  # type: ignore[assignment]


def main(argv: list[str]) -> int:
    from prefect._internal.control_listener import configure_from_env
    from prefect._internal.metrics import RunMetrics
    from prefect.engine import handle_engine_signals
    from prefect.flow_engine import flow_run_logger, load_flow, load_flow_run, run_flow

    flow_run_id = UUID(argv[1] if len(argv) > 1 else os.environ["PREFECT__FLOW_RUN_ID"])
    configure_from_env()  # the runner's cancel channel, before any flow code loads (as prefect.engine)
    with handle_engine_signals(flow_run_id):
        flow_run = load_flow_run(flow_run_id=flow_run_id)
        run_logger = flow_run_logger(flow_run=flow_run)
        try:
            flow = load_flow(flow_run)
        except Exception:
            run_logger.error("Unexpected exception encountered when trying to load flow", exc_info=True)
            raise
        with RunMetrics(flow_run, flow):
            run_flow(flow, flow_run=flow_run, error_logger=run_logger,  # type: ignore[arg-type]  # as prefect.engine
                     return_type="state")
    return 0


if __name__ == "__main__":
    guard_std_streams()
    sys.exit(main(sys.argv))

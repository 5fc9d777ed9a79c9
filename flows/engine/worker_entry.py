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

prefect.yaml sets it as the process pool's `command` job variable for every golive deployment.
"""

from __future__ import annotations

import os
import sys
from uuid import UUID


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
    sys.exit(main(sys.argv))

"""Starting the rollback runbook from the rollback watch: the one place gates touch Prefect.

Inside a deployed run (the hourly watch deployment) the rollback deployment is started without
waiting (`run_deployment(..., timeout=0)`), so its approvals and week-long deadlines live in their
own flow run. Outside a deployment (a laptop CLI run) the rollback is recorded and the command
that starts it is returned; nothing is started in the background.
"""

from __future__ import annotations

import json
import logging
import shlex
from typing import Any

from golive.tasks.foundation.errors import ConnectorError

log = logging.getLogger(__name__)

def cli_command(runbook: str, parameters: dict[str, Any]) -> str:
    args = " ".join(f"-p {shlex.quote(f'{k}={json.dumps(v)}')}" for k, v in parameters.items())
    return f"golive run runbooks/{runbook}.yaml {args}"


def in_deployment() -> bool:
    try:
        from prefect.runtime import deployment
    except ImportError:  # pragma: no cover - prefect is a core dependency
        return False
    return deployment.id is not None


def starts_runs(mode: str) -> bool:
    """Whether `launch` in this mode starts a deployment run (rather than describing the command)."""
    return mode == "deployment" or (mode == "auto" and in_deployment())


def launch(runbook: str, parameters: dict[str, Any], *, mode: str = "auto", deployment_name: str | None = None,
           idempotency_key: str | None = None) -> dict[str, Any]:
    """Start (or, in `record` mode, describe) a run of `runbook`; returns how it was started.

    With `idempotency_key`, Prefect's server de-duplicates: a second launch with the key returns the
    flow run the first one created, so a launch repeated after a kill starts nothing new."""
    command = cli_command(runbook, parameters)
    if not starts_runs(mode):
        return {"mode": "record", "command": command}
    from prefect.deployments import run_deployment

    # prefect.yaml deploys each runbook's own flow (flows/deployed.py) as `<runbook>/<runbook>`,
    # whose parameters are the runbook's parameters.
    name = deployment_name or f"{runbook}/{runbook}"
    try:
        flow_run = run_deployment(name=name, parameters=parameters, timeout=0, idempotency_key=idempotency_key)
    except Exception as exc:  # Prefect raises several types (ObjectNotFound, httpx errors)
        raise ConnectorError(f"could not start deployment {name}: {exc}") from exc
    log.info("started %s for %s", name, parameters.get("locations"))
    return {"mode": "deployment", "deployment": name, "flow_run_id": str(getattr(flow_run, "id", "")), "command": command}

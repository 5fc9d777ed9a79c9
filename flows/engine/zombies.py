"""Prefect-side zombie detection: an automation that marks a flow run Crashed when its heartbeats stop.

A flow-run process killed with its host (SIGKILL, OOM, a lost VM) reports nothing; Prefect keeps
it Running for good. Prefect's documented answer for self-hosted servers ("How to detect and
respond to zombie flows", docs.prefect.io/v3/advanced/detect-zombie-flows) is a proactive
automation: after each `prefect.flow-run.heartbeat` of a flow run, expect another event of that
flow run (a heartbeat or a state change) within `within_s`, or change its state to Crashed. Flow
runs emit heartbeats every `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` seconds (Prefect 3.9.1: default
180, minimum 30; prefect/settings/models/flows.py), so `within_s` must exceed it: `make cluster`
sets 30 s on its workers and 90 s here (three missed heartbeats, as Prefect's guide). Any flow-run
event counts, not only terminal ones: a run suspended for an approval stops heart-beating once
Suspended, and must not be crashed for it.

`golive runs install-automations` (and `make cluster`) create it once; running it again changes
nothing unless `within_s` changed. `golive runs reconcile` then aligns the store with the Crashed
state and, with `--rerun`, starts the run again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

NAME = "golive: crash zombie flow runs"
HEARTBEAT_S = 30  # what `make cluster` gives PREFECT_FLOWS_HEARTBEAT_FREQUENCY on its workers
WITHIN_S = 90.0


def automation(within_s: float = WITHIN_S) -> Any:
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=NAME,
        description=(f"Marks a flow run Crashed when no event of it follows its last heartbeat within {within_s:.0f} s "
                     "(its process died with its host). Installed by golive; golive runs reconcile follows up."),
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.*"},  # another heartbeat, or any state change (Suspended included)
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within_s),
        ),
        actions=[ChangeFlowRunState(name="Crashed", state=StateType.CRASHED, force=False,
                                    message=f"no heartbeat for {within_s:.0f} s: its process died (golive zombie automation)")],
    )


def _spec(core: Any) -> dict[str, Any]:
    """What makes two versions of the automation the same (ids and server-side defaults aside)."""
    data = core.model_dump(mode="json", include={"name", "description", "enabled", "trigger", "actions"})
    data["trigger"].pop("id", None)
    return data


def install(client: Any, within_s: float = WITHIN_S) -> tuple[str, str]:
    """Create the automation, or bring an existing one (by name) in line; ("created" | "updated" |
    "unchanged", its id). Copies left by two installs at once are deleted, one kept."""
    wanted = automation(within_s)
    existing = sorted(client.read_automations_by_name(NAME), key=lambda a: str(a.id))
    if not existing:
        return "created", str(client.create_automation(wanted))
    keep, *extra = existing
    for copy in extra:
        client.delete_automation(copy.id)
    if _spec(keep) == _spec(wanted):
        return "unchanged", str(keep.id)
    client.update_automation(keep.id, wanted)
    return "updated", str(keep.id)

"""Atlassian Statuspage public page API SIMULATOR (fake incidents; not Statuspage). Marks each
answer with X-Golive-Simulator.

As a page documents its API at `/api` (e.g. https://confluence.status.atlassian.com/api):
`GET /api/v2/summary.json` -> `{page, status: {indicator, description}, components: [...],
incidents: [unresolved], scheduled_maintenances: [...]}`; `GET /api/v2/incidents.json` -> `{page,
incidents: [the 50 most recent]}`, newest first. Components carry `id`, `name`, `status`
(operational | degraded_performance | partial_outage | major_outage), `page_id`, `position`;
incidents carry `id`, `name`, `status`, `impact`, `created_at`, `started_at`, `resolved_at`,
`incident_updates`, `components`. Public: no credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from golive.tasks.gates.collect.sim.app import marked_app

PAGE = {"id": "simpage00001", "name": "Platform (SIMULATOR)", "url": "https://status.platform.invalid",
        "time_zone": "Etc/UTC", "updated_at": "2026-01-01T00:00:00.000Z"}
STATUS_OF = {"critical": "major_outage", "major": "partial_outage", "minor": "degraded_performance"}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Incident:
    id: str
    name: str
    impact: str  # none | minor | major | critical | maintenance
    started: datetime
    resolved: datetime | None
    component_ids: list[str]


@dataclass
class StatuspageState:
    components: dict[str, str] = field(default_factory=dict)  # name -> id
    incidents: list[Incident] = field(default_factory=list)
    requests: int = 0

    def component(self, name: str) -> str:
        return self.components.setdefault(name, f"cmp{len(self.components) + 1:09d}")


def _incident(state: StatuspageState, i: Incident) -> dict[str, Any]:
    names = {v: k for k, v in state.components.items()}
    comps = [{"id": c, "name": names[c], "status": "operational" if i.resolved else STATUS_OF.get(i.impact, "operational"),
              "page_id": PAGE["id"]} for c in i.component_ids]
    updates = [{"id": f"{i.id}u1", "status": "investigating", "body": "We are investigating.",
                "created_at": _iso(i.started), "display_at": _iso(i.started), "incident_id": i.id}]
    if i.resolved:
        updates.insert(0, {"id": f"{i.id}u2", "status": "resolved", "body": "This incident has been resolved.",
                           "created_at": _iso(i.resolved), "display_at": _iso(i.resolved), "incident_id": i.id})
    return {"id": i.id, "name": i.name, "status": "resolved" if i.resolved else "investigating", "impact": i.impact,
            "created_at": _iso(i.started), "updated_at": _iso(i.resolved or i.started), "started_at": _iso(i.started),
            "monitoring_at": None, "resolved_at": _iso(i.resolved), "shortlink": f"https://stspg.invalid/{i.id}",
            "page_id": PAGE["id"], "incident_updates": updates, "components": comps}


def create_app(state: StatuspageState) -> FastAPI:
    app = marked_app("Atlassian Statuspage SIMULATOR", "statuspage")

    def newest() -> list[Incident]:
        return sorted(state.incidents, key=lambda i: i.started, reverse=True)

    @app.get("/api/v2/summary.json")
    def summary() -> Any:
        state.requests += 1
        open_ = [i for i in newest() if i.resolved is None]
        worst = {c: STATUS_OF.get(i.impact, "operational") for i in open_ for c in i.component_ids}
        comps = [{"id": cid, "name": name, "status": worst.get(cid, "operational"), "created_at": PAGE["updated_at"],
                  "updated_at": PAGE["updated_at"], "position": n + 1, "description": None, "showcase": True,
                  "group_id": None, "page_id": PAGE["id"], "group": False, "only_show_if_degraded": False}
                 for n, (name, cid) in enumerate(state.components.items())]
        rank = {"minor": 1, "major": 2, "critical": 3}
        indicator = max((i.impact for i in open_), key=lambda x: rank.get(x, 0), default="none")
        return {"page": PAGE, "status": {"indicator": indicator, "description": "All Systems Operational" if not open_
                                         else "Service disruption"},
                "components": comps, "incidents": [_incident(state, i) for i in open_], "scheduled_maintenances": []}

    @app.get("/api/v2/incidents.json")
    def incidents() -> Any:
        state.requests += 1
        return {"page": PAGE, "incidents": [_incident(state, i) for i in newest()[:50]]}

    return app

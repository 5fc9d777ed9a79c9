"""Uptime from the vendor's public status page (Atlassian Statuspage), instead of golive's probes.

Statuspage's public page API, as each page documents it at `/api` (e.g.
https://confluence.status.atlassian.com/api): `GET /api/v2/summary.json` ("a summary of the status
page, including a status indicator, component statuses, unresolved incidents, and any upcoming or
in-progress scheduled maintenances") gives the components' ids by name; `GET
/api/v2/incidents.json` gives "a list of the 50 most recent incidents", unresolved and resolved,
each with `impact` (none | minor | major | critical), `started_at`/`created_at`, `resolved_at`
and the `components` it affects. No key: the page is public.

Daily uptime of the platform component, following Statuspage's uptime showcase ("How it works:
driven by component states", https://help.statuspage.io/help/uptime-calendar): downtime is time in
an outage; a partial outage weighs 30 % of a major one; degraded performance and maintenance count
as up. The public API carries an incident's impact, not its per-minute component states, so an
incident counts as a major outage for impact `critical`, a partial outage for `major`, and as up
for `minor` / `none` / `maintenance` (the impact Statuspage derives from the worst component state).
Overlapping incidents count once, at the worst weight. A day (UTC) older than the oldest incident
the API still returns, when it returns its full 50, cannot be judged and is missing; so is a day
not over yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from golive.tasks.gates.collect.base import missing, rate
from golive.tasks.gates.collect.http import PacedClient, SourceError
from golive.tasks.gates.collected import Outcome

SOURCE = "statuspage"
RECENT = 50  # incidents.json: "the 50 most recent incidents"
WEIGHT = {"critical": 1.0, "major": 0.3}  # major outage, partial outage; the rest count as up
DAY_S = 86400


def _ts(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(f"{SOURCE}: an incident has a timestamp that is not ISO 8601") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def down_seconds(spans: Sequence[tuple[datetime, datetime, float]], start: datetime, end: datetime) -> float:
    """Weighted outage seconds in [start, end): overlapping spans count once, at their worst weight."""
    cuts = sorted({start, end, *(max(min(s, end), start) for s, _e, _w in spans),
                   *(max(min(e, end), start) for _s, e, _w in spans)})
    total = 0.0
    for a, b in zip(cuts, cuts[1:], strict=False):
        worst = max((w for s, e, w in spans if s <= a and e >= b), default=0.0)
        total += worst * (b - a).total_seconds()
    return total


class StatuspageCollector:
    source = SOURCE
    metrics: tuple[str, ...] = ("uptime_pct",)

    def __init__(self, client: PacedClient, component: str, components: Mapping[str, str] | None = None,
                 now: Any = None) -> None:
        self.client = client
        self.component = component
        self.components = dict(components or {})
        self._now = now or (lambda: datetime.now(UTC))

    def _read(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        summary = self.client.get_json("api/v2/summary.json")
        listed = self.client.get_json("api/v2/incidents.json")
        if not isinstance(summary, dict) or not isinstance(summary.get("components"), list):
            raise SourceError(f"{SOURCE}: summary.json has no components list")
        if not isinstance(listed, dict) or not isinstance(listed.get("incidents"), list):
            raise SourceError(f"{SOURCE}: incidents.json has no incidents list")
        ids = {str(c.get("name")): str(c.get("id")) for c in summary["components"] if isinstance(c, dict)}
        return ids, [i for i in listed["incidents"] if isinstance(i, dict)]

    def collect(self, day: date, locations: Sequence[str]) -> list[Outcome]:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        end = start + timedelta(days=1)
        query = f"GET /api/v2/incidents.json, component impact over [{start.isoformat()}, {end.isoformat()})"
        if end > self._now():
            return missing(self, day, locations, "the day is not over yet", query)
        ids, incidents = self._read()
        begun = [_ts(i.get("started_at") or i.get("created_at")) for i in incidents]
        oldest = min((b for b in begun if b is not None), default=None)
        if len(incidents) >= RECENT and oldest is not None and oldest > start:
            return missing(self, day, locations, f"older than the {RECENT} most recent incidents the public API "
                                                 f"returns (oldest {oldest.date().isoformat()})", query)
        out = []
        for loc in locations:
            name = self.components.get(loc, self.component)
            comp = ids.get(name)
            if comp is None:
                out.append(Outcome(loc, "uptime_pct", day, self.source, query, None,
                                   f"no component named {name!r} on the status page"))
                continue
            spans = []
            for inc, began in zip(incidents, begun, strict=True):
                weight = WEIGHT.get(str(inc.get("impact")), 0.0)
                hit = any(isinstance(c, dict) and str(c.get("id")) == comp for c in inc.get("components") or ())
                if weight and hit and began is not None:
                    spans.append((began, _ts(inc.get("resolved_at")) or self._now(), weight))
            up = round(DAY_S - down_seconds(spans, start, end), 3)
            out.append(rate(loc, "uptime_pct", day, up, DAY_S, self.source, f"{query} for {name!r}", "empty day"))
        return out

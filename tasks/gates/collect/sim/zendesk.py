"""Zendesk Search API SIMULATOR (fake tickets; not Zendesk). Every response carries X-Golive-Simulator.

As developer.zendesk.com documents it (Ticketing API > "Search", "List Search Results"):
`GET /api/v2/search.json?query=...&page=N&per_page=M` answers `{"results": [...], "facets": null,
"next_page": URL|null, "previous_page": URL|null, "count": N}`; at most 100 per page; page past the
1,000-result limit is 422 ("Results limit"). API-token auth, Basic `{email}/token:{token}`, else 401
("Security and authentication"). Optional throttle: a request sooner than `interval_s` after the
previous one is 429 with Retry-After ("Rate limits").
Query subset of the "Zendesk Support search reference": `type:ticket`; `priority`, `status`, `tags`
with `:`; `status<V` / `status>V` by the documented order new < open < pending < hold < solved <
closed; `created` and `solved` dates with `:`, `<`, `>` at day granularity (UTC).
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from golive.tasks.gates.collect.sim.app import marked_app

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
_TERM = re.compile(r"^(\w+)(:|<|>)(.+)$")


@dataclass
class Ticket:
    id: int
    created: datetime
    priority: str
    status: str
    tags: list[str]
    solved: datetime | None = None

    def row(self) -> dict[str, Any]:
        return {"url": f"https://sim.zendesk.invalid/api/v2/tickets/{self.id}.json", "id": self.id,
                "created_at": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "updated_at": (self.solved or self.created).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "type": "problem", "subject": f"Simulated ticket {self.id}", "priority": self.priority,
                "status": self.status, "tags": self.tags, "result_type": "ticket"}


@dataclass
class ZendeskState:
    email: str = "metrics@example.invalid"
    token: str = "sim-zendesk-token"
    interval_s: float = 0.0
    tickets: list[Ticket] = field(default_factory=list)
    requests: int = 0
    rate_limited: int = 0
    fail_next: int = 0  # answer the next N requests 503 (fault injection)
    _last: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)


def _match(t: Ticket, term: str) -> bool | None:
    m = _TERM.match(term)
    if not m:
        return None
    key, op, value = m.group(1).lower(), m.group(2), m.group(3).strip('"').lower()
    if key == "type":
        return value == "ticket"
    if key in ("priority", "tags") and op == ":":
        return value == t.priority if key == "priority" else value in t.tags
    if key == "status":
        if value not in STATUSES:
            return None
        a, b = STATUSES.index(t.status), STATUSES.index(value)
        return a == b if op == ":" else (a < b if op == "<" else a > b)
    if key in ("created", "solved"):
        when = t.created if key == "created" else t.solved
        if when is None:
            return False
        d, v = when.date(), date.fromisoformat(value)
        return d == v if op == ":" else (d < v if op == "<" else d > v)
    return None


def create_app(state: ZendeskState) -> FastAPI:
    app = marked_app("Zendesk Search API SIMULATOR", "zendesk")
    expected = "Basic " + base64.b64encode(f"{state.email}/token:{state.token}".encode()).decode()

    @app.get("/api/v2/search.json")
    def search(request: Request, query: str = "", page: int = 1, per_page: int = 100) -> Any:
        with state._lock:
            state.requests += 1
            now = time.monotonic()
            if state.fail_next > 0:
                state.fail_next -= 1
                return JSONResponse({"error": "Service Unavailable"}, status_code=503)
            if now - state._last < state.interval_s:
                state.rate_limited += 1
                wait = state.interval_s - (now - state._last)
                return JSONResponse({"error": "APIRateLimitExceeded"}, status_code=429,
                                    headers={"Retry-After": str(max(1, round(wait + 0.5)))})
            state._last = now
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)
        per_page = min(max(per_page, 1), 100)
        if page < 1 or (page - 1) * per_page >= 1000:
            return JSONResponse({"error": "Insufficient Resource Error"}, status_code=422)
        terms = query.split()
        probe = Ticket(0, datetime(2000, 1, 1), "low", "new", [], datetime(2000, 1, 1))
        if any(_match(probe, term) is None for term in terms):
            return JSONResponse({"error": "InvalidQuery", "description": "unsupported term"}, status_code=400)
        hits = [t for t in state.tickets if all(_match(t, term) for term in terms)]
        hits.sort(key=lambda t: t.id)
        window = hits[(page - 1) * per_page: page * per_page]
        base = str(request.url).split("?")[0]
        more = page * per_page < min(len(hits), 1000)
        nxt = f"{base}?{urlencode({'query': query, 'page': page + 1, 'per_page': per_page})}" if more else None
        prev = f"{base}?{urlencode({'query': query, 'page': page - 1, 'per_page': per_page})}" if page > 1 else None
        return {"results": [t.row() for t in window], "facets": None, "next_page": nxt, "previous_page": prev,
                "count": len(hits)}

    return app

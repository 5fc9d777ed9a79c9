"""xAPI Learning Record Store SIMULATOR (fake statements; not an LRS product). Marks each answer
with X-Golive-Simulator.

As xAPI 1.0.3 Part Three describes the Statement Resource: `GET /statements` with `verb`,
`activity`, `since` (stored, exclusive), `until` (stored, inclusive), `limit`, `ascending`;
answers a StatementResult `{"statements": [...], "more": "<relative IRL>" or ""}` and the
`X-Experience-API-Consistent-Through` header; a request without `X-Experience-API-Version` is 400
("Versioning"); Basic auth, else 401. `more` pages are fetched with `GET /statements?more=TOKEN`.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from golive.tasks.gates.collect.sim.app import marked_app


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class LrsState:
    username: str = "golive"
    password: str = "sim-lrs-secret"
    page_max: int = 50
    statements: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    _cursors: dict[str, tuple[list[dict[str, Any]], int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)


def create_app(state: LrsState, prefix: str = "/xapi") -> FastAPI:
    app = marked_app("xAPI LRS SIMULATOR", "xapi-lrs")
    expected = "Basic " + base64.b64encode(f"{state.username}:{state.password}".encode()).decode()

    def page(rows: list[dict[str, Any]], start: int, limit: int) -> dict[str, Any]:
        chunk = rows[start:start + limit]
        more = ""
        if start + limit < len(rows):
            with state._lock:
                token = f"c{len(state._cursors) + 1}"
                state._cursors[token] = (rows, start + limit, limit)
            more = f"{prefix}/statements?more={token}"
        return {"statements": chunk, "more": more}

    @app.get(f"{prefix}/statements")
    def statements(request: Request) -> Any:
        state.requests += 1
        if not request.headers.get("x-experience-api-version", "").startswith("1.0"):
            return JSONResponse({"error": "X-Experience-API-Version header required"}, status_code=400)
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        q = request.query_params
        headers = {"X-Experience-API-Consistent-Through": datetime.now().astimezone().isoformat(),
                   "X-Experience-API-Version": "1.0.3"}
        if q.get("more"):
            with state._lock:
                cursor = state._cursors.get(q["more"])
            if cursor is None:
                return JSONResponse({"error": "unknown more token"}, status_code=400)
            return JSONResponse(page(*cursor), headers=headers)
        try:
            since = _ts(q["since"]) if q.get("since") else None
            until = _ts(q["until"]) if q.get("until") else None
            limit = int(q.get("limit", "0")) or state.page_max
        except ValueError:
            return JSONResponse({"error": "since/until must be ISO 8601 timestamps, limit a number"}, status_code=400)
        rows = []
        for st in state.statements:
            stored = _ts(st["stored"])
            if (q.get("verb") and st["verb"]["id"] != q["verb"]) or (
                    q.get("activity") and st["object"].get("id") != q["activity"]):
                continue
            if (since is not None and stored <= since) or (until is not None and stored > until):
                continue
            rows.append(st)
        rows.sort(key=lambda s: s["stored"], reverse=q.get("ascending", "false") != "true")
        return JSONResponse(page(rows, 0, min(limit, state.page_max)), headers=headers)

    return app

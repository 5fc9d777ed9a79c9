"""The FastAPI app every metric-source simulator starts from: each response says it is a simulator."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from golive.tasks.gates.collect.sim import SIMULATOR_HEADER


def marked_app(title: str, name: str) -> FastAPI:
    """An app whose every response carries `X-Golive-Simulator: <name>`."""
    app = FastAPI(title=title)

    @app.middleware("http")
    async def mark(request: Request, call_next: Any) -> Any:
        resp = await call_next(request)
        resp.headers[SIMULATOR_HEADER] = name
        return resp

    return app

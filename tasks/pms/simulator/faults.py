"""Fault injection for the simulator: a pure ASGI middleware in front of the API routes.

Per request (seeded RNG, so a sequential test sees the same faults every run): latency, then a
429 with `Retry-After`, then a 5xx, each by its rate; for writes, "drop after commit" lets the
route commit and then breaks the connection mid-response, so the client never learns the outcome.
It also counts requests sent while a Retry-After was still running (`retry_after_violations`).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from golive.tasks.pms.simulator import SIMULATOR_HEADER, SIMULATOR_NAME

Scope = dict[str, Any]


@dataclass
class FaultConfig:
    error_rate: float = 0.0  # share of requests answered 500/502/503
    rate_limit_rate: float = 0.0  # share answered 429
    retry_after_s: float = 1.0
    latency_s: float = 0.0
    drop_after_commit_rate: float = 0.0  # share of writes whose response is lost after commit
    seed: int = 0


@dataclass
class FaultStats:
    requests: int = 0
    errors: int = 0
    rate_limited: int = 0
    dropped: int = 0
    retry_after_violations: int = 0
    writes: int = 0


class DroppedResponse(Exception):
    """Raised after a committed write to make the server close the connection mid-response."""


@dataclass
class FaultState:
    config: FaultConfig = field(default_factory=FaultConfig)
    stats: FaultStats = field(default_factory=FaultStats)
    rng: random.Random = field(default_factory=random.Random)
    blocked_until: dict[str, float] = field(default_factory=dict)  # per Authorization header
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, **values: Any) -> None:
        with self.lock:
            for k, v in values.items():
                if not hasattr(self.config, k):
                    raise KeyError(k)
                setattr(self.config, k, type(getattr(self.config, k))(v))
            self.rng = random.Random(self.config.seed)
            self.stats = FaultStats()
            self.blocked_until.clear()


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


class FaultInjector:
    def __init__(self, app: Any, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (SIMULATOR_HEADER.encode(), SIMULATOR_NAME.encode())]
            await send(message)

        path: str = scope.get("path", "")
        if not path.startswith("/api/"):
            await self.app(scope, receive, marked_send)
            return

        st = self.state
        write = scope.get("method", "GET") in ("POST", "PUT", "DELETE")
        who = _header(scope, b"authorization")
        with st.lock:
            cfg = st.config
            st.stats.requests += 1
            st.stats.writes += int(write)
            now = time.monotonic()
            throttled_early = now < st.blocked_until.get(who, 0.0)
            if throttled_early:
                st.stats.retry_after_violations += 1
            roll_429, roll_5xx, roll_drop = st.rng.random(), st.rng.random(), st.rng.random()
            fault: str | None = None
            if throttled_early or roll_429 < cfg.rate_limit_rate:
                fault = "429"
                st.stats.rate_limited += 1
                st.blocked_until[who] = now + cfg.retry_after_s
            elif roll_5xx < cfg.error_rate:
                fault = "5xx"
                st.stats.errors += 1
            elif write and roll_drop < cfg.drop_after_commit_rate:
                fault = "drop"
                st.stats.dropped += 1
            latency, retry_after = cfg.latency_s, cfg.retry_after_s

        if latency:
            await asyncio.sleep(latency)
        if fault == "429":
            await _plain(marked_send, 429, "Too many requests. Please retry later.",
                         [(b"retry-after", f"{retry_after:g}".encode())])
            return
        if fault == "5xx":
            status = (500, 502, 503)[int(roll_5xx * 1000) % 3]
            await _plain(marked_send, status, "Service temporarily unavailable (simulated fault).")
            return
        if fault == "drop":
            async def swallow(message: dict[str, Any]) -> None:
                return None  # the route's answer never leaves the server

            await self.app(scope, receive, swallow)  # the write commits here
            await marked_send({"type": "http.response.start", "status": 200,
                               "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
            await marked_send({"type": "http.response.body", "body": b'{"', "more_body": True})
            raise DroppedResponse("simulated: response dropped after the write committed")
        await self.app(scope, receive, marked_send)


async def _plain(send: Any, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(text).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})

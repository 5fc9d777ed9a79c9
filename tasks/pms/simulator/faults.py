"""Throttling and fault injection for the simulator: a pure ASGI middleware in front of the API routes.

Throttling as Open Dental documents it (apiimplementation.html, "Throttling"): one request per
`throttle_s` per customer key (5 s for ApiReadAll developers, 1 s with other permissions), the time
including the request's own execution. What the real API does with a request that comes too early
is not documented; the simulator holds it until its slot and counts it (`throttled`), so a test can
prove a client paces itself (`throttled == 0`). Arrival jitter of up to a tenth of the interval is
not counted.

Faults, per request (seeded RNG, so a sequential test sees the same faults every run): latency,
then a 429 with `Retry-After` (not documented by Open Dental: off unless set, to prove a client
would still honour one), then a 504 Gateway Time-out (documented: past the 60 s limit), then a
transient 400 naming the eConnector (documented as a cause of 400; its wording is not), each by
its rate; for writes, "drop after commit" lets the route commit and then breaks the connection
mid-response, so the client never learns the outcome. Requests sent while a Retry-After was still
running are counted (`retry_after_violations`).
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
    throttle_s: float = 5.0  # documented: one request per 5 s (ApiReadAll); tests scale it down
    error_rate: float = 0.0  # share of requests answered 504
    transient_400_rate: float = 0.0  # share answered 400 "eConnector ..." (transient, documented cause)
    rate_limit_rate: float = 0.0  # share answered 429 (undocumented; off by default)
    retry_after_s: float = 1.0
    latency_s: float = 0.0
    drop_after_commit_rate: float = 0.0  # share of writes whose response is lost after commit
    seed: int = 0


@dataclass
class FaultStats:
    requests: int = 0
    throttled: int = 0  # requests that came before their customer key's slot
    errors: int = 0
    transient_400: int = 0
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
    next_slot: dict[str, float] = field(default_factory=dict)  # per Authorization header (customer key)
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
            self.next_slot.clear()


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
            slot = st.next_slot.get(who, 0.0)
            if now < slot - cfg.throttle_s / 10:
                st.stats.throttled += 1
            start = max(now, slot)
            st.next_slot[who] = start + cfg.throttle_s
            retry_after_running = now < st.blocked_until.get(who, 0.0)
            if retry_after_running:
                st.stats.retry_after_violations += 1
            roll_429, roll_5xx, roll_400, roll_drop = (st.rng.random(), st.rng.random(), st.rng.random(),
                                                       st.rng.random())
            fault: str | None = None
            if retry_after_running or roll_429 < cfg.rate_limit_rate:
                fault = "429"
                st.stats.rate_limited += 1
                st.blocked_until[who] = now + cfg.retry_after_s
            elif roll_5xx < cfg.error_rate:
                fault = "504"
                st.stats.errors += 1
            elif roll_400 < cfg.transient_400_rate:
                fault = "400"
                st.stats.transient_400 += 1
            elif write and roll_drop < cfg.drop_after_commit_rate:
                fault = "drop"
                st.stats.dropped += 1
            latency, retry_after = cfg.latency_s, cfg.retry_after_s

        if start > now:  # held until the customer key's slot, as the throttle would
            await asyncio.sleep(start - now)
        if latency:
            await asyncio.sleep(latency)
        if fault == "429":
            await _plain(marked_send, 429, "Too many requests. Please retry later.",
                         [(b"retry-after", f"{retry_after:g}".encode())])
            return
        if fault == "504":
            await _plain(marked_send, 504, "Gateway Time-out (simulated fault).")
            return
        if fault == "400":
            await _plain(marked_send, 400, "The eConnector is not running at the dental office (simulated fault).")
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

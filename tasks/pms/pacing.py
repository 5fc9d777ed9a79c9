"""Client-side pacing for the Open Dental API, one pacer per location.

Open Dental's documentation (apiimplementation.html, "Throttling"): customers of a developer with
only the ApiReadAll permission are "throttled to one request per five seconds. This time includes
the execution of the request itself"; with any other API permission "one request per one second";
"Throttling occurs on a per customer key basis"; the Local API and the API Service "are not
throttled at all". There is no 429 and no Retry-After in that model, so the client paces itself:
request starts are at least `interval_s` apart, for every connector of the same location in this
process (the steps of one runbook share it). A Retry-After, should one ever come, pushes the next
start further out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

READ_ALL_INTERVAL_S = 5.0
EXTENDED_INTERVAL_S = 1.0


class Throttle(str, Enum):
    """What the organization says about its API permissions (`pms.connection.throttle`)."""

    READ_ALL = "read_all"  # only ApiReadAll: one request per 5 s (the default)
    EXTENDED = "extended"  # any other API permission: one request per 1 s
    LOCAL = "local"  # the Local API or the API Service at the office: not throttled

    @property
    def interval_s(self) -> float:
        return {"read_all": READ_ALL_INTERVAL_S, "extended": EXTENDED_INTERVAL_S, "local": 0.0}[self.value]


@dataclass
class Pacer:
    """Reserves request start times `interval_s` apart; thread-safe, clock and sleep injected."""

    interval_s: float = READ_ALL_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next_start: float = field(default=float("-inf"), repr=False)
    _blocked_until: float = field(default=float("-inf"), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait(self) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next_start, self._blocked_until)
            self._next_start = start + self.interval_s
        delay = start - now
        if delay > 0:
            self.sleep(delay)
        return max(delay, 0.0)

    def block_for(self, seconds: float) -> None:
        """A Retry-After: nothing starts before `seconds` from now (plus a millisecond of margin,
        since the server's clock started before our response arrived)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + seconds + 0.001)

    def estimate_s(self, requests: int) -> float:
        """Wall time of `requests` requests under this pacing (each one's slot, when each takes less
        than the interval): the figure `golive pms check` shows before each check."""
        return requests * self.interval_s


_SHARED: dict[str, Pacer] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacer(key: str, interval_s: float) -> Pacer:
    """The one pacer of a location (its customer key) in this process; a new interval replaces the old."""
    with _SHARED_LOCK:
        pacer = _SHARED.get(key)
        if pacer is None or pacer.interval_s != interval_s:
            pacer = _SHARED[key] = Pacer(interval_s)
        return pacer


def describe(interval_s: float) -> str:
    if interval_s <= 0:
        return "not paced (Local API / API Service)"
    return f"1 request / {interval_s:g} s"


def duration(seconds: float) -> str:
    """`7 min 20 s`, `45 s`, `0.4 s`."""
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 and seconds != int(seconds) else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"

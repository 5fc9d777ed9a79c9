"""The program's clock: the real time, or a simulated one for a whole-program rehearsal.

A run's start (its "today", its due dates) and a deadline check's "now" read this clock, so
`golive rehearse` can run the shipped runbooks on simulated days. A module-level setting, not a
context variable: steps run in worker threads, which must see the same simulated day as the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current time (aware, UTC): the simulated one while `simulated` is in force."""
    return _source() if _source is not None else datetime.now(UTC)


def is_simulated() -> bool:
    return _source is not None


@contextmanager
def simulated(source: Callable[[], datetime]) -> Iterator[None]:
    """Let `now()` answer from `source` (e.g. a rehearsal's current simulated instant)."""
    global _source
    before, _source = _source, source
    try:
        yield
    finally:
        _source = before

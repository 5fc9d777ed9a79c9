"""Retry policy for PMS calls (tenacity): exponential backoff with jitter for idempotent calls, and a
read-before-write loop that makes a non-idempotent create safe to retry.

Throttling (`Retry-After`) is honoured by the connector's gate before every request; the backoff
here only adds to it, never shortens it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from golive.tasks.pms.protocol import PmsRateLimited, PmsUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_s: float = 0.5
    max_s: float = 20.0
    jitter_s: float = 0.5
    max_retry_after_s: float = 300.0  # a longer Retry-After fails the call instead of stalling the run


def retryable(exc: BaseException, policy: RetryPolicy) -> bool:
    if isinstance(exc, PmsRateLimited):
        return exc.retry_after <= policy.max_retry_after_s
    return isinstance(exc, PmsUnavailable)


def retrying(policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> Retrying:
    return Retrying(
        retry=retry_if_exception(lambda e: retryable(e, policy)),
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential_jitter(initial=policy.initial_s, max=policy.max_s, jitter=policy.jitter_s),
        sleep=sleep,
        reraise=True,
    )


def call(fn: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run an idempotent call with retries."""
    for attempt in retrying(policy, sleep):
        with attempt:
            return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def write_once(
    find: Callable[[], T | None],
    create: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """Create something at most once: each attempt first looks for what an earlier attempt (whose
    response was lost) may already have created. Returns (result, created_by_this_call)."""
    for attempt in retrying(policy, sleep):
        with attempt:
            found = find()
            if found is not None:
                return found, False
            return create(), True
    raise AssertionError("unreachable")  # pragma: no cover

"""HTTP health probe of the platform endpoint: one availability sample per call.

A probe never raises for the endpoint's sake: a timeout, a refused connection or an unexpected
status is a failed sample (that is what availability measures). Timeouts are explicit (connect,
read, write, pool); the stored target drops credentials and the query string.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.gates.repository import ProbeSample

log = logging.getLogger(__name__)


def safe_target(url: str) -> str:
    """scheme://host[:port]/path — no user info, query or fragment (they may carry tokens)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserInputError(f"probe url must be http(s)://host/...: {url!r}")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path or "/", "", ""))


def utc_now() -> datetime:
    """The probe's clock; tests replace it so that samples land on a known day."""
    return datetime.now(UTC)


def probe(
    url: str,
    *,
    location: str,
    timeout_s: float = 5.0,
    connect_timeout_s: float = 3.0,
    expect_status: Sequence[int] = (),
    client: httpx.Client | None = None,
) -> ProbeSample:
    """GET `url` once; ok when the status is in `expect_status` (default: any 2xx)."""
    target = safe_target(url)
    timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
    started = time.perf_counter()
    checked_at = utc_now()
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        response = http.get(url, timeout=timeout)
        latency = (time.perf_counter() - started) * 1000
        ok = response.status_code in expect_status if expect_status else 200 <= response.status_code < 300
        return ProbeSample(location, target, checked_at, ok, response.status_code, round(latency, 2),
                           None if ok else f"unexpected status {response.status_code}")
    except httpx.TimeoutException as exc:
        return ProbeSample(location, target, checked_at, False, None, None, f"timeout ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return ProbeSample(location, target, checked_at, False, None, None, f"{type(exc).__name__}: {exc}"[:255])
    finally:
        if own:
            http.close()

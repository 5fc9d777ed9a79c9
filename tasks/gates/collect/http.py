"""A paced, retried JSON-over-HTTP client for the collectors' REST sources (Zendesk, xAPI).

Each source gets its own pacing (request starts at least `interval_s` apart, `Pacer` from the PMS
area: one implementation of pacing), its own retries (429 with Retry-After, 5xx and transport
errors; tenacity's exponential backoff) and one clear error, `SourceError`, naming the source and
what failed, never a credential or a query value that could hold personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from golive.tasks.foundation.errors import GoliveError
from golive.tasks.pms.pacing import Pacer

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class SourceError(GoliveError):
    """A metric source could not be read (unreachable, refused, bad answer): its days are missing."""


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class PacedClient:
    source: str
    base_url: str
    headers: Mapping[str, str]
    auth: tuple[str, str] | None = None
    pacer: Pacer | None = None
    attempts: int = 4
    timeout_s: float = 15.0
    max_retry_after_s: float = 120.0
    allow_insecure_local: bool = False
    requests: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        local = self.allow_insecure_local and parts.hostname in LOOPBACK
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise SourceError(f"{self.source}: base_url must be https:// (plain http only to a loopback "
                              f"simulator with allow_insecure_local), got {parts.scheme or 'no'} scheme")
        self.pacer = self.pacer or Pacer(0.0)
        self._client = httpx.Client(headers=dict(self.headers), auth=self.auth, timeout=self.timeout_s,
                                    follow_redirects=False)

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        for attempt in Retrying(retry=retry_if_exception_type(_Transient), stop=stop_after_attempt(self.attempts),
                                wait=wait_exponential_jitter(initial=0.2, max=5.0, jitter=0.2), reraise=True):
            with attempt:
                try:
                    return self._once(path, params)
                except _Transient as exc:
                    if attempt.retry_state.attempt_number >= self.attempts:
                        raise SourceError(f"{self.source}: {exc} (after {self.attempts} attempts)") from None
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, path: str, params: Mapping[str, Any] | None) -> Any:
        assert self.pacer is not None
        self.pacer.wait()
        self.requests += 1
        try:
            resp = self._client.get(self.url(path), params=dict(params) if params else None)  # keep a next-page URL's query
        except httpx.TransportError as exc:
            raise _Transient(f"unreachable ({type(exc).__name__})") from None
        if resp.status_code == 429:
            try:
                wait = float(resp.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            if wait > self.max_retry_after_s:
                raise SourceError(f"{self.source}: rate limited, Retry-After {wait:g} s is too long to wait")
            self.pacer.block_for(wait)
            raise _Transient(f"rate limited (429, Retry-After {wait:g} s)", wait)
        if resp.status_code >= 500:
            raise _Transient(f"server error {resp.status_code}")
        if resp.status_code in (401, 403):
            raise SourceError(f"{self.source}: credentials refused ({resp.status_code}); check the secret reference")
        if resp.status_code >= 400:
            raise SourceError(f"{self.source}: request refused ({resp.status_code}) by {urlsplit(resp.url.path).path}")
        try:
            return resp.json()
        except ValueError:
            raise SourceError(f"{self.source}: answer is not JSON ({resp.headers.get('content-type', '?')})") from None

    def close(self) -> None:
        self._client.close()


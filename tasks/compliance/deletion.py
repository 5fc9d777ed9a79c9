"""The deletion-on-request workflow, tested end to end on the designated test patient.

1. Seed: the test patient and one synthetic study exist on the platform (the workflow deletes
   them, so each run puts them back first; nothing real is touched).
2. Request erasure (with an `Idempotency-Key`, so a retried request is the same request).
3. Wait for the request to complete, within `max_wait_s`.
4. Prove it is gone through the API: the patient, its studies and the study search all come back
   empty. Anything still there fails the check, naming what remained.
The test patient's reference never appears in results or evidence: they say "the test patient".
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from golive.tasks.compliance.endpoint import base_url
from golive.tasks.foundation import crash
from golive.tasks.foundation.errors import ConnectorError
from golive.tasks.foundation.secrets import Secret


class PlatformError(ConnectorError):
    """The platform API refused a call or answered in a way the workflow cannot use."""


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class DeletionResult:
    steps: tuple[Step, ...]
    request_id: str | None
    remaining: tuple[str, ...]  # what the API still returned after erasure

    @property
    def passed(self) -> bool:
        return all(s.ok for s in self.steps) and not self.remaining

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "request_id": self.request_id, "remaining": list(self.remaining),
                "steps": [{"step": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeletionResult:
        """The result `to_dict` recorded (a resume reports it instead of calling the platform again)."""
        return cls(tuple(Step(str(s["step"]), bool(s["ok"]), str(s["detail"])) for s in d.get("steps", [])),
                   d.get("request_id"), tuple(d.get("remaining", [])))


class PlatformClient:
    """The few platform API calls the workflow makes (bearer token; explicit timeouts)."""

    def __init__(self, url: str, token: Secret, *, ca_file: str | None = None, timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(base_url=base_url(url, "platform API URL"), timeout=timeout_s, transport=transport,
                                    headers={"Authorization": f"Bearer {token.reveal()}"},
                                    verify=ca_file if ca_file else True)

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def call(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
             ok: tuple[int, ...] = (200, 201, 202)) -> httpx.Response:
        try:
            response = self._client.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise PlatformError(f"{method} {path.split('/')[1] if '/' in path else path}: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise PlatformError(f"the platform refused the API token ({response.status_code})")
        if response.status_code not in ok:
            raise PlatformError(f"{method} {_shape(path)}: HTTP {response.status_code}")
        return response


def _shape(path: str) -> str:
    """The path with the test patient's reference blanked, for messages."""
    parts = path.split("/")
    return "/".join("{patient}" if i > 0 and parts[i - 1] == "patients" else p for i, p in enumerate(parts))


def run_deletion(client: PlatformClient, test_patient: str, *, max_wait_s: float = 60.0, poll_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 key: str | None = None, resumed: bool = False) -> DeletionResult:
    """Seed, erase, wait, verify; every step recorded, the first hard failure ends the run.

    `key`: the erasure request's `Idempotency-Key` (a run's intent key; default one per call).
    `resumed`: an earlier attempt with this key may have seeded and requested already: ask for the
    erasure first (the platform answers a known key with the earlier request, without erasing
    again) and seed only when the test patient is not there (the attempt died before seeding)."""
    ref = quote(test_patient, safe="")
    steps: list[Step] = []
    key = key or secrets.token_hex(16)  # a retried POST with one key is the same request

    def request() -> Any:
        return client.call("POST", "/deletion-requests", json={"patient": test_patient},
                           headers={"Idempotency-Key": key}, ok=(200, 201, 202, 404))

    answer = request() if resumed else None
    if answer is not None and answer.status_code != 404:
        steps.append(Step("seed", True, "seeded by an earlier attempt of this run; its erasure request resumed"))
    else:
        client.call("PUT", f"/patients/{ref}", json={"test": True})
        client.call("POST", f"/patients/{ref}/studies", json={"modality": "CT", "synthetic": True})
        before = client.call("GET", f"/patients/{ref}/studies").json().get("items", [])
        steps.append(Step("seed", bool(before), f"the test patient has {len(before)} synthetic study(ies) before erasure"))
        answer = request()
        if answer.status_code == 404:
            raise PlatformError("POST /deletion-requests answered 404 for the test patient just seeded")
    created = answer.json()
    crash.point("compliance.deletion_test", "requested")  # the harness: killed with the request made
    request_id = str(created.get("id") or "")
    steps.append(Step("request", bool(request_id), f"erasure request {request_id or '(no id)'} accepted"))
    deadline = clock() + max_wait_s
    status = str(created.get("status", ""))
    while status != "completed":
        status = str(client.call("GET", f"/deletion-requests/{quote(request_id, safe='')}").json().get("status", ""))
        if status == "completed":
            break
        if status not in ("pending", "running", "accepted"):
            steps.append(Step("complete", False, f"the request ended {status or 'without a status'}"))
            return DeletionResult(tuple(steps), request_id, ())
        if clock() >= deadline:
            steps.append(Step("complete", False, f"not completed within {max_wait_s:.0f} s (still {status})"))
            return DeletionResult(tuple(steps), request_id, ())
        sleep(poll_s)  # the platform erases asynchronously; its status is the only signal
    steps.append(Step("complete", True, "the platform reports the erasure complete"))
    remaining = []
    if client.call("GET", f"/patients/{ref}", ok=(200, 404)).status_code != 404:
        remaining.append("the patient record")
    listed = client.call("GET", f"/patients/{ref}/studies", ok=(200, 404))
    if listed.status_code == 200 and listed.json().get("items"):
        remaining.append(f"{len(listed.json()['items'])} study(ies) under the patient")
    found = client.call("GET", f"/studies?patient={ref}").json().get("items", [])
    if found:
        remaining.append(f"{len(found)} study(ies) in the study search")
    steps.append(Step("verify", not remaining, "nothing of the test patient is left" if not remaining
                      else "still returned: " + "; ".join(remaining)))
    return DeletionResult(tuple(steps), request_id, tuple(remaining))

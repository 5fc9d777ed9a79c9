"""A gate's decision with the evidence for every criterion, as frozen values that serialise to JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from golive.tasks.gates.criteria import Status


class Decision(str, Enum):
    GO = "go"
    NO_GO = "no-go"
    INCONCLUSIVE = "inconclusive"


def clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, tuples to lists, enums to values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class LocationResult:
    """One location's (or, for wave scope, the wave's) result for a criterion."""

    location: str
    status: Status
    n: int
    value: float | None = None
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return clean({"location": self.location, "status": self.status, "n": self.n, "value": self.value,
                      "detail": self.detail, **self.evidence})


@dataclass(frozen=True)
class CriterionResult:
    id: str
    title: str
    metric: str
    test: str
    scope: str
    window: str
    critical: bool
    status: Status
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    results: tuple[LocationResult, ...] = ()
    weight: float = 1.0

    @property
    def failing(self) -> list[str]:
        return [r.location for r in self.results if r.status is Status.FAIL]

    def to_dict(self) -> dict[str, Any]:
        return clean({
            "id": self.id, "title": self.title, "metric": self.metric, "test": self.test,
            "scope": self.scope, "window": self.window, "critical": self.critical,
            "status": self.status, "reason": self.reason, "evidence": self.evidence,
            "results": [r.to_dict() for r in self.results],
        })


@dataclass(frozen=True)
class Verdict:
    gate: str
    decision: Decision
    as_of: date
    criteria: tuple[CriterionResult, ...]
    score: float  # passed weight / total weight, as Kayenta's canary score (informational)
    reasons: tuple[str, ...] = ()

    def criterion(self, cid: str) -> CriterionResult:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def to_dict(self) -> dict[str, Any]:
        return clean({
            "gate": self.gate, "verdict": self.decision, "as_of": self.as_of, "score": round(self.score, 4),
            "reasons": list(self.reasons), "criteria": [c.to_dict() for c in self.criteria],
        })

    def table(self) -> list[dict[str, Any]]:
        """One row per criterion, for a Prefect table artifact or a report."""
        return [
            clean({
                "criterion": c.title or c.id, "metric": c.metric, "test": c.test, "scope": c.scope,
                "window": c.window, "critical": c.critical, "status": c.status, "reason": c.reason,
            })
            for c in self.criteria
        ]


def decide(results: tuple[CriterionResult, ...]) -> tuple[Decision, tuple[str, ...]]:
    """Any critical failure is no-go; otherwise any inconclusive criterion makes it inconclusive.

    A failing non-critical criterion alone does not block; it is named in the reasons.
    """
    crit_fail = [c for c in results if c.status is Status.FAIL and c.critical]
    inconclusive = [c for c in results if c.status is Status.INCONCLUSIVE]
    soft_fail = [c for c in results if c.status is Status.FAIL and not c.critical]
    reasons = [f"failed (critical): {c.title or c.id}: {c.reason}" for c in crit_fail]
    reasons += [f"inconclusive: {c.title or c.id}: {c.reason}" for c in inconclusive]
    reasons += [f"failed (non-critical): {c.title or c.id}: {c.reason}" for c in soft_fail]
    if crit_fail:
        return Decision.NO_GO, tuple(reasons)
    if inconclusive:
        return Decision.INCONCLUSIVE, tuple(reasons)
    return Decision.GO, tuple(reasons)

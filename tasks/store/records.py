"""Frozen values the store hands out; callers never see ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    run_key: str
    runbook: str
    parameters: dict[str, Any]
    state: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class StepRecord:
    id: int
    run_id: str
    run_key: str
    step_key: str
    step_id: str
    state: str
    input_hash: str
    outputs: dict[str, Any]
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class ApprovalRecord:
    id: int
    run_id: str
    step_key: str
    decision: str
    name: str
    role: str
    comment: str
    decided_at: datetime

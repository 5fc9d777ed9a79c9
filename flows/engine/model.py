"""The validated runbook as frozen values. Built only by `golive.flows.engine.validate`, after every check passed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from golive.tasks.foundation.durations import Due


class OnFailure(str, Enum):
    HALT = "halt"
    CONTINUE = "continue"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Position:
    """1-based line and column of a node in its source file."""

    line: int
    column: int


@dataclass(frozen=True)
class StepBody:
    """What a step runs: a registered kind and its (still templated) `with:` mapping."""

    uses: str
    with_: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    id: str
    body: StepBody
    title: str | None = None
    needs: tuple[str, ...] = ()
    when: str | None = None  # bare Jinja expression
    for_each: str | None = None  # bare Jinja expression giving a list
    retries: int = 0
    retry_delay_s: float = 0.0
    timeout_s: float | None = None
    owner: str | None = None
    due: Due | None = None
    on_failure: OnFailure = OnFailure.HALT
    undo: StepBody | None = None
    position: Position = Position(1, 1)

    @property
    def uses(self) -> str:
        return self.body.uses


@dataclass(frozen=True)
class Metadata:
    name: str
    title: str | None = None
    phase: str | None = None
    owner: str | None = None
    description: str | None = None
    due_calendar: str = "run"  # run: due dates count from the run start; wave: from the wave's stored plan
    timeline: str | None = None  # the parameter that dates the run on the program's timeline (flows/engine/timeline.py)


@dataclass(frozen=True)
class Runbook:
    source: Path
    metadata: Metadata
    parameters: dict[str, dict[str, Any]]  # name -> JSON-Schema property (with optional default)
    steps: tuple[Step, ...]
    on_failure: tuple[Step, ...] = ()

    @property
    def name(self) -> str:
        return self.metadata.name

    def step(self, step_id: str) -> Step:
        for s in (*self.steps, *self.on_failure):
            if s.id == step_id:
                return s
        raise KeyError(step_id)

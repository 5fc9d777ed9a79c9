"""What a step kind sees while it runs. Plain Python: no Prefect import, so kinds stay unit-testable."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from golive.tasks.foundation import clock
from golive.tasks.foundation.dues import DueCalendar


class ArtifactSink(Protocol):
    """Where a kind publishes things for people to see (Prefect artifacts in a flow run)."""

    def table(self, key: str, rows: Sequence[Mapping[str, Any]], description: str = "") -> None: ...

    def markdown(self, key: str, text: str, description: str = "") -> None: ...

    def link(self, key: str, target: str, description: str = "") -> None: ...


class NullArtifacts:
    """Artifact sink for unit tests and plain-Python use: keeps what was published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, Any]] = []

    def table(self, key: str, rows: Sequence[Mapping[str, Any]], description: str = "") -> None:
        self.published.append(("table", key, list(rows)))

    def markdown(self, key: str, text: str, description: str = "") -> None:
        self.published.append(("markdown", key, text))

    def link(self, key: str, target: str, description: str = "") -> None:
        self.published.append(("link", key, target))


@dataclass(frozen=True)
class InputRequest:
    """A human decision a step needs before it can run (approval, or confirming manual items)."""

    kind: Literal["approval", "confirm"]
    step_key: str
    question: str
    approvers: tuple[str, ...] = ()
    items: tuple[tuple[str, str], ...] = ()  # (item id, text) to confirm
    owners: tuple[str | None, ...] = ()  # per item, as in `items`
    dues: tuple[str | None, ...] = ()  # per item: relative due ("week 1 day 3")


@dataclass(frozen=True)
class Approval:
    decision: Literal["approve", "reject"]
    name: str
    role: str
    comment: str = ""


@dataclass(frozen=True)
class Confirmation:
    confirmed: frozenset[str]
    name: str = ""
    comment: str = ""


HumanInput = Approval | Confirmation


@dataclass
class StepContext:
    """Run facts and services handed to a step kind's `run(ctx, params)`.

    `evaluate` evaluates a bare expression (`that:`, `check:`) in the step's scope; `audit`
    appends to the hash-chained audit log; `store` is the shared `golive.tasks.store.Store` (or None in
    plain unit tests).
    """

    run_id: str
    run_key: str
    runbook: str
    step_id: str
    step_key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    org: Any = None
    item: Any = None
    store: Any = None
    out_dir: Path = Path("out")
    human_input: HumanInput | None = None
    run_started: datetime | None = None  # the run's real start: a document's `created` property
    timeline_day: date | None = None  # the run's day on the program's plan: cover, "as of" and due dates
    dues: DueCalendar | None = None  # what `due:` dates count from (the run's start, or its wave's plan)
    scope: Mapping[str, Any] = field(default_factory=dict)  # the expression scope, for templates
    artifacts: ArtifactSink = field(default_factory=NullArtifacts)
    evaluate: Callable[[str], Any] = lambda expr: (_ for _ in ()).throw(  # noqa: E731
        NotImplementedError("no expression scope in this context")
    )
    audit: Callable[[str, Mapping[str, Any]], None] = lambda event, data: None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("golive.step"))

    def today(self) -> date:
        """The run's day on the program's timeline: what documents are dated and "as of" by
        (flows/engine/timeline.py); outside a run, its start day or the program clock's day."""
        if self.timeline_day is not None:
            return self.timeline_day
        return (self.run_started or clock.now()).date()

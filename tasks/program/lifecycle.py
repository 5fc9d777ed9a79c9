"""A location's lifecycle as an explicit state machine: a table of allowed transitions, each with
the playbook rule it stands for. An illegal transition names the state, the target and the rule.

A plain table rather than a state-machine library: the states carry no behaviour, only the
question "may X become Y", and the table is what the error message and the README quote.
"""

from __future__ import annotations

from enum import StrEnum

from golive.tasks.foundation.errors import StepFailed


class State(StrEnum):
    ASSESSED = "assessed"
    SCHEDULED = "scheduled"
    CONFIGURING = "configuring"
    TRAINING = "training"
    PARALLEL_RUN = "parallel_run"
    LIVE = "live"
    STABILISED = "stabilised"
    DEFERRED = "deferred"
    PAUSED = "paused"
    ROLLED_BACK = "rolled_back"


S = State
# Where each state may go next. `None` is a location the program has not seen yet.
ALLOWED: dict[State | None, frozenset[State]] = {
    None: frozenset({S.ASSESSED, S.SCHEDULED, S.DEFERRED}),
    S.ASSESSED: frozenset({S.SCHEDULED, S.DEFERRED}),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.CONFIGURING, S.DEFERRED, S.PAUSED}),
    S.CONFIGURING: frozenset({S.TRAINING, S.PAUSED, S.DEFERRED}),
    S.TRAINING: frozenset({S.PARALLEL_RUN, S.PAUSED}),
    S.PARALLEL_RUN: frozenset({S.LIVE, S.PAUSED}),
    S.LIVE: frozenset({S.STABILISED, S.ROLLED_BACK, S.PAUSED}),
    S.STABILISED: frozenset({S.ROLLED_BACK}),
    S.DEFERRED: frozenset({S.ASSESSED, S.SCHEDULED}),
    S.PAUSED: frozenset(),  # resumes only to the state it was paused in (see `check`)
    S.ROLLED_BACK: frozenset({S.SCHEDULED, S.DEFERRED}),
}

# The rule each state's exits stand for, quoted when a transition is refused.
RULES: dict[State | None, str] = {
    None: "a location enters the program assessed, scheduled in a wave, or deferred",
    S.ASSESSED: "an assessed location is scheduled into a wave or deferred",
    S.SCHEDULED: "a scheduled location is configured first (or re-waved, deferred, paused)",
    S.CONFIGURING: "configuration comes before training",
    S.TRAINING: "staff training comes before the parallel run",
    S.PARALLEL_RUN: "only a parallel run leads to go-live",
    S.LIVE: "a live location stabilises, rolls back or pauses",
    S.STABILISED: "a stabilised location can only roll back",
    S.DEFERRED: "a deferred location is re-assessed or scheduled into a later wave after remediation",
    S.PAUSED: "a paused location resumes only to the state it was paused in",
    S.ROLLED_BACK: "a rolled-back location is re-scheduled into a later wave or deferred",
}


class IllegalTransition(StepFailed):
    """A lifecycle change the state machine does not allow."""


def parse_state(value: str) -> State:
    try:
        return State(str(value).strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        raise IllegalTransition(f"unknown lifecycle state {value!r}; states: {', '.join(s.value for s in State)}") from None


def check(location: str, current: State | None, target: State, paused_from: State | None = None) -> None:
    """Raise `IllegalTransition` unless `current -> target` is allowed."""
    if current is S.PAUSED:
        if target is paused_from or target in (S.DEFERRED, S.ROLLED_BACK):
            return
    elif target in ALLOWED[current]:
        return
    shown = current.value if current is not None else "not in the program"
    raise IllegalTransition(f"{location}: illegal transition {shown} -> {target.value} "
                            f"(rule: {RULES[current]}"
                            + (f"; it was paused in {paused_from.value}" if current is S.PAUSED and paused_from else "")
                            + ")")

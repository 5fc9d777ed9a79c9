"""The lifecycle table and go-live slots, as plain functions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golive.tasks.program.lifecycle import ALLOWED, IllegalTransition, State, check, parse_state
from golive.tasks.program.slots import DAY_CAP, SlotBook, monday


def test_the_happy_path_is_allowed_in_order() -> None:
    path = [None, State.ASSESSED, State.SCHEDULED, State.CONFIGURING, State.TRAINING, State.PARALLEL_RUN,
            State.LIVE, State.STABILISED]
    for a, b in zip(path, path[1:], strict=False):
        check("x", a, b)  # type: ignore[arg-type]


def test_an_illegal_transition_names_state_target_and_rule() -> None:
    with pytest.raises(IllegalTransition, match=r"lakeview: illegal transition scheduled -> live \(rule: a scheduled "
                                                r"location is configured first"):
        check("lakeview", State.SCHEDULED, State.LIVE)


def test_paused_resumes_only_where_it_paused() -> None:
    check("x", State.PAUSED, State.TRAINING, paused_from=State.TRAINING)
    with pytest.raises(IllegalTransition, match="it was paused in training"):
        check("x", State.PAUSED, State.LIVE, paused_from=State.TRAINING)


def test_unknown_state_is_refused_with_the_list() -> None:
    with pytest.raises(IllegalTransition, match="unknown lifecycle state 'golden'"):
        parse_state("golden")
    assert parse_state("parallel run") is State.PARALLEL_RUN


@given(st.sampled_from([None, *State]), st.sampled_from(list(State)))
def test_every_pair_is_either_allowed_or_refused_with_a_rule(a: State | None, b: State) -> None:
    if a is State.PAUSED:
        return
    if b in ALLOWED[a]:
        check("x", a, b)
    else:
        with pytest.raises(IllegalTransition, match="rule: "):
            check("x", a, b)


def test_day_cap_and_week_cap_and_weekends() -> None:
    wed = date(2026, 6, 3)
    book = SlotBook.of([(f"l{i}", wed, 2) for i in range(DAY_CAP)])
    assert "already has 3 go-lives" in (book.why_full(wed, 2) or "")
    assert book.next_free(wed, 2) == date(2026, 6, 4)
    assert "not a business day" in (book.why_full(date(2026, 6, 6), 2) or "")
    # wave 3: five a week, then the next Monday
    book = SlotBook()
    days = []
    for _ in range(7):
        d = book.next_free(monday(wed), 3)
        book.take(d, 3)
        days.append(d)
    assert days[:5] == [monday(wed)] * 3 + [monday(wed) + timedelta(days=1)] * 2
    assert days[5] == monday(wed) + timedelta(days=7)


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from([1, 2, 3])), max_size=60))
def test_filling_slots_never_breaks_a_cap(requests: list[tuple[int, int]]) -> None:
    book = SlotBook(holidays=frozenset({date(2026, 6, 10)}))
    for offset, wave in requests:
        d = book.next_free(date(2026, 6, 1) + timedelta(days=offset), wave)
        book.take(d, wave)
    assert all(n <= DAY_CAP for n in book.per_day.values())
    assert all(n <= 5 for (wave, _), n in book.per_week.items() if wave == 3)
    assert date(2026, 6, 10) not in book.per_day and all(d.weekday() < 5 for d in book.per_day)

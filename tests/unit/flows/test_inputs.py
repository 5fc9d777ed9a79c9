from __future__ import annotations

import pytest

from golive.flows.engine.inputs import Decisions, parse_approve_flag
from golive.tasks.context import Approval, Confirmation, InputRequest
from golive.tasks.foundation.errors import UserInputError


def test_approve_flag() -> None:
    assert parse_approve_flag("sign-off=Dana Lee:CDO") == ("sign-off", Approval("approve", "Dana Lee", "CDO"))
    assert parse_approve_flag("x=A:VP of IT:reject")[1].decision == "reject"
    with pytest.raises(UserInputError, match="STEP=NAME:ROLE"):
        parse_approve_flag("x=A")


def test_decisions_round_trip_and_lookup_by_id_or_key() -> None:
    d = Decisions.from_json(
        {
            "approvals": {"ok": {"name": "A", "role": "CFO"}},
            "confirmations": {"list[loc-a]": ["one"], "other": "all"},
        }
    )
    assert Decisions.from_json(d.to_json()) == d
    assert d.for_request(InputRequest("approval", "ok", "?", ("CFO",))) == Approval("approve", "A", "CFO")
    found = d.for_request(InputRequest("confirm", "list[loc-a]", "?", items=(("one", "1"), ("two", "2"))))
    assert found == Confirmation(frozenset({"one"}))
    everything = d.for_request(InputRequest("confirm", "other[x]", "?", items=(("a", "A"), ("b", "B"))))
    assert isinstance(everything, Confirmation) and everything.confirmed == {"a", "b"}


@pytest.mark.parametrize(
    "bad",
    [
        {"approvals": {"x": {"name": "A"}}},
        {"other": {}},
        {"approvals": {"x": {"name": "A", "role": "R", "decision": "maybe"}}},
        {"confirmations": {"x": 3}},
    ],
)
def test_bad_decisions(bad: dict) -> None:
    with pytest.raises(UserInputError):
        Decisions.from_json(bad)

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


def test_a_confirmation_carries_the_confirmers_comment_into_the_checklist_notes() -> None:
    from golive.tasks.context import StepContext
    from golive.tasks.core import checklist

    d = Decisions.from_json({"confirmations": {"parallel-run": {
        "items": ["cases"], "name": "Marcus Greene", "comment": "Write-back timed out twice at one office."}}})
    assert Decisions.from_json(d.to_json()) == d  # the comment survives the flow parameter round trip
    found = d.for_request(InputRequest("confirm", "parallel-run", "?", items=(("cases", "Cases compared"),)))
    assert isinstance(found, Confirmation) and found.comment == "Write-back timed out twice at one office."
    ctx = StepContext(run_id="r", run_key="k", runbook="wave-go-live", step_id="parallel-run",
                      step_key="parallel-run", human_input=found)
    out = checklist.run(ctx, {"items": [{"id": "cases", "text": "Cases compared"}]})
    assert out["notes"] == "Write-back timed out twice at one office." and out["confirmed_by"] == "Marcus Greene"

"""A paused run's message to its approvers, through a real SMTP server (aiosmtpd): one per pause."""

from __future__ import annotations

import dataclasses
import logging
import socket
from email import policy
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiosmtpd.controller import Controller

from golive.flows.engine.decider_message import tell_deciders
from golive.tasks.context import InputRequest
from golive.tasks.delivery import send
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import Delivery, EmailChannel, load_organization


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


def test_each_pause_emails_its_approvers_once(tmp_path: Path, store: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        acme = load_organization(DEFAULT_ORG)
        org = dataclasses.replace(acme, delivery=Delivery(email=EmailChannel(
            host="127.0.0.1", port=port, sender="rollout@acme-dental.example", security="plain-local")))
        rc = SimpleNamespace(run_id="r1", run_key="wave-go-live-abc", runbook=SimpleNamespace(name="wave-go-live"),
                             org=org, store=store, out_dir=tmp_path / "out", started=None)
        request = InputRequest(kind="approval", step_key="budget", question="Budget approved?", approvers=("CFO",))
        url = "http://127.0.0.1:4270/runs/flow-run/r1"
        log = logging.getLogger("test.pause")
        tell_deciders(rc, request, "budget", "**budget** waits for an approval: Budget approved?", url, log)
        tell_deciders(rc, request, "budget", "**budget** waits for an approval: Budget approved?", url, log)  # rerun
        tell_deciders(rc, request, "budget-1", "**budget** waits for an approval: Budget approved?", url, log)
    finally:
        controller.stop()

    cfo = sorted(p.email for p in acme.people_with_role("CFO") if p.email)
    assert cfo and len(inbox.messages) == 2  # two pauses, the rerun of the first sent nothing
    for rcpts, raw in inbox.messages:
        assert sorted(rcpts) == cfo
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        body = mail.get_content()
        assert mail["Subject"] == "Decision needed: budget"
        assert "budget waits for an approval: Budget approved?" in body and "Waiting for: CFO" in body
        assert url in body
    rows = send.history(store, "wave-go-live-abc")
    assert [(r["step_key"], r["channel"], r["state"]) for r in rows] == [
        ("budget@pause:budget", "email", "sent"), ("budget@pause:budget-1", "email", "sent")]


def test_a_pause_reaches_only_the_role_holders_of_the_runs_locations(tmp_path: Path, store: Any) -> None:
    """Office and regional managers of another location get nothing; the COO (no location) does."""
    from golive.tasks.planning.organization import Person

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    acme = load_organization(DEFAULT_ORG)
    staff = (Person(name="Cora COO", roles=("COO",), email="coo@acme-dental.example"),
             Person(name="Lena Lakeview", roles=("Office Manager",), location="lakeview-implant",
                    email="lena@acme-dental.example"),
             Person(name="Hank Harbor", roles=("Office Manager",), location="harbor-point",
                    email="hank@acme-dental.example"),
             Person(name="Nora North", roles=("Regional Manager",), region="north", email="nora@acme-dental.example"),
             Person(name="Sam South", roles=("Regional Manager",), region="south", email="sam@acme-dental.example"))
    org = dataclasses.replace(acme, people=staff, delivery=Delivery(email=EmailChannel(
        host="127.0.0.1", port=port, sender="rollout@acme-dental.example", security="plain-local")))
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        request = InputRequest(kind="approval", step_key="go-live", question="Go live at Lakeview?",
                               approvers=("COO", "Office Manager", "Regional Manager"))
        for key, params in (("lakeview", {"locations": ["lakeview-implant"]}), ("whole", {})):
            rc = SimpleNamespace(run_id="r-" + key, run_key=f"wave-go-live-{key}", params=params,
                                 runbook=SimpleNamespace(name="wave-go-live"), org=org, store=store,
                                 out_dir=tmp_path / "out", started=None)
            tell_deciders(rc, request, "go-live", "**go-live** waits for an approval", None, logging.getLogger("t"))
    finally:
        controller.stop()

    assert len(inbox.messages) == 2
    lakeview, whole = (sorted(rcpts) for rcpts, _ in inbox.messages)
    assert lakeview == ["coo@acme-dental.example", "lena@acme-dental.example", "nora@acme-dental.example"]
    assert "hank@acme-dental.example" in whole and "sam@acme-dental.example" in whole  # no locations: everyone

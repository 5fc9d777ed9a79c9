"""Texts people read name locations by their display names, never by their ids.

Two proofs: every text a runbook composes for people (notify message and subject, approval
question, checklist item text, expect message, report title) that interpolates a location passes it
through `| place` / `| places`, and rendering the messages that name locations (check-in cadence,
rollback, rollback watch, configuration drift) with the example group's ids gives names only; and a
message composed in code with ids (a deadline reminder) reaches the outbox with names, while the
ids stay where machines read them (the message's scope for recipients)."""

from __future__ import annotations

import email
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from golive.flows.engine.expressions import render
from golive.tasks.context import StepContext
from golive.tasks.core import notify
from golive.tasks.foundation.paths import DEFAULT_ORG, RUNBOOKS
from golive.tasks.planning.organization import load_organization

ACME = load_organization(DEFAULT_ORG)
IDS = [loc.id for loc in ACME.locations]
RAW_ID = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, IDS)) + r")(?![\w/-])")
PEOPLE_READ = ("message", "subject", "question", "text", "title")
LOCATION_EXPR = re.compile(r"\{\{(?P<expr>[^}]*?)\}\}")


def texts(node: Any, key: str = "") -> list[str]:
    """Every string under `with:` that people read (by its key), recursively."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in texts(v, str(k))]
    if isinstance(node, list):
        return [t for v in node for t in texts(v, key)]
    return [node] if isinstance(node, str) and key in PEOPLE_READ and "{{" in node else []


def runbook_steps() -> list[tuple[str, dict[str, Any]]]:
    yaml = YAML(typ="safe")
    out = []
    for path in sorted(RUNBOOKS.glob("*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"))
        for section in ("steps", "on_failure"):
            out += [(f"{path.name}:{step['id']}", step) for step in doc.get(section) or []]
    return out


def test_every_location_a_runbook_text_names_goes_through_place() -> None:
    unnamed = []
    for where, step in runbook_steps():
        each = step.get("for_each")
        over_locations = isinstance(each, str) and re.search(r"\blocations\b", each) is not None
        for text in texts(step.get("with") or {}):
            for m in LOCATION_EXPR.finditer(text):
                expr = re.sub(r"org\.location\([^)]*\)", "", m["expr"])  # a lookup by id, not shown
                names_location = "location" in expr or (over_locations and re.search(r"\bitem\b", expr))
                counted = re.search(r"\|\s*length\s*$", expr)  # a number of locations, not their ids
                if names_location and not counted and not re.search(r"\|\s*places?\b", expr):
                    unnamed.append(f"{where}: {{{{{m['expr']}}}}}")
    assert not unnamed, "texts people read show location ids:\n" + "\n".join(unnamed)


def step(runbook: str, step_id: str) -> dict[str, Any]:
    return next(s for where, s in runbook_steps() if where == f"{runbook}.yaml:{step_id}")


PILOT = ["lakeview-implant", "riverside-ortho", "harbor-point"]
SCOPES = {
    ("wave-go-live", "check-in-cadence"): {"params": {"wave": 1, "locations": PILOT}},
    ("rollback", "notify-central"): {"params": {"locations": ["riverside-ortho"], "reason": "availability below 95%",
                                                "vendor": "the platform vendor"}},
    ("rollback", "communicate"): {"params": {"locations": ["riverside-ortho"], "reason": "availability below 95%"},
                                  "steps": {"revised-timeline": {"outputs": {"approver": "Carmen Ortiz",
                                                                             "role": "COO"}}}},
    ("rollback-watch", "alert"): {"steps": {"triggers": {"outputs": {
        "locations": ["riverside-ortho"], "affected": [{"location": "riverside-ortho", "reason": "uptime 80%"}]}}}},
    ("configuration-drift", "tell-owners"): {"steps": {"drift": {"outputs": {
        "drift_locations": ["harbor-point"], "drift_count": 1, "not_verified": ["rural-clinic"], "invalid": [],
        "organization": []}}}},
}


@pytest.mark.parametrize(("runbook", "step_id"), sorted(SCOPES))
def test_messages_that_name_locations_render_their_names(runbook: str, step_id: str) -> None:
    scope = {"org": ACME, "params": {}, "steps": {}, **SCOPES[(runbook, step_id)]}
    message = render(step(runbook, step_id)["with"]["message"], scope)
    assert not RAW_ID.search(message), message
    assert any(loc.name in message for loc in ACME.locations), message


def test_each_location_hears_about_its_rollback_by_name() -> None:
    s = step("rollback", "tell-location")
    message = render(s["with"]["message"], {"org": ACME, "params": {}, "steps": {}, "item": "riverside-ortho"})
    assert message.startswith(ACME.location("riverside-ortho").name) and not RAW_ID.search(message)


def test_a_message_composed_with_ids_reaches_the_outbox_with_names(tmp_path: Path, sqlite_store: Any) -> None:
    ctx = StepContext(run_id="r", run_key="names", runbook="deadline-reminders", step_id="remind", step_key="remind",
                      org=ACME, store=sqlite_store, out_dir=tmp_path / "out")
    text = "Rollback riverside-ortho: revert overdue since 2026-04-11 (availability below 95% at riverside-ortho)"
    out = notify.run(ctx, {"to": ["VP of Ops"], "message": text, "locations": ["riverside-ortho"]})
    [delivery] = out["deliveries"]
    eml = email.message_from_bytes(Path(delivery["path"]).read_bytes())
    body = eml.get_payload(decode=True) if not eml.is_multipart() else eml.get_payload(0).get_payload(decode=True)
    shown = f"{eml['Subject']}\n{body.decode()}"
    assert "Riverside Orthodontics" in shown and not RAW_ID.search(shown), shown
    assert not RAW_ID.search(out["message"])
    # a path stays a path: the id inside it is what the file system reads
    kept = notify.run(ctx, {"to": ["VP of Ops"], "message": "See out/names/riverside-ortho/brief.pdf."})
    assert "out/names/riverside-ortho/brief.pdf" in kept["message"]

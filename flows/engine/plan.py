"""`golive plan`: the DAG with owners and due dates, as text, Mermaid or JSON."""

from __future__ import annotations

import json
from datetime import date, timedelta
from graphlib import TopologicalSorter
from typing import Any

from golive.flows.engine.model import Runbook, Step


def ordered(steps: tuple[Step, ...]) -> list[Step]:
    """Steps in a dependency order that keeps the file's order among independent steps."""
    by_id = {s.id: s for s in steps}
    sorter = TopologicalSorter({s.id: s.needs for s in steps})
    sorter.prepare()
    position = {s.id: i for i, s in enumerate(steps)}
    out: list[Step] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        out.extend(by_id[r] for r in ready)
        sorter.done(*ready)
    return out


def as_rows(book: Runbook, start: date | None = None) -> list[dict[str, Any]]:
    rows = []
    for section, steps in (("steps", book.steps), ("on_failure", book.on_failure)):
        for s in ordered(steps):
            due_date = (start + timedelta(days=s.due.days)).isoformat() if (start and s.due) else None
            rows.append({"id": s.id, "section": section, "title": s.title, "uses": s.uses, "needs": list(s.needs),
                         "owner": s.owner, "due": s.due.text if s.due else None, "due_date": due_date,
                         "when": s.when, "for_each": s.for_each, "on_failure": s.on_failure.value,
                         "undo": s.undo.uses if s.undo else None})
    return rows


def as_json(book: Runbook, start: date | None = None) -> str:
    return json.dumps({"runbook": book.name, "title": book.metadata.title, "steps": as_rows(book, start)}, indent=2)


def _label(text: str) -> str:
    return text.replace('"', "'")


def as_mermaid(book: Runbook) -> str:
    lines = ["flowchart TD"]
    for s in (*book.steps, *book.on_failure):
        node = f"{s.id}<br/><small>{s.uses}</small>"
        if s.owner or s.due:
            node += f"<br/><small>{' · '.join(x for x in (s.owner, s.due.text if s.due else None) if x)}</small>"
        shape = ('{{"', '"}}') if s.uses == "approval" else ('["', '"]')
        lines.append(f"    {s.id.replace('-', '_')}{shape[0]}{_label(node)}{shape[1]}")
    for s in (*book.steps, *book.on_failure):
        for need in s.needs:
            lines.append(f"    {need.replace('-', '_')} --> {s.id.replace('-', '_')}")
    return "\n".join(lines)


def _short(expr: str, limit: int = 60) -> str:
    flat = " ".join(expr.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def as_text(book: Runbook, start: date | None = None) -> str:
    rows = as_rows(book, start)
    header = f"{book.name}: {book.metadata.title or ''} ({len(book.steps)} steps"
    header += f", {len(book.on_failure)} on failure)" if book.on_failure else ")"
    lines = [header]
    for r in rows:
        extra = []
        if r["needs"]:
            extra.append("after " + ", ".join(r["needs"]))
        if r["when"]:
            extra.append(f"when {_short(r['when'])}")
        if r["for_each"]:
            extra.append(f"for each {_short(r['for_each'])}")
        if r["undo"]:
            extra.append(f"undo {r['undo']}")
        who = " · ".join(x for x in (r["owner"], r["due_date"] or r["due"]) if x)
        prefix = "  !" if r["section"] == "on_failure" else "  -"
        lines.append(f"{prefix} {r['id']} [{r['uses']}]" + (f" ({who})" if who else "")
                     + (f" — {'; '.join(extra)}" if extra else ""))
    return "\n".join(lines)

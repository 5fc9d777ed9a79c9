"""`notify`: deliver a message (and documents) to roles through the organization's channels.

Channels come from the organization file's `delivery:` block: email over SMTP to people with an
address (documents attached), Teams/Slack webhooks for the roles they serve. Without a channel the
message goes to the outbox folder. Every delivery is recorded once in the store (tasks/delivery).
Messages are written by runbook authors from step outputs; `_refuse_phi` stops the obvious
patient identifiers (SSN, date of birth, MRN) from ever being sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.delivery import send
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.foundation.names import named
from golive.tasks.kind import StepKind

_PHI = re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b(date of birth|DOB|MRN|patient name)\s*[:=]", re.IGNORECASE)
ATTACHABLE = (".pdf", ".docx")


def people(org: Any, roles: list[str], location: str | Sequence[str] | None = None,
           region: str | None = None) -> list[Any]:
    """The organization's people holding any of `roles` (none when no org is loaded).

    With `location` (one id or several), people tied to another location or to another region are
    left out, so a message about some clinics reaches their office managers and their regions'
    managers, not everyone's. People with neither a location nor a region (CEO, CFO, ...) always
    get it. An empty list of locations leaves nobody out. With `region`, people of another region
    (or of a location in another region) are left out.
    """
    if org is None or not hasattr(org, "people_with_role"):
        return []
    ids = [location] if isinstance(location, str) else list(location or ())
    # org.location raises UnknownLocation (a user error) for a bad id
    regions = {org.location(loc).region for loc in ids}
    found: list[Any] = []
    for role in roles:
        for person in org.people_with_role(role):
            if ids and (
                (person.location is not None and person.location not in ids)
                or (person.location is None and person.region is not None and person.region not in regions)
            ):
                continue
            if region is not None and _region_of(org, person) not in (None, region):
                continue
            if person not in found:
                found.append(person)
    return found


def _region_of(org: Any, person: Any) -> str | None:
    if person.location is not None:
        return str(org.location(person.location).region)
    return person.region  # type: ignore[no-any-return]


def recipients(org: Any, roles: list[str], location: str | Sequence[str] | None = None) -> list[str]:
    return [p.name for p in people(org, roles, location)]


def _refuse_phi(*texts: str) -> None:
    for text in texts:
        if _PHI.search(text or ""):
            raise UserInputError("notify: the message looks like it carries patient data (an SSN, date of birth, "
                                 "MRN or patient name); messages must never hold PHI")


def _attachments(ctx: StepContext, values: Any) -> tuple[Path, ...]:
    """PDF/DOCX files the run wrote under out/ (nothing else may leave through a message)."""
    if not values:
        return ()
    items = values if isinstance(values, list | tuple) else [values]
    out_root = Path(ctx.out_dir).resolve()
    found: list[Path] = []
    for item in items:
        for value in item if isinstance(item, list | tuple) else [item]:
            path = Path(str(value)).resolve()
            if path.suffix.lower() not in ATTACHABLE:
                continue
            if out_root not in path.parents:
                raise UserInputError(f"notify: attachment {path.name} is not a document this run wrote under {out_root}")
            if not path.is_file():
                raise StepFailed(f"notify: attachment {path} does not exist")
            found.append(path)
    return tuple(dict.fromkeys(found))


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    roles = list(params["to"])
    location = params.get("location")
    region = params.get("region")
    if region is not None and ctx.org is not None:
        ctx.org.region(region)  # an unknown id is the user's mistake
    locations = params.get("locations")  # several: people of any of them (a run's locations)
    # People read the subject and message: a location id composed into them where the organization
    # was not at hand (a reminder, a guard's question, an older runbook's text) shows as its name.
    # Runbook texts name locations with `| place` / `| places` themselves; ids stay in the ledger.
    message = named(ctx.org, str(params["message"]))
    subject = named(ctx.org, str(params.get("subject") or message.split(". ")[0]))[:150]
    _refuse_phi(subject, message)
    who = people(ctx.org, roles, locations if locations is not None else location, region)
    names = [p.name for p in who]
    files = _attachments(ctx, params.get("attach"))
    org_name = getattr(ctx.org, "name", "golive")
    delivery = getattr(ctx.org, "delivery", None)
    sender = delivery.email.sender if delivery and delivery.email else "golive@localhost"
    outcomes: list[dict[str, Any]] = []
    covered: set[str] = set()

    def ledger(channel: str, msg: send.Message, handover: Any, labels: list[str] | None = None,
               confirm: Any = None) -> None:
        if ctx.store is None:  # plain unit use: hand over, no ledger
            outcome = send.Outcome(channel, "sent", send.message_id(send.idempotency_key(
                ctx.run_key, ctx.step_key, channel, labels or [])), labels or [])
            outcome.detail = handover(outcome.message_id) or ""
        else:
            outcome = send.deliver(ctx.store, run_key=ctx.run_key, step_key=ctx.step_key, channel=channel,
                                   msg=msg, handover=handover, label_recipients=labels, confirm=confirm)
        if outcome.state == "unconfirmed":  # a person checks with a recipient (golive run / program status)
            ctx.logger.warning("notify %s: UNCONFIRMED %s: %s", channel, outcome.message_id, outcome.detail)
        outcomes.append(outcome.to_dict())

    body = f"{message}\n\n— {org_name} rollout office (sent by golive run {ctx.run_key})\n"
    if delivery and delivery.email:
        mailable = [p for p in who if p.email]
        if mailable:
            msg = send.Message(subject, body, tuple(send.Recipient(p.name, p.email) for p in mailable), files, sender)
            ledger("email", msg, lambda mid, m=msg: send.send_smtp(send.email_message(m, mid), delivery.email))
            covered.update(p.name for p in mailable)
    for hook in (delivery.webhooks if delivery else ()):
        if set(hook.roles) & set(roles):
            text = body + ("\nDocuments: " + ", ".join(f.name for f in files) if files else "")
            msg = send.Message(subject, text, (send.Recipient(f"#{hook.name}"),), files, sender)
            ledger(f"webhook:{hook.name}", msg, lambda mid, h=hook, t=text: send.send_webhook(h.url, subject, t),
                   [f"#{hook.name}", *sorted(set(hook.roles) & set(roles))])
            covered.update(p.name for p in who if set(p.roles) & set(hook.roles))
    rest = [p for p in who if p.name not in covered]
    if rest or not outcomes:
        outbox = (delivery.outbox if delivery and delivery.outbox else None) or Path(ctx.out_dir) / "outbox"
        target = rest or who
        msg = send.Message(subject, body, tuple(send.Recipient(p.name, p.email or "") for p in target) or
                           (send.Recipient(", ".join(roles)),), files, sender)
        written: list[str] = []

        def eml(mid: str) -> Path:
            return Path(outbox) / ctx.run_key / f"{mid.split('.')[1].split('@')[0][:16]}.eml"

        def to_outbox(mid: str, m: send.Message = msg) -> str:
            key = mid.split(".")[1].split("@")[0]
            written.append(str(send.write_outbox(send.email_message(m, mid), Path(outbox) / ctx.run_key, key)))
            return written[-1]

        def in_outbox(mid: str) -> bool:  # the file is renamed into place whole: there means delivered
            if eml(mid).is_file():
                written.append(str(eml(mid)))
                return True
            return False

        ledger("outbox", msg, to_outbox, confirm=in_outbox)
        if written:
            outcomes[-1]["path"] = written[-1]
    ctx.logger.info("notify %s: %s", ", ".join(roles), subject)
    about = {"location": location} if isinstance(location, str) and location else {}  # for machines: the id
    ctx.audit("notify", {"step": ctx.step_key, "to": roles, "recipients": names, "message": message, **about,
                         "deliveries": [{k: o[k] for k in ("channel", "state", "message_id")} for o in outcomes]})
    out: dict[str, Any] = {"to": roles, "recipients": names, "message": message, "deliveries": outcomes}
    if region:
        out["region"] = region
    return {**out, "location": location} if location else out


KIND = StepKind(name="notify", run=run)
KINDS = (KIND,)

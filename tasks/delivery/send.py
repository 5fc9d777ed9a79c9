"""Send one message through one channel, recorded exactly once per idempotency key.

Protocol (the store is the ledger):
1. look the key up: `sent` or `unconfirmed` -> nothing is sent again; `failed` -> try again;
   `sending` -> an earlier attempt stopped between handing the message over and recording it, so it
   may have arrived. The channel's `confirm(message_id)` is asked whether the receiver has it:
   - yes (the outbox: the atomically written .eml is there) -> recorded `sent`, not sent again;
   - no (the outbox file is absent) -> handed over again with the SAME Message-ID;
   - cannot tell (SMTP: a relay offers no standard way to ask whether it holds a message; a webhook
     neither) -> marked `unconfirmed`, NOT sent again (at most once), and shown to a person: the
     step's log, `golive run` output and the program board (`golive status`) list it until
     someone checks with a recipient and re-sends by hand if needed.
2. insert the row as `sending` (the unique key makes a concurrent second sender find it instead);
3. hand the message over (SMTP, apprise webhook or outbox file) with a Message-ID derived from the
   key, so a receiving system can also recognise a copy;
4. mark it `sent` (or `failed` with the reason).
`GOLIVE_FAULT=delivery.after-send` stops the process between 3 and 4, `delivery.before-send` between 2
and 3 (fault-injection tests: the message reached the receiver, or it did not).
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any

from sqlalchemy import select

from golive.tasks.delivery.records import DeliveryRow
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.foundation.secrets import resolve

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class DeliveryFailed(StepFailed):
    """A channel refused or could not take the message (reason given, never a credential)."""


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str = ""  # email address; empty for webhook/outbox-only recipients


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    recipients: tuple[Recipient, ...]
    attachments: tuple[Path, ...] = ()
    sender: str = "golive@localhost"

    def attachment_facts(self) -> list[dict[str, Any]]:
        return [{"name": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size": p.stat().st_size}
                for p in self.attachments]


@dataclass
class Outcome:
    channel: str
    state: str
    message_id: str
    recipients: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    resent: bool = True  # False when an earlier attempt's record was found
    detail: str = ""
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "state": self.state, "message_id": self.message_id,
                "recipients": self.recipients, "attachments": self.attachments, "new": self.resent,
                "detail": self.detail, **({"path": self.path} if self.path else {})}


def idempotency_key(run_key: str, step_key: str, channel: str, recipients: list[str]) -> str:
    raw = "\x1f".join([run_key, step_key, channel, *sorted(recipients)])
    return hashlib.sha256(raw.encode()).hexdigest()


def message_id(key: str) -> str:
    return f"<golive.{key[:40]}@golive.invalid>"


def _now() -> datetime:
    return datetime.now(UTC)


def email_message(msg: Message, mid: str) -> EmailMessage:
    em = EmailMessage()
    em["Subject"] = msg.subject
    em["From"] = msg.sender
    em["To"] = ", ".join(formataddr((r.name, r.address)) for r in msg.recipients if r.address)
    em["Date"] = formatdate(localtime=False)
    em["Message-ID"] = mid
    em["X-Golive-Recipients"] = ", ".join(r.name for r in msg.recipients)  # the outbox keeps who it is for
    em.set_content(msg.body)
    for path in msg.attachments:
        data = path.read_bytes()
        maintype, subtype = _mime(path)
        em.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return em


def _mime(path: Path) -> tuple[str, str]:
    return {
        ".pdf": ("application", "pdf"),
        ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ".md": ("text", "markdown"),
        ".png": ("image", "png"),
    }.get(path.suffix.lower(), ("application", "octet-stream"))


# -- channels ---------------------------------------------------------------------------------

def send_smtp(em: EmailMessage, channel: Any, *, timeout: float = 30.0) -> str:
    """Hand `em` to the SMTP server; STARTTLS unless the channel is an explicit plain-local relay."""
    security = getattr(channel, "security", "starttls")
    if security == "plain-local" and channel.host not in LOCAL_HOSTS:
        raise DeliveryFailed(f"email: plain-local (no TLS) is only allowed towards localhost, not {channel.host}")
    try:
        with smtplib.SMTP(channel.host, int(channel.port), timeout=timeout) as smtp:
            smtp.ehlo()
            if security != "plain-local":
                if not smtp.has_extn("starttls"):
                    raise DeliveryFailed(f"email: {channel.host}:{channel.port} does not offer STARTTLS; refusing to "
                                         "send documents in clear text (security: plain-local is for a local relay only)")
                context = ssl.create_default_context(cafile=getattr(channel, "ca_file", None) or None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if channel.username:
                user = resolve(channel.username, "email username", error=DeliveryFailed).reveal()
                password = resolve(channel.password or "", "email password", error=DeliveryFailed).reveal()
                smtp.login(user, password)
            refused = smtp.send_message(em)
    except DeliveryFailed:
        raise
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryFailed(f"email via {channel.host}:{channel.port} failed: {type(exc).__name__}: {exc}") from None
    return f"refused: {sorted(refused)}" if refused else ""


def send_webhook(url_ref: str, title: str, body: str) -> str:
    """Post to a Teams/Slack (or any apprise) URL held in a secret; the URL itself is never shown."""
    import apprise  # imported here: only deliveries need it

    url = resolve(url_ref, "webhook url", error=DeliveryFailed).reveal()
    app = apprise.Apprise()
    if not app.add(url):
        raise DeliveryFailed(f"webhook {url_ref}: not a URL apprise understands (msteams://, slack://, json://...)")
    if not app.notify(title=title, body=body):
        raise DeliveryFailed(f"webhook {url_ref}: the service did not accept the message")
    return ""


def write_outbox(em: EmailMessage, outbox: Path, key: str) -> Path:
    """The whole message (attachments included) as an .eml file named by its key; atomic."""
    outbox.mkdir(parents=True, exist_ok=True)
    target = outbox / f"{key[:16]}.eml"
    part = target.with_suffix(".eml.part")
    part.write_bytes(bytes(em))
    part.replace(target)
    return target


# -- the ledger -------------------------------------------------------------------------------

def deliver(store: Any, *, run_key: str, step_key: str, channel: str, msg: Message,
            handover: Any, label_recipients: list[str] | None = None, confirm: Any = None) -> Outcome:
    """Run `handover(mid) -> detail` at most once for this (run, step, channel, recipients).

    `confirm(mid) -> True | False | None` says whether the receiver already holds an interrupted
    attempt's message (None: the channel cannot tell; the default)."""
    names = label_recipients if label_recipients is not None else [
        f"{r.name} <{r.address}>" if r.address else r.name for r in msg.recipients]
    key = idempotency_key(run_key, step_key, channel, names)
    mid = message_id(key)
    facts = msg.attachment_facts()
    with store.session() as s:
        row = s.execute(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).scalar_one_or_none()
        if row is not None and row.state in ("sent", "unconfirmed"):
            return Outcome(channel, row.state, row.message_id, list(row.recipients), list(row.attachments), False,
                           row.detail)
        if row is not None and row.state == "sending":
            held = confirm(row.message_id) if confirm is not None else None
            if held is True:
                row.state, row.finished_at = "sent", _now()
                row.detail = "an interrupted attempt had reached the receiver (confirmed there); not sent again"
                return Outcome(channel, row.state, row.message_id, list(row.recipients), list(row.attachments),
                               False, row.detail)
            if held is None:
                row.state = "unconfirmed"
                row.finished_at = _now()
                row.detail = ("the process stopped after handing the message over and before recording it; "
                              "not sent again (it may have arrived: check with a recipient)")
                return Outcome(channel, row.state, row.message_id, list(row.recipients), list(row.attachments),
                               False, row.detail)
            mid = row.message_id  # the receiver does not have it: the same message again, same Message-ID
            row.attachments, row.detail = facts, "re-sent: an interrupted attempt had not reached the receiver"
        if row is None:
            row = DeliveryRow(idempotency_key=key, run_key=run_key, step_key=step_key, channel=channel,
                              state="sending", message_id=mid, subject=msg.subject[:255], recipients=names,
                              attachments=facts, created_at=_now(), detail="")
            s.add(row)
        else:  # an earlier attempt failed before the channel took the message
            row.state, row.attachments, row.detail = "sending", facts, ""
    if os.environ.get("GOLIVE_FAULT") == "delivery.before-send":
        os._exit(137)  # fault injection: a kill after recording `sending`, before the channel took it
    try:
        detail = handover(mid) or ""
    except Exception as exc:
        _finish(store, key, "failed", str(exc)[:2000])
        raise
    if os.environ.get("GOLIVE_FAULT") == "delivery.after-send":
        os._exit(137)  # fault injection: a kill between sending and recording
    _finish(store, key, "sent", detail)
    return Outcome(channel, "sent", mid, names, facts, True, detail)


def _finish(store: Any, key: str, state: str, detail: str) -> None:
    with store.session() as s:
        row = s.execute(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).scalar_one()
        row.state, row.detail, row.finished_at = state, detail, _now()


def unconfirmed(store: Any, run_key: str | None = None) -> list[dict[str, Any]]:
    """Deliveries a person must check with a recipient (see the module's protocol)."""
    return [d for d in history(store, run_key) if d["state"] == "unconfirmed"]


def history(store: Any, run_key: str | None = None) -> list[dict[str, Any]]:
    with store.session(readonly=True) as s:
        q = select(DeliveryRow).order_by(DeliveryRow.id)
        if run_key:
            q = q.where(DeliveryRow.run_key == run_key)
        return [{"key": r.idempotency_key, "run_key": r.run_key, "step_key": r.step_key, "channel": r.channel,
                 "state": r.state, "message_id": r.message_id, "subject": r.subject, "recipients": r.recipients,
                 "attachments": r.attachments, "detail": r.detail,
                 "at": (r.finished_at or r.created_at).isoformat()} for r in s.execute(q).scalars()]

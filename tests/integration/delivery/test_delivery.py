"""`notify` through real channels: an SMTP server (aiosmtpd) with and without STARTTLS, an HTTP
webhook reached through apprise, the outbox; the delivery ledger across resumes and a kill between
sending and recording (a real process exit, then a resume)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from golive.tasks.context import StepContext
from golive.tasks.core import notify
from golive.tasks.delivery import send
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import Delivery, EmailChannel, WebhookChannel, load_organization

ACME = load_organization(DEFAULT_ORG)
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler keeping every accepted message (envelope recipients and raw bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def org_with(delivery: Delivery) -> Any:
    return dataclasses.replace(ACME, delivery=delivery)


def make_ctx(org: Any, out_dir: Path, store: Any, step: str = "announce") -> StepContext:
    return StepContext(run_id="r1", run_key="go-no-go-wave1-abc", runbook="go-no-go-wave1", step_id=step,
                       step_key=step, org=org, store=store, out_dir=out_dir)


def documents(out_dir: Path) -> list[Path]:
    folder = out_dir / "go-no-go-wave1-abc"
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / "memo.pdf", folder / "memo.docx"]
    files[0].write_bytes(b"%PDF-1.4\n" + os.urandom(2048))
    files[1].write_bytes(b"PK\x03\x04" + os.urandom(4096))
    return files


def test_email_with_attachments_scoped_to_a_location_recorded_once(tmp_path: Path, store: Any,
                                                                   smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    org = org_with(Delivery(email=EmailChannel(host="127.0.0.1", port=port, sender="rollout@acme-dental.example",
                                               security="plain-local")))
    files = documents(tmp_path / "out")
    params = {"to": ["Office Manager", "Regional Manager", "VP of IT"], "location": "lakeview-implant",
              "message": "Wave 1 gate: no-go as of 2026-04-26.", "attach": [str(f) for f in files]}
    out = notify.run(make_ctx(org, tmp_path / "out", store), params)

    region = ACME.location("lakeview-implant").region
    expected = sorted(p.email for p in ACME.people if p.email and (
        "VP of IT" in p.roles or ("Regional Manager" in p.roles and p.region == region)))
    assert len(inbox.messages) == 1
    rcpts, raw = inbox.messages[0]
    assert sorted(rcpts) == expected  # one region's manager, not all five
    parsed = email.message_from_bytes(raw)
    parts = {p.get_filename(): p.get_payload(decode=True) for p in parsed.walk() if p.get_filename()}
    assert parts == {f.name: f.read_bytes() for f in files}  # byte for byte
    email_out = next(d for d in out["deliveries"] if d["channel"] == "email")
    assert parsed["Message-ID"] == email_out["message_id"]
    assert {a["sha256"] for a in email_out["attachments"]} == {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    # The office manager has no address: the message waits in the outbox for them.
    outbox = next(d for d in out["deliveries"] if d["channel"] == "outbox")
    assert outbox["recipients"] == ["Erin Callahan"] and Path(outbox["path"]).is_file()

    again = notify.run(make_ctx(org, tmp_path / "out", store), params)  # a resume runs the step again
    assert len(inbox.messages) == 1 and all(not d["new"] for d in again["deliveries"])
    ledger = send.history(store, "go-no-go-wave1-abc")
    assert sorted(r["channel"] for r in ledger) == ["email", "outbox"] and {r["state"] for r in ledger} == {"sent"}


def test_starttls_is_required_unless_plain_local(tmp_path: Path, sqlite_store: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    org = org_with(Delivery(email=EmailChannel(host="127.0.0.1", port=port, sender="rollout@acme-dental.example")))
    with pytest.raises(send.DeliveryFailed, match="does not offer STARTTLS"):
        notify.run(make_ctx(org, tmp_path / "out", sqlite_store), {"to": ["VP of IT"], "message": "hello"})
    assert inbox.messages == []
    assert [r["state"] for r in send.history(sqlite_store)] == ["failed"]
    remote = org_with(Delivery(email=EmailChannel(host="smtp.example.com", port=port, sender="a@b.example",
                                                  security="plain-local")))
    with pytest.raises(send.DeliveryFailed, match="only allowed towards localhost"):
        notify.run(make_ctx(remote, tmp_path / "out", sqlite_store, "other"), {"to": ["VP of IT"], "message": "hello"})


def test_starttls_to_a_server_with_a_private_ca(tmp_path: Path, sqlite_store: Any) -> None:
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        org = org_with(Delivery(email=EmailChannel(host="localhost", port=port, sender="rollout@acme-dental.example",
                                                   ca_file=cert)))
        out = notify.run(make_ctx(org, tmp_path / "out", sqlite_store), {"to": ["CFO"], "message": "ROI report"})
    finally:
        controller.stop()
    assert [d["state"] for d in out["deliveries"]] == ["sent"]
    assert [r for r, _ in inbox.messages] == [["raj.patel@acme-dental.example"]]


KILL_SCRIPT = """
import dataclasses, sys
from pathlib import Path
from golive.tasks.context import StepContext
from golive.tasks.core import notify
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import Delivery, EmailChannel, load_organization
from golive.tasks.store import Store
port, db, out = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
org = dataclasses.replace(load_organization(DEFAULT_ORG), delivery=Delivery(email=EmailChannel(
    host="127.0.0.1", port=port, sender="rollout@acme-dental.example", security="plain-local")))
store = Store.open(f"sqlite:///{db}", audit_key="k")
ctx = StepContext(run_id="r1", run_key="rollback-x", runbook="rollback", step_id="notify-central",
                  step_key="notify-central", org=org, store=store, out_dir=out)
result = notify.run(ctx, {"to": ["VP of Ops", "VP of IT"], "message": "Rollback started at Riverside Ortho."})
print([d["state"] for d in result["deliveries"]])
"""


def test_a_kill_between_sending_and_recording_never_sends_twice(tmp_path: Path, golive_home: Path,
                                                                smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    args = [sys.executable, "-c", KILL_SCRIPT, str(port), str(tmp_path / "store.db"), str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent), "GOLIVE_FAULT": "delivery.after-send"}
    killed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 137, killed.stderr
    assert len(inbox.messages) == 1  # it left before the process died

    env.pop("GOLIVE_FAULT")
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "['unconfirmed']" in resumed.stdout
    assert len(inbox.messages) == 1  # not sent again

    from golive.tasks.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", audit_key="k")
    try:
        [row] = send.history(store)
    finally:
        store.dispose()
    assert row["state"] == "unconfirmed" and row["message_id"] in inbox.messages[0][1].decode()
    # A person sees it: the program board (golive status) lists it until someone checks.
    from golive.tasks.program import board

    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", audit_key="k")
    try:
        b = board.build(store, load_organization(DEFAULT_ORG), dt.date(2026, 4, 27))
    finally:
        store.dispose()
    [held] = b["unconfirmed"]
    assert held["message_id"] == row["message_id"] and held["step_key"] == "notify-central"
    assert "Ask a recipient whether it arrived" in board.markdown(b)


def test_a_kill_before_the_smtp_server_took_it_is_unconfirmed_not_guessed(tmp_path: Path, golive_home: Path,
                                                                          smtp: tuple[Inbox, int]) -> None:
    """SMTP offers no way to ask a relay whether it holds a message: the ledger cannot tell a kill
    before the hand-over from one after it, so it neither guesses nor re-sends: a person checks."""
    inbox, port = smtp
    args = [sys.executable, "-c", KILL_SCRIPT, str(port), str(tmp_path / "store.db"), str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent), "GOLIVE_FAULT": "delivery.before-send"}
    killed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 137, killed.stderr
    assert inbox.messages == []  # it never left
    env.pop("GOLIVE_FAULT")
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and "['unconfirmed']" in resumed.stdout, resumed.stderr
    assert inbox.messages == []  # still at most once: surfaced for a person, not re-sent blindly


OUTBOX_KILL_SCRIPT = """
import dataclasses, sys
from pathlib import Path
from golive.tasks.context import StepContext
from golive.tasks.core import notify
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import load_organization
from golive.tasks.store import Store
db, out = sys.argv[1], Path(sys.argv[2])
org = dataclasses.replace(load_organization(DEFAULT_ORG), delivery=None)
store = Store.open(f"sqlite:///{db}", audit_key="k")
ctx = StepContext(run_id="r1", run_key="wave-x", runbook="wave-go-live", step_id="send-go-live-packs",
                  step_key="send-go-live-packs[1]", org=org, store=store, out_dir=out)
result = notify.run(ctx, {"to": ["Office Manager"], "location": "riverside-ortho", "message": "Your go-live pack."})
print([(d["state"], d["message_id"]) for d in result["deliveries"]])
"""


@pytest.mark.parametrize("fault", ["delivery.before-send", "delivery.after-send"])
def test_the_outbox_confirms_or_resends_an_interrupted_message_with_the_same_id(tmp_path: Path, golive_home: Path,
                                                                                fault: str) -> None:
    """The outbox can be asked: its .eml is renamed into place whole, so present means delivered (recorded
    `sent`, not written again) and absent means not delivered (written again, same Message-ID)."""
    args = [sys.executable, "-c", OUTBOX_KILL_SCRIPT, str(tmp_path / "store.db"), str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent), "GOLIVE_FAULT": fault}
    killed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 137, killed.stderr
    files = list((tmp_path / "out" / "outbox").rglob("*.eml"))
    assert len(files) == (0 if fault == "delivery.before-send" else 1)
    before = files[0].read_bytes() if files else b""
    env.pop("GOLIVE_FAULT")
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    [eml] = list((tmp_path / "out" / "outbox").rglob("*.eml"))
    [(state, mid)] = eval(resumed.stdout.strip())  # noqa: S307 (our own script's printed list)
    assert state == "sent" and f"Message-ID: {mid}" in eml.read_text()
    assert "X-Golive-Recipients: Tasha Reed\n" in eml.read_text()  # only the location's office manager
    if before:
        assert eml.read_bytes() == before  # confirmed where it was, not written again
    from golive.tasks.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", audit_key="k")
    try:
        [row] = send.history(store)
    finally:
        store.dispose()
    assert row["state"] == "sent" and row["message_id"] == mid


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_through_apprise_and_outbox_without_channels(tmp_path: Path, sqlite_store: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received = []
    try:
        monkeypatch.setenv("TEAMS_ROLLOUT_URL", f"json://127.0.0.1:{server.server_address[1]}/hook")
        org = org_with(Delivery(webhooks=(WebhookChannel("rollout-teams", "env:TEAMS_ROLLOUT_URL", ("VP of Ops",)),)))
        params = {"to": ["VP of Ops"], "message": "Weekly status: 2 locations amber."}
        out = notify.run(make_ctx(org, tmp_path / "out", sqlite_store), params)
        notify.run(make_ctx(org, tmp_path / "out", sqlite_store), params)
    finally:
        server.shutdown()
    assert len(Hook.received) == 1 and "2 locations amber" in Hook.received[0]["message"]
    assert [d["channel"] for d in out["deliveries"]] == ["webhook:rollout-teams"]
    assert "json://" not in json.dumps(out)  # the URL (it carries the token) is never recorded

    plain = notify.run(make_ctx(ACME, tmp_path / "out", sqlite_store, "plain"), params)
    [d] = plain["deliveries"]
    assert d["channel"] == "outbox" and "Weekly status" in Path(d["path"]).read_text()


def test_messages_refuse_patient_identifiers(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="PHI"):
        notify.run(make_ctx(ACME, tmp_path, None), {"to": ["CDO"], "message": "Review case, DOB: 1970-01-01"})


def test_only_documents_this_run_wrote_can_be_attached(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(UserInputError, match="not a document this run wrote"):
        notify.run(make_ctx(ACME, tmp_path / "out", None), {"to": ["CFO"], "message": "hi", "attach": [str(outside)]})

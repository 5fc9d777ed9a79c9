"""The HTTP health probe against a real server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from golive.tasks.context import StepContext
from golive.tasks.gates import repository
from golive.tasks.gates.kinds import KINDS
from golive.tasks.gates.probe import probe, safe_target

pytestmark = pytest.mark.integration


RELEASE_SLOW = threading.Event()  # /slow answers only once the test has seen the probe time out


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.startswith("/slow"):
            RELEASE_SLOW.wait(10)
        code = 503 if self.path.startswith("/down") else 200
        body = b'{"status": "ok"}' if code == 200 else b'{"status": "down"}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_up_down_slow_and_refused(server: str) -> None:
    up = probe(f"{server}/health", location="a")
    assert up.ok and up.status_code == 200 and up.latency_ms is not None
    down = probe(f"{server}/down", location="a")
    assert not down.ok and down.status_code == 503 and "503" in (down.error or "")
    RELEASE_SLOW.clear()
    try:  # the server holds /slow until released, so the 0.2 s read timeout is the only way out
        slow = probe(f"{server}/slow", location="a", timeout_s=0.2)
    finally:
        RELEASE_SLOW.set()
    assert not slow.ok and "timeout" in (slow.error or "")
    with socket.socket() as bound:  # bound but not listening: connections are refused, and the port stays ours
        bound.bind(("127.0.0.1", 0))
        refused = probe(f"http://127.0.0.1:{bound.getsockname()[1]}/health", location="a", connect_timeout_s=0.5)
    assert not refused.ok and refused.status_code is None and "ConnectError" in (refused.error or "")


def test_expected_status_list(server: str) -> None:
    assert probe(f"{server}/down", location="a", expect_status=[503]).ok


def test_target_never_keeps_credentials_or_query() -> None:
    assert safe_target("https://user:secret@status.example.com:8443/health?token=abc#x") == "https://status.example.com:8443/health"


def test_probe_kind_stores_samples_and_daily_uptime(server: str, sqlite_store: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from golive.tasks.gates import probe as probe_module

    monkeypatch.setattr(probe_module, "utc_now", lambda: datetime(2027, 3, 1, 12, 0, tzinfo=UTC))  # one known day
    kind = next(k for k in KINDS if k.name == "probe.http")
    c = StepContext(run_id="r", run_key="k", runbook="watch", step_id="probe", step_key="probe", store=sqlite_store)
    out = kind.run(c, {"url": f"{server}/health?token=abc", "locations": ["a", "b"], "timeout": "2s"})
    assert out["all_ok"] and [s["location"] for s in out["samples"]] == ["a", "b"]
    kind.run(c, {"url": f"{server}/down", "location": "a", "timeout": "2s"})
    samples = repository.probe_samples(sqlite_store, "a")
    assert [s.ok for s in samples] == [True, False]
    assert all("token" not in s.target for s in samples)
    obs = repository.load_observations(sqlite_store, locations=["a", "b"], metrics=["uptime_pct"])
    values = obs.metrics["uptime_pct"].values
    assert obs.start + timedelta(days=obs.days - 1) == date(2027, 3, 1)  # the last day is the frozen one
    assert values[0, -1] == 50.0 and values[1, -1] == 100.0  # a: 1 of 2 probes up that day; b: 1 of 1

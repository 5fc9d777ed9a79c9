"""End-to-end fixtures: one Prefect test server for the session, a fresh golive state per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def api_url(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prefect server of the module's own on PostgreSQL, for tests with real workers (its URL).
    Modules that run against the session's test server define their own `api_url`."""
    from worker_support import prefect_server_on_postgres

    with prefect_server_on_postgres(tmp_path_factory.mktemp("prefect"), pg_admin_url) as url:
        yield url


@pytest.fixture
def golive_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Path:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    monkeypatch.setenv("GOLIVE_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("GOLIVE_ORG", str(FIXTURES / "organization-min.yaml"))
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "test-audit-key")
    monkeypatch.setenv("GOLIVE_PDF", "off")  # LibreOffice takes seconds per document; document tests turn it on
    monkeypatch.delenv("GOLIVE_DATABASE_URL", raising=False)
    return tmp_path


RunFn = Callable[..., dict[str, Any]]


@pytest.fixture
def run_book(golive_env: Path) -> RunFn:
    """Run a runbook through the entry flow and return the CLI's JSON result shape."""
    from golive.flows.cli.local_run import collect_result
    from golive.flows.engine.entry import golive_runbook

    def run(path: Path | str, params: Mapping[str, Any] | None = None, *, decisions: Mapping[str, Any] | None = None,
            run_key: str | None = None) -> dict[str, Any]:
        state = golive_runbook(runbook=str(path), parameters=dict(params or {}), run_key=run_key,
                               decisions=dict(decisions or {}), return_state=True)
        return collect_result(state, Path(path).stem)

    return run


def steps_by_key(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in result["steps"]}


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled example group (25 locations) instead of the minimal test organization."""
    from golive.tasks.foundation.paths import DEFAULT_ORG

    monkeypatch.setenv("GOLIVE_ORG", str(DEFAULT_ORG))

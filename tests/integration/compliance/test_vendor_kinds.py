"""Vendor-side PMS steps on a real store: credentials handed over as references only."""

from __future__ import annotations

from typing import Any

import pytest

from golive.tasks.compliance import evidence
from golive.tasks.compliance.kinds import run_credential_handover
from golive.tasks.context import StepContext
from golive.tasks.foundation.secrets import SecretUnavailable
from golive.tasks.planning.organization import Organization

pytestmark = pytest.mark.integration


def _ctx(store: Any, org: Organization) -> StepContext:
    return StepContext(run_id="r", run_key="k", runbook="pms-vendor-setup", step_id="h", step_key="h", org=org,
                       store=store, audit=lambda event, data: store.audit.append(event, data))


def test_the_handover_records_references_never_values(sqlite_store: Any, acme: Organization,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OD_DOWNTOWN_METRO_KEY", raising=False)
    with pytest.raises(SecretUnavailable, match="OD_DOWNTOWN_METRO_KEY is not set"):
        run_credential_handover(_ctx(sqlite_store, acme), {"location": "downtown-metro"})
    monkeypatch.setenv("OD_DOWNTOWN_METRO_KEY", "customer-key-value")
    monkeypatch.setenv("OD_DEVELOPER_KEY", "developer-key-value")
    out = run_credential_handover(_ctx(sqlite_store, acme), {"location": "downtown-metro", "channel": "vault"})
    assert out["references"] == {"secret": "env:OD_DOWNTOWN_METRO_KEY", "developer_secret": "env:OD_DEVELOPER_KEY"}
    assert out["handed_to"] == "Priyanka Desai"
    (rec,) = evidence.history(sqlite_store, subject="pms-credential-handover")
    kept = evidence.stored_file(rec).read_text() + str([e.data for e in sqlite_store.audit.entries()])
    assert "env:OD_DOWNTOWN_METRO_KEY" in kept and "key-value" not in kept

"""`golive audit key` (issue 18): which key this worker signs with, against the store's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from golive.tasks.store import Store
from golive.tasks.store.audit import fingerprint

pytestmark = pytest.mark.integration


def golive(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "GOLIVE_HOME": str(cwd / ".golive"), **env}
    return subprocess.run([sys.executable, "-m", "golive.flows.cli.main", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_audit_key_names_the_source_and_refuses_another_key(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    shared = {"GOLIVE_DATABASE_URL": db, "GOLIVE_AUDIT_KEY": "env:DSO_KEY", "DSO_KEY": "installation-key"}
    store = Store.open(db, audit_key="installation-key")
    store.audit.append("run.start", {})
    store.dispose()

    same = golive("audit", "key", cwd=tmp_path, env=shared)
    assert same.returncode == 0, same.stderr
    assert f"this worker's key: {fingerprint(b'installation-key')} (from GOLIVE_AUDIT_KEY=env:DSO_KEY)" in same.stdout

    other = golive("audit", "key", cwd=tmp_path, env={**shared, "DSO_KEY": "a-stray-key"})
    assert other.returncode == 1 and "the keys differ" in other.stderr and "Traceback" not in other.stderr

    unset = golive("audit", "key", cwd=tmp_path, env={**shared, "GOLIVE_AUDIT_KEY": "env:NOT_SET_ANYWHERE"})
    assert unset.returncode == 2 and "NOT_SET_ANYWHERE is not set" in unset.stderr

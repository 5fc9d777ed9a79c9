"""deploy/compose.yaml, which no container runtime here can start: valid against the Compose
Specification's JSON Schema (deploy/compose-spec.json, see deploy/compose-spec.SOURCE.md), and
the same topology as `make cluster` (deploy/cluster.py): PostgreSQL, Redis, one migration, two API
servers without services, one background-services process, nginx over both API servers, and
process workers with a limit, the pool limit, the zombie automation and heartbeats.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _compose() -> dict[str, Any]:
    from ruamel.yaml import YAML

    return dict(YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text()))  # `<<:` merges resolved


def _cluster() -> Any:
    spec = importlib.util.spec_from_file_location("golive_deploy_cluster", DEPLOY / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _command(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    from jsonschema import Draft7Validator

    schema = json.loads((DEPLOY / "compose-spec.json").read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_file() -> None:
    """The schema is strict enough to fail a misspelt key and a wrong type (so the pass above means something)."""
    from jsonschema import Draft7Validator

    validator = Draft7Validator(json.loads((DEPLOY / "compose-spec.json").read_text()))
    broken = _compose()
    broken["services"]["api-1"]["healthcheck"]["retrys"] = 3
    broken["services"]["nginx"]["ports"] = "4200:4200"
    assert len(list(validator.iter_errors(broken))) >= 2


def test_compose_mirrors_the_plain_process_topology() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api-1", "api-2", "services", "nginx", "worker"}
    assert _command(services["migrate"]) == "prefect server database upgrade -y"
    for name in ("api-1", "api-2"):
        assert re.fullmatch(r"prefect server start --host \S+ --port 4200 --no-services", _command(services[name]))
    assert _command(services["services"]) == "prefect server services start"
    assert services["api-2"]["depends_on"]["api-1"]["condition"] == "service_healthy"  # one after the other

    # The Prefect server settings of every server process: the same keys as cluster.py's, Redis included.
    cluster = _cluster()
    local = cluster.prefect_env({"ports": {"redis": 6379}, "prefect_db": "prefect", "proxy": "http://nginx:4200"})
    plain = {k for k in local if k.startswith("PREFECT_")} - {"PREFECT_HOME", "PREFECT_API_URL", "PREFECT_LOGGING_LEVEL"}
    for name in ("migrate", "api-1", "api-2", "services"):
        env = services[name]["environment"]
        assert set(env) == plain, (name, set(env) ^ plain)
        assert env["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
        assert env["PREFECT_API_DATABASE_MIGRATE_ON_START"] == "false"
        assert env["PREFECT_MESSAGING_BROKER"] == local["PREFECT_MESSAGING_BROKER"] == "prefect_redis.messaging"

    nginx_conf = (DEPLOY / "nginx-compose.conf").read_text()
    assert re.findall(r"server (api-\d):4200", nginx_conf) == ["api-1", "api-2"]
    assert "proxy_next_upstream" in nginx_conf

    worker = services["worker"]
    command = _command(worker)
    assert f"prefect work-pool create {cluster.POOL} --type process" in command
    assert f"prefect work-pool set-concurrency-limit {cluster.POOL}" in command
    assert "golive runs install-automations" in command
    assert re.search(rf"prefect worker start --pool {cluster.POOL} --type process --limit \S+", command)
    plain_worker = cluster.worker_env({"proxy": "http://nginx:4200", "store_db": "golive", "audit_key": "k"})
    env = worker["environment"]
    assert env["PREFECT_API_URL"] == "http://nginx:4200/api"
    assert env["GOLIVE_DATABASE_URL"].rsplit("/", 1)[1] == "golive"  # the database deploy/initdb creates
    assert "CREATE DATABASE golive" in (DEPLOY / "initdb" / "10-golive-store.sql").read_text()
    assert env["GOLIVE_AUDIT_KEY"].startswith("env:")  # one key for every worker, as a secret reference
    assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == plain_worker["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"


def test_the_image_has_the_python_prefect_yaml_runs() -> None:
    """prefect.yaml's worker command is $GOLIVE_CHECKOUT/.venv/bin/python: the image must have it there."""
    from ruamel.yaml import YAML

    commands = {json.dumps(v) for v in _find(YAML(typ="safe").load((ROOT / "prefect.yaml").read_text()), "command")}
    assert any("{{ $GOLIVE_CHECKOUT }}/.venv/bin/python" in c for c in commands), commands
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "ENV GOLIVE_CHECKOUT=/opt/golive" in dockerfile
    assert "python -m venv /opt/golive/.venv" in dockerfile
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()  # not the host's venv copied in


def _find(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == key] + [x for v in value.values() for x in _find(v, key)]
    if isinstance(value, list):
        return [x for v in value for x in _find(v, key)]
    return []


@pytest.fixture(autouse=True)
def _no_cluster_state_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path))  # cluster.py reads it at import; nothing is written

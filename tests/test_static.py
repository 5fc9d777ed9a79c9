"""Static checks run with the tests (ruff, mypy, the import-layer contracts), so a clean tree stays clean.

The code imports as `golive.flows…` / `golive.tasks…` while the folders stay `flows/` and `tasks/`
(pyproject's package-dir). Static tools don't run the editable install's import hook, so they get
a tree of symlinks, `golive/flows -> flows` and `golive/tasks -> tasks`, on their search path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["flows", "tasks", "bench"]


def _run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)


def _golive_tree(base: Path, source: Path = ROOT) -> Path:
    """`base/golive/{flows,tasks}` pointing at `source`'s folders; returns `base` for a search path."""
    (base / "golive").mkdir(parents=True, exist_ok=True)
    for name in ("flows", "tasks"):
        (base / "golive" / name).symlink_to(source / name, target_is_directory=True)
    return base


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", *PACKAGES, "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "MYPYPATH": str(_golive_tree(tmp_path))}
    result = _run("mypy", "--cache-dir", str(ROOT / ".mypy_cache"), "-p", "golive.flows", "-p", "golive.tasks",
                  env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run("mypy", "--cache-dir", str(ROOT / ".mypy_cache"), "bench", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def _lint_imports(cwd: Path, search: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(search)}
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def test_import_layers_hold(tmp_path: Path) -> None:
    result = _lint_imports(ROOT, _golive_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "forbidden"), [
    ("tasks/foundation/probe_forbidden.py", "golive.tasks.store"),         # foundation reaching up
    ("tasks/store/probe_forbidden.py", "golive.tasks.planning.organization"),  # store importing a kind area
    ("tasks/imaging/probe_forbidden.py", "golive.flows.engine.executor"),  # a kind reaching into the engine
    ("tasks/gates/probe_forbidden.py", "golive.tasks.pms.protocol"),      # one area importing another
])
def test_import_contracts_catch_a_forbidden_import(tmp_path: Path, module: str, forbidden: str) -> None:
    """The contracts can fail: a copy of the tree with one forbidden import breaks them."""
    copy = tmp_path / "tree"
    for name in ("flows", "tasks"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / module).write_text(f"import {forbidden}  # a test-only module\n")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["contracts"], "no import contracts in pyproject.toml"
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    result = _lint_imports(copy, _golive_tree(tmp_path / "search", copy))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and forbidden in result.stdout

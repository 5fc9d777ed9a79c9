"""The distribution: one `golive` package in site-packages, and a plain (not editable) install works."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.integration

# Runs golive from a plain install in TARGET, with the editable install's import hook removed, so
# nothing can come from the checkout's flows/ and tasks/ folders.
_FROM_TARGET = """
import sys
target = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in repr(h).lower()]
sys.path_importer_cache.clear()
sys.path.insert(0, target)
import golive.flows.cli.main as cli
assert cli.__file__.startswith(target), cli.__file__
import golive.tasks.foundation.paths as paths
assert str(paths.SCHEMAS).startswith(target), paths.SCHEMAS
sys.argv[0] = "golive"
cli.main()
"""


def test_pyproject_lists_every_package_folder() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"golive": "."}
    listed = {p for p in config["packages"] if p.split(".")[1] in ("flows", "tasks")}
    on_disk = {"golive." + ".".join(init.parent.relative_to(ROOT).parts)
               for top in ("flows", "tasks") for init in (ROOT / top).rglob("__init__.py")}
    on_disk |= {"golive.tasks.store.migrations", "golive.tasks.store.migrations.versions"}  # Alembic's, no __init__
    assert listed == on_disk


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("golive-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"golive", f"{wheel.name.split('-py3')[0]}.dist-info"}, tops  # no top-level flows/ or tasks/
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    assert not (target / "flows").exists() and not (target / "tasks").exists()
    return target


def _golive(target: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOLIVE_HOME": str(home / ".golive"), "GOLIVE_OUT": str(home / "out"),
           "GOLIVE_AUDIT_KEY": "packaging-test-key"}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-c", _FROM_TARGET, str(target), *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=300)


def test_plain_install_validates_runbooks_from_the_checkout(plain_install: Path, tmp_path: Path) -> None:
    result = _golive(plain_install, "validate", "runbooks/", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("runbooks valid")


def test_plain_install_runs_pre_implementation(plain_install: Path, tmp_path: Path) -> None:
    result = _golive(plain_install, "run", "pre-implementation", "--inputs",
                     "examples/acme-dental/pre-implementation-inputs.yaml", "--json", home=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert '"state": "completed"' in result.stdout

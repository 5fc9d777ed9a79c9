"""Where golive's files live: the data folders (schemas, runbooks, templates, models, examples) sit
beside the code, in a checkout and in an installed `golive` package alike."""

from __future__ import annotations

import os
from pathlib import Path

from golive.tasks.foundation.errors import UserInputError

# tasks/foundation/paths.py → the checkout (or site-packages/golive, where the wheel puts the data)
ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
STEP_SCHEMAS = SCHEMAS / "steps"
RUNBOOKS = ROOT / "runbooks"
TEMPLATES = ROOT / "templates"
MODELS = ROOT / "models"
EXAMPLES = ROOT / "examples"
DEFAULT_ORG = EXAMPLES / "acme-dental" / "organization.yaml"


def state_dir() -> Path:
    """Run state (database, Prefect home, audit key); `GOLIVE_HOME` overrides `./.golive`."""
    return Path(os.environ.get("GOLIVE_HOME", ".golive")).resolve()


def out_dir() -> Path:
    """Generated reports and artifacts; `GOLIVE_OUT` overrides `./out`."""
    return Path(os.environ.get("GOLIVE_OUT", "out")).resolve()


def resolve_runbook(ref: str | Path) -> Path:
    """A path, or a name under runbooks/ (`pre-implementation` → runbooks/pre-implementation.yaml)."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise UserInputError(f"{ref}: no such runbook file")
        return candidate
    for suffix in (".yaml", ".yml"):
        named = RUNBOOKS / f"{ref}{suffix}"
        if named.is_file():
            return named
    raise UserInputError(f"{ref}: no runbook of that name in {RUNBOOKS}")


def data_file(ref: str | Path) -> Path:
    """A file a runbook names: absolute, or relative to the working directory, else to the checkout.

    Runbooks ship with paths like `examples/acme-dental/baseline/central.csv`; this lets them run
    from any directory without rewriting parameters.
    """
    path = Path(ref)
    if path.is_absolute() or path.exists():
        return path
    in_checkout = ROOT / path
    return in_checkout if in_checkout.exists() else path

"""Loading the organization file a run uses (`--org`, `GOLIVE_ORG`, else the bundled example)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from golive.tasks.foundation import paths


def org_path(given: str | Path | None = None) -> Path:
    return Path(given or os.environ.get("GOLIVE_ORG") or paths.DEFAULT_ORG)


def load_org(given: str | Path | None = None) -> Any:
    from golive.flows.engine import loaded

    path = org_path(given)
    if not path.is_file():
        from golive.tasks.planning.organization import load_organization

        return load_organization(path)  # its error names the missing file
    return loaded.organization(path)


def org_digest(given: str | Path | None = None) -> str:
    """SHA-256 of the organization file's bytes ("" when it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(org_path(given).read_bytes()).hexdigest()
    except OSError:
        return ""

"""Links to generated documents that the Prefect UI can open: http URLs of golive's report server.

`golive server start` records the report server's address beside the Prefect server's (in
`.golive/prefect-server.json`); `GOLIVE_REPORTS_URL` overrides it (a worker on another host, a
shared web server). Without either, a link stays a `file://` URI.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from golive.tasks.foundation import paths

INFO_FILE = "prefect-server.json"
_MD_TARGET = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")


def reports_base_url() -> str | None:
    given = os.environ.get("GOLIVE_REPORTS_URL")
    if given:
        return given.rstrip("/")
    try:
        url = json.loads((paths.state_dir() / INFO_FILE).read_text()).get("reports_url")
    except (OSError, ValueError, AttributeError):
        return None
    return str(url).rstrip("/") if url else None


def public_url(target: str) -> str:
    """An http URL for a file under out/ when a report server is known; other targets as they are."""
    if target.startswith("file://"):
        path = Path(unquote(urlparse(target).path))
    elif "://" in target:
        return target
    else:
        path = Path(target)
    base = reports_base_url()
    try:
        relative = path.resolve().relative_to(paths.out_dir())
    except ValueError:
        return path.resolve().as_uri() if path.is_absolute() else target
    if base is None:
        return path.resolve().as_uri()
    return f"{base}/{quote(relative.as_posix())}"


def link_markdown(text: str) -> str:
    """Absolute paths under out/ in markdown links and images become report-server URLs."""

    def swap(match: re.Match[str]) -> str:
        target = match[2]
        if target.startswith("/") or target.startswith("file://"):
            return f"{match[1]}{public_url(target)}{match[3]}"
        return match[0]

    return _MD_TARGET.sub(swap, text)

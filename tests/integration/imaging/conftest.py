from __future__ import annotations

from pathlib import Path

import pytest
from imaging_support import phantom_dir, series_copy, start_orthanc

__all__ = ["orthanc", "phantom_dir", "series_copy"]


@pytest.fixture()
def orthanc(tmp_path: Path):
    """A throw-away Orthanc PACS (Debian package `orthanc`) on free ports; skipped when not installed."""
    peer, proc = start_orthanc(tmp_path, "golive-test")
    try:
        yield peer
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)

"""Imaging fixtures shared by the unit and integration conftests (a phantom series and a private copy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from golive.tasks.imaging.phantom import write_phantom


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One phantom (seed 7, held out from training) written as DICOM, shared read-only by the session."""
    out = tmp_path_factory.mktemp("phantom7")
    write_phantom(out, seed=7)
    return out


@pytest.fixture()
def series_copy(phantom_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the phantom series that a test may damage."""
    dst = tmp_path / "series"
    shutil.copytree(phantom_dir / "series", dst)
    return dst

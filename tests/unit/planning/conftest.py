"""Shared fixtures for the planning tests: the example group, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import Organization, load_organization


@pytest.fixture(scope="session")
def acme() -> Organization:
    return load_organization(DEFAULT_ORG)


@pytest.fixture(scope="session")
def acme_path() -> Path:
    return DEFAULT_ORG

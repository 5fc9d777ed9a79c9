from __future__ import annotations

import pytest

from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import Organization, load_organization


@pytest.fixture(scope="session")
def acme() -> Organization:
    return load_organization(DEFAULT_ORG)

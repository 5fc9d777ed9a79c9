import os

import pytest
from hypothesis import settings

# Shared fixtures live in plugin modules beside this file (tests/ is on sys.path via rootdir conftest).
pytest_plugins = ["store_fixtures"]

# Property tests: a fixed seed in the suite (CI must not flake on a newly drawn input); exploration
# with fresh inputs and more examples is a separate, longer run: HYPOTHESIS_PROFILE=explore make test.
settings.register_profile("ci", max_examples=500, derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=5000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.hookimpl(trylast=True)  # after Hypothesis's own hook has marked its tests
def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    """Property tests run first, before any test has started a background thread.

    Hypothesis compares the global `random` state around every draw and reports a change as
    "Do not use the `random` module inside strategies". Threads that earlier tests leave running
    (Prefect's client services, HTTP retries with jitter) touch that state at any moment, so a
    property test that ran after them failed at random. Their draws only stay clean before those
    threads exist.
    """
    items.sort(key=lambda item: item.get_closest_marker("hypothesis") is None)

import os

from hypothesis import settings

# Shared fixtures live in plugin modules beside this file (tests/ is on sys.path via rootdir conftest).
pytest_plugins = ["store_fixtures"]

# Property tests: a fixed seed in the suite (CI must not flake on a newly drawn input); exploration
# with fresh inputs and more examples is a separate, longer run: HYPOTHESIS_PROFILE=explore make test.
settings.register_profile("ci", max_examples=500, derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=5000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

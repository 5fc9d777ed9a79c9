# Shared fixtures live in plugin modules beside this file (tests/ is on sys.path via rootdir conftest).
pytest_plugins = ["store_fixtures"]

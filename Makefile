# The two set-up commands: `make demo` and `make test`. Both create .venv when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow soak bench lint clean cluster cluster-down cluster-status scale-test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m golive.flows.cli.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -rfEs -p no:cacheprovider -n auto --dist loadgroup

# The slow tests (soak, scale, training) that `make test` leaves out.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow

# Exactly-once soak: >= 50 SIGKILLs at every instrumented point and at random instants, each
# resumed with its run key, on SQLite and PostgreSQL (README "Exactly-once runs").
soak: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow tests/e2e/test_crash_resume.py tests/e2e/test_deployment_lease.py -s

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[cluster]"
	$(BIN)/python -m bench

# The shared-installation topology as plain processes (deploy/cluster.py; README "Shared installation"):
# PostgreSQL, Redis, 2 Prefect API servers + 1 background-services process, nginx, N workers.
cluster: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[cluster]"
	$(BIN)/python deploy/cluster.py up

cluster-status: $(STAMP)
	$(BIN)/python deploy/cluster.py status

cluster-down: $(STAMP)
	$(BIN)/python deploy/cluster.py down

# Start the topology, deploy, 24 runs with one API server stopped mid-load, report, stop (deploy/scale_test.py).
scale-test: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[cluster]"
	$(BIN)/python deploy/scale_test.py $(SCALE_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check flows tasks tests bench

clean:
	rm -rf .golive out

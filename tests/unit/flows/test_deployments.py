"""prefect.yaml and golive.flows.deployed agree: every runbook deployed, every entrypoint exists."""

from __future__ import annotations

from ruamel.yaml import YAML

from golive.tasks.foundation import paths

ROOT = paths.ROOT
# Deployments of engine jobs rather than runbooks: `golive runs reconcile` on a schedule.
ENGINE_JOBS = {"golive-reconcile"}


def test_every_runbook_has_a_deployment_with_an_existing_entrypoint() -> None:
    import golive.flows.deployed as deployed

    config = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text())
    entrypoints = {d["name"]: d["entrypoint"] for d in config["deployments"]}
    runbooks = {p.stem for p in paths.RUNBOOKS.glob("*.yaml")}
    assert set(entrypoints) == runbooks | ENGINE_JOBS
    for name, entry in entrypoints.items():
        module, attr = entry.split(":")
        assert module == "golive.flows.deployed", entry  # a module path: workers import the installed package
        flow = getattr(deployed, attr)
        assert flow.name == name


def test_deployed_flow_form_is_typed_from_runbook_parameters() -> None:
    from prefect.utilities.callables import parameter_schema

    import golive.flows.deployed as deployed

    schema = parameter_schema(deployed.pre_implementation.fn).model_dump()
    props = schema["properties"]
    assert props["board_approval_required"]["type"] == "boolean"
    assert props["board_approval_required"]["default"] is True
    assert "Board approves" in props["board_approval_required"]["description"]
    assert {"run_key", "org", "decisions"} <= set(props)


def test_scheduled_deployments_pass_valid_parameters() -> None:
    from golive.flows.engine.validate import check_parameters, validate_file

    config = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text())
    checked = []
    for d in config["deployments"]:
        if d["name"] in ENGINE_JOBS:
            continue
        for schedule in d.get("schedules", []):
            book = validate_file(paths.RUNBOOKS / f"{d['name']}.yaml")
            given = schedule.get("parameters", {})
            used = check_parameters(book, given)  # raises ParameterError when wrong
            assert {k: used[k] for k in given} == given  # taken as written, not coerced
            checked.append(d["name"])
    assert checked, "prefect.yaml has no scheduled deployment: nothing was checked"


def test_schedules_arrive_paused_from_prefect_deploy() -> None:
    """`prefect deploy --all` must not start a schedule with the example group's locations (issue 11)."""
    config = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text())
    schedules = [(d["name"], s) for d in config["deployments"] for s in d.get("schedules", [])]
    assert schedules, "prefect.yaml lists no schedules to check"
    assert [name for name, s in schedules if s.get("active", True) is not False] == []


def test_every_deployment_runs_on_golives_worker_entry() -> None:
    """The process pool's command (flows/engine/worker_entry.py: Prefect's engine entry asking for the
    final state) is on every deployment, so a failed run logs no "Engine execution exited" traceback."""
    import shlex

    from golive.flows.engine import worker_entry

    config = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text())
    commands = {d["name"]: d["work_pool"].get("job_variables", {}).get("command") for d in config["deployments"]}
    assert set(commands.values()) == {"{{ $GOLIVE_CHECKOUT }}/.venv/bin/python -m golive.flows.engine.worker_entry"}
    assert shlex.split(next(iter(commands.values())))[-2:] == ["-m", worker_entry.__name__] and callable(worker_entry.main)

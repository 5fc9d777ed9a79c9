"""`golive rehearse [--org FILE | --generate N] --seed S [--scenario NAME]`: the whole program on a
simulated clock (flows/cli/rehearsal.py), its own home under out/rehearsal/<seed>/ so nothing of
the real program's store is touched. Exit 0 when every invariant held (and was checked) and the
weeks to full deployment are in the playbook's range, 1 otherwise, 2 for bad input."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import typer

from golive.tasks.foundation import paths

SIM_THROTTLE_S = 0.001  # the simulator's pacing scaled down (Open Dental: 5 s a request) for a rehearsal
CLIENT_INTERVAL_S = 0.002


@dataclass
class Simulators:
    """The Open Dental simulator on a current release, (pms-faults) one on an old release, and a
    DICOM receiver standing in for the platform's DICOM endpoint."""

    connection: dict[str, Any]
    old_connection: dict[str, Any] | None = None
    processes: list[Any] = field(default_factory=list)
    dicom_endpoint: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        for p in self.processes:
            p.stop()


def start_simulators(home: Path, faults: bool) -> Simulators:
    from golive.tasks.pms.simulator.process import start_simulator

    home.mkdir(parents=True, exist_ok=True)

    def one(name: str, version: str) -> tuple[Any, dict[str, Any]]:
        sim = start_simulator(home / f"{name}.db", seed=7, version=version, throttle_s=SIM_THROTTLE_S,
                              log_file=home / f"{name}.log")
        env = f"GOLIVE_REHEARSAL_{name.upper().replace('-', '_')}"
        os.environ[f"{env}_CUSTOMER_KEY"] = sim.customer_key
        os.environ[f"{env}_DEVELOPER_KEY"] = sim.developer_key
        return sim, {"product": "opendental", "base_url": sim.url, "secret": f"env:{env}_CUSTOMER_KEY",
                     "developer_secret": f"env:{env}_DEVELOPER_KEY", "allow_insecure_local": True,
                     "request_interval_s": CLIENT_INTERVAL_S}

    from golive.flows.cli.rehearsal import OLD_OPEN_DENTAL

    sim, conn = one("opendental", "25.3.20.0")
    out = Simulators(conn, processes=[sim])
    try:
        if faults:
            old, out.old_connection = one("opendental-old", OLD_OPEN_DENTAL)
            out.processes.append(old)
        out.dicom_endpoint = _dicom_endpoint(home / "dicom-endpoint", out)
    except BaseException:
        out.stop()
        raise
    return out


def _dicom_endpoint(folder: Path, sims: Simulators) -> dict[str, Any]:
    """The platform's DICOM endpoint, stood in by golive's receiver on loopback (any calling AE):
    each location's validation C-ECHOes it as `integration-validation`'s `cbct-endpoint` does."""
    from golive.tasks.imaging.receiver import Receiver

    receiver = Receiver(folder, port=0, host="127.0.0.1", ae_title="PLATFORM").start()
    sims.processes.append(receiver)
    return {"host": "127.0.0.1", "port": receiver.plain_port, "ae_title": receiver.ae_title}


def rehearse(org: Path | None = typer.Option(None, "--org", help="Organization file (default: the example group)"),
             generate: int | None = typer.Option(None, "--generate", min=2, max=200,
                                                 help="Rehearse a generated group of N locations instead"),
             seed: int = typer.Option(..., "--seed", help="Seed: the same seed gives the same rehearsal"),
             scenario: str = typer.Option("baseline", "--scenario", help="baseline | outage | pms-faults"),
             start: str = typer.Option("2027-01-04", "--start", help="First day (YYYY-MM-DD; a Monday is used)"),
             until_wave: int | None = typer.Option(None, "--until-wave", min=1, max=2,
                                                   help="Stop after this wave's gate (a short rehearsal: no weeks to "
                                                        "judge, so exit 1 at best)")) -> None:
    """Rehearse the whole program on a simulated clock: phases, gates, rollbacks, full deployment."""
    from golive.flows.cli.rehearsal import SCENARIOS

    if org is not None and generate is not None:
        raise _bad("--org and --generate exclude each other")
    if scenario not in SCENARIOS:
        raise _bad(f"--scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise _bad(f"--start {start!r} is not a date (YYYY-MM-DD)") from None
    out = paths.out_dir() / "rehearsal" / str(seed)
    org_file = _organization(org, generate, seed, out)
    code = run_rehearsal(org_file, seed, scenario, first, out, until_wave=until_wave)
    raise typer.Exit(code)


def _bad(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _organization(org: Path | None, generate: int | None, seed: int, out: Path) -> Path:
    from golive.flows.engine.org import load_org
    from golive.tasks.foundation.errors import RunbookInvalid, UserInputError

    if generate is not None:
        return generated_organization(out / f"organization-{generate}.yaml", generate, seed)
    target = org or paths.DEFAULT_ORG
    try:
        load_org(str(target))
    except RunbookInvalid as exc:
        raise _bad(str(exc)) from None
    except UserInputError as exc:
        raise _bad(str(exc)) from None
    return target.resolve()


GROUP_WIDE = ("standards", "vendor", "documents", "investment", "access_control")


def generated_organization(path: Path, n: int, seed: int) -> Path:
    """A generated group (locations, regions, people drawn from the seed), completed with the
    group-wide settings the runbooks need and the generator does not draw (enterprise standards,
    the vendor and its key contacts, branding, investment, access matrix): the example group's."""
    from ruamel.yaml import YAML

    from golive.tasks.foundation.yamlsafe import load_yaml
    from golive.tasks.planning.generator import generate_organization_doc

    example = dict(load_yaml(paths.DEFAULT_ORG))
    doc = generate_organization_doc(n, seed)
    for key in GROUP_WIDE:
        if key in example:
            doc[key] = example[key]
    doc["people"] = list(doc.get("people") or []) + [p for p in example.get("people") or []
                                                      if "Vendor" in (p.get("roles") or [])]
    yaml = YAML()
    yaml.default_flow_style = None
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(f"# Generated for golive rehearse: {n} locations, seed {seed}, group-wide settings of the example "
                "group. Not a real group.\n")
        yaml.dump(doc, f)
    return path


def run_rehearsal(org_file: Path, seed: int, scenario: str, start: date, out: Path,
                  echo: Any = typer.echo, until_wave: int | None = None) -> int:
    """Set the rehearsal's own home, one Prefect server and the simulators; run; write; report."""
    from golive.flows.cli import rehearsal, rehearsal_output

    home = out / "home"
    shutil.rmtree(home, ignore_errors=True)  # each rehearsal starts from an empty program
    os.environ["GOLIVE_HOME"] = str(home / ".golive")
    os.environ["GOLIVE_OUT"] = str(home / "out")
    os.environ.setdefault("GOLIVE_AUDIT_KEY", f"rehearsal-{seed}")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")  # a failed run is in the summary, not a traceback
    os.environ.setdefault("GOLIVE_PDF", "off")  # DOCX only: PDF conversion takes seconds per document
    os.environ.pop("GOLIVE_DATABASE_URL", None)
    from golive.flows.engine import prefect_env

    prefect_env.configure()
    prefect_env.tie_temporary_server()
    prefect_env.start_temporary_server()
    sims = start_simulators(home / "simulators", scenario == "pms-faults")
    try:
        outcome = rehearsal.rehearse(org_file, seed, rehearsal.SCENARIOS[scenario], start, sims,
                                     progress=lambda m: echo(f"  {m}"), until_wave=until_wave)
    finally:
        sims.stop()
    files = rehearsal_output.write(outcome, out, scenario, seed)
    echo(rehearsal_output.markdown(rehearsal_output.summary(outcome, scenario, seed)))
    for what, path in files.items():
        echo(f"{what}: {path}")
    ok = outcome.invariants_ok and outcome.weeks_ok and outcome.confirmed_on is not None and not outcome.failed_runs
    return 0 if ok else 1

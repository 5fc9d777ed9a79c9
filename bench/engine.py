"""Engine benchmarks.

(0) `golive validate runbooks/` as a user runs it (a new process; goal < 0.8 s), against a bare
    `python -c "import jsonschema, ruamel.yaml"` start-up: what any validator pays before it reads.
(a) validate + compile a generated 2,000-step runbook (goal < 1 s), against a bare
    ruamel load + jsonschema validation of the same file (the floor any validator pays).
(b) a 200-step no-op runbook run by golive vs the same 200 no-op tasks in a hand-written Prefect
    flow, on the same backend in the same process (goal ratio <= 1.10). golive's side includes the
    run-key lease (taken, heart-beaten, released) and the per-step unit (result + audit entries in
    one transaction). Median and spread (fastest–slowest, per-pair ratios) of interleaved (ABBA)
    runs, GOLIVE_BENCH_PAIRS pairs (default 9); also the CPU time of the process, which other
    programs on a shared machine move less than the wall clock.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.timing import Samples, interleaved, ratio_line


def generated_runbook(steps: int, path: Path, *, fan: int = 4) -> Path:
    """A runbook of `steps` steps: chains with fan-in every `fan` steps, parameters and templates."""
    lines = ["apiVersion: golive/v1", "kind: Runbook", "metadata: {name: generated}",
             "parameters:", "  n: {type: integer, default: 1}", "steps:"]
    for i in range(steps):
        needs = [f"s{i - k}" for k in range(1, fan + 1) if i - k >= 0 and (i % fan == 0 or k == 1)]
        lines.append(f"  - id: s{i}")
        lines.append("    uses: expect")
        if needs:
            lines.append(f"    needs: [{', '.join(needs)}]")
        lines.append(f"    with: {{that: \"params.n > 0\", message: \"step {i} of {{{{ params.n }}}}\"}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_validate(tmp: Path) -> list[str]:
    import json

    from jsonschema import Draft202012Validator
    from ruamel.yaml import YAML

    from golive.flows.engine.plan import ordered
    from golive.flows.engine.validate import validate_file
    from golive.tasks.foundation import paths

    book = generated_runbook(2000, tmp / "big.yaml")
    schema = json.loads((paths.SCHEMAS / "runbook.schema.json").read_text())
    validator = Draft202012Validator(schema)

    def baseline() -> None:
        doc = YAML(typ="rt").load(book.read_text())
        list(validator.iter_errors(doc))

    def ours() -> None:
        ordered(validate_file(book).steps)

    ours()  # warm caches (schemas, compiled expressions) like a long-lived process
    t_ours, t_base = _time(ours, 3), _time(baseline, 3)
    return [f"validate+compile 2,000 steps: {t_ours:.3f} s (goal < 1 s); "
            f"baseline ruamel load + jsonschema only: {t_base:.3f} s; ratio {t_ours / t_base:.2f}"]


def bench_cli_validate(repeat: int = 7) -> list[str]:
    import subprocess
    import sys

    from golive.tasks.foundation import paths

    golive = Path(sys.executable).with_name("golive")

    def ours() -> None:
        subprocess.run([str(golive), "validate", str(paths.RUNBOOKS)], check=True, capture_output=True)

    def bare() -> None:
        subprocess.run([sys.executable, "-c", "import jsonschema, ruamel.yaml"], check=True, capture_output=True)

    mine, base = interleaved(ours, bare, repeat)
    return [ratio_line("golive validate runbooks/ (new process)", mine, "python -c 'import jsonschema, ruamel.yaml'",
                       base, goal="goal < 0.8 s")]


def pairs() -> int:
    """How many interleaved pairs the end-to-end comparison runs (GOLIVE_BENCH_PAIRS, default 9)."""
    try:
        return max(3, int(os.environ.get("GOLIVE_BENCH_PAIRS", "9")))
    except ValueError:
        return 9


def bench_run(tmp: Path, steps: int = 200, repeat: int | None = None) -> list[str]:
    repeat = repeat or pairs()
    os.environ.setdefault("GOLIVE_HOME", str(tmp / ".golive"))
    os.environ.setdefault("GOLIVE_OUT", str(tmp / "out"))
    from golive.flows.engine import prefect_env

    prefect_env.configure()
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    import golive.flows.engine.entry as entry
    from golive.flows.engine.entry import golive_runbook, thread_pool

    lines = ["apiVersion: golive/v1", "kind: Runbook", "metadata: {name: noop}", "steps:"]
    lines += [f"  - {{id: s{i}, uses: expect, with: {{that: 'true'}}}}" for i in range(steps)]
    book = tmp / "noop.yaml"
    book.write_text("\n".join(lines) + "\n")

    @task(cache_policy=NO_CACHE, persist_result=False)
    def noop(i: int) -> dict[str, bool]:
        return {"passed": True}

    inside: dict[str, list[float]] = {"hand": [], "ours": []}

    @flow(task_runner=thread_pool(), validate_parameters=False)  # the same runner golive uses
    def hand_written(n: int) -> None:
        started = time.perf_counter()
        futures = [noop.with_options(name=f"s{i}").submit(i) for i in range(n)]
        for f in futures:
            f.wait()
        inside["hand"].append(time.perf_counter() - started)

    body = entry.run_runbook

    def timed_body(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return body(*args, **kwargs)
        finally:
            inside["ours"].append(time.perf_counter() - started)

    golive_runbook.fn.__globals__["run_runbook"] = timed_body  # the flow's own module global
    run_no = iter(range(10_000))

    def ours() -> None:
        state: Any = golive_runbook(runbook=str(book), run_key=f"bench-{next(run_no)}", return_state=True)
        assert state.is_completed(), state.message

    hand_written(5)  # starts the temporary server once, for both
    ours()
    hand_samples: list[float] = []
    our_samples: list[float] = []
    hand_cpu: list[float] = []
    our_cpu: list[float] = []
    inside["hand"].clear()
    inside["ours"].clear()

    def sample(fn: Any, wall: list[float], cpu: list[float]) -> None:
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)

    for i in range(repeat):  # interleaved ABBA, so a noisy moment or a drift hits both sides alike
        sides = [(lambda: hand_written(steps), hand_samples, hand_cpu), (ours, our_samples, our_cpu)]
        for fn, wall, cpu in sides if i % 2 == 0 else sides[::-1]:
            sample(fn, wall, cpu)
    golive_runbook.fn.__globals__["run_runbook"] = body
    # Prefect ends every flow run on its heartbeat thread's next 1-second tick, so end-to-end times
    # move in ~1 s steps; the time inside the flow shows the engine's own cost without that step.
    return [ratio_line(f"{steps} no-op steps end to end (lease + step transactions)", Samples(tuple(our_samples)),
                       "hand-written Prefect flow", Samples(tuple(hand_samples)), goal="goal ratio <= 1.10"),
            ratio_line(f"{steps} no-op steps inside the flow (validate, lease, schedule, record, audit)",
                       Samples(tuple(inside["ours"])), "hand-written", Samples(tuple(inside["hand"]))),
            # CPU seconds of this process (engine + Prefect client; the server is another process):
            # what the engine itself costs, less moved by other programs on a shared machine.
            ratio_line(f"{steps} no-op steps, CPU time of the running process", Samples(tuple(our_cpu)),
                       "hand-written", Samples(tuple(hand_cpu)))]


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        return bench_cli_validate() + bench_validate(Path(tmp)) + bench_run(Path(tmp))

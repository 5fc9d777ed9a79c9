"""README.md's shell examples, read as a new user reads them: every `golive` command shown exists
with the flags shown, and the cheap ones run as written against the example group. The README
cannot drift from the CLI without this test failing on the line that drifted."""

from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.tasks.foundation.paths import ROOT

pytestmark = pytest.mark.integration

README = ROOT / "README.md"
# Commands that finish in seconds on the example group without a server, simulator or peer.
CHEAP = {("validate",), ("plan",), ("org", "check"), ("metrics", "import"), ("imaging", "phantom"),
         ("imaging", "inspect"), ("audit", "verify")}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*(=.*)?$|\.\.\.|\|")  # RUNBOOK, NAME, a|b, ...


def _examples() -> list[tuple[int, list[str]]]:
    """(README line, argv after `golive`) for each `golive` line inside a ```sh block."""
    found, in_sh = [], False
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_sh = line.strip() in ("```sh", "```bash", "```console")
            continue
        text = line.strip().removeprefix("$ ")
        if in_sh and text.startswith((".venv/bin/golive ", "golive ")):
            found.append((number, shlex.split(text, comments=True)[1:]))
    return found


def _required(argv: list[str]) -> list[str]:
    """argv without its optional `[...]` groups."""
    out, depth = [], 0
    for token in argv:
        depth += token.count("[") if token.startswith("[") else 0
        if depth == 0:
            out.append(token)
        depth -= token.count("]") if depth and token.endswith("]") else 0
    return out


def _command(argv: list[str]) -> tuple[tuple[str, ...], list[Any]]:
    """The subcommand path named by argv, and the click command(s) it resolves to (`a|b` gives several)."""
    root = typer.main.get_command(app)
    path: list[str] = []
    commands: list[Any] = [root]  # typer's own click: groups are told apart by their `commands`
    for token in argv:
        group = commands[0]
        if not hasattr(group, "commands") or token.startswith("-"):
            break
        names = token.split("|")
        if not all(n in group.commands for n in names):
            break
        path.append(token)
        commands = [group.commands[n] for n in names]
    return tuple(path), commands


EXAMPLES = _examples()


def test_the_readme_shows_golive_examples() -> None:
    assert len(EXAMPLES) >= 10, "no `golive` examples found in README.md's ```sh blocks"


@pytest.mark.parametrize(("line", "argv"), EXAMPLES, ids=[f"README:{n}" for n, _ in EXAMPLES])
def test_each_command_and_flag_exists(line: int, argv: list[str]) -> None:
    path, commands = _command(argv)
    assert path, f"README.md:{line}: `golive {' '.join(argv)}` names no golive command"
    for command in commands:
        assert not hasattr(command, "commands"), f"README.md:{line}: `{' '.join(path)}` needs a subcommand"
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        shown = {t.strip("[]").split("=")[0] for t in argv if t.strip("[").startswith("--")}
        assert shown <= known, f"README.md:{line}: {sorted(shown - known)} not options of `golive {' '.join(path)}`"


def _cheap() -> list[tuple[int, list[str]]]:
    out = []
    for line, argv in EXAMPLES:
        argv = _required(argv)
        path, _ = _command(argv)
        if path in CHEAP and not any(PLACEHOLDER.search(t) for t in argv):
            out.append((line, argv))
    return out


def test_the_cheap_examples_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In README order, from a folder that holds the repository's examples and runbooks, with a
    fresh GOLIVE_HOME: what a new user who copies the lines gets."""
    cheap = _cheap()
    assert {_command(a)[0] for _, a in cheap} == CHEAP, "README.md lost the example of a cheap command"
    for name in ("examples", "runbooks"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    monkeypatch.setenv("GOLIVE_OUT", str(tmp_path / "out"))
    monkeypatch.delenv("GOLIVE_ORG", raising=False)
    # The installation's audit key (README, Environment): `audit verify` never creates one.
    monkeypatch.setenv("GOLIVE_AUDIT_KEY", "readme-examples-key")
    runner = CliRunner()
    for line, argv in cheap:
        expanded = [m for t in argv for m in (sorted(glob.glob(t)) if "*" in t else [t])]
        result = runner.invoke(app, expanded)
        assert result.exit_code == 0, f"README.md:{line}: golive {' '.join(argv)}\n{result.output}"


def test_run_and_plan_examples_name_shipped_runbooks_and_their_parameters() -> None:
    from golive.flows.cli.main import parse_params
    from golive.flows.engine.validate import check_parameters, validate_file
    from golive.tasks.foundation.paths import RUNBOOKS

    checked = 0
    for line, argv in EXAMPLES:
        if argv[0] not in ("run", "plan"):
            continue
        book = RUNBOOKS / f"{argv[1]}.yaml"
        assert book.is_file(), f"README.md:{line}: no shipped runbook named {argv[1]!r}"
        given = parse_params([value for flag, value in zip(argv, argv[1:], strict=False) if flag == "-p"])
        check_parameters(validate_file(book), given, require_all=False)  # ParameterError names the problem
        checked += 1
    assert checked >= 3

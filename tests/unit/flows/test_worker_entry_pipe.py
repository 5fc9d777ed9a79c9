"""worker_entry.PipeGuard against a real broken pipe: Prefect's console handler (rich) exits the
process with SystemExit(1) when its stream's reader is gone; through the guard it carries on."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from golive.flows.engine.worker_entry import PipeGuard


def _broken_pipe_stream() -> io.TextIOWrapper:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the worker that read it is gone
    return io.TextIOWrapper(os.fdopen(write_end, "wb"), line_buffering=True)


def test_rich_exits_on_a_broken_pipe_without_the_guard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stream = _broken_pipe_stream()
    # rich points sys.stdout's descriptor at /dev/null before exiting: a file of this test's, not pytest's.
    with open(tmp_path / "stdout", "w") as scratch:
        monkeypatch.setattr(sys, "stdout", scratch)
        with pytest.raises(SystemExit):
            Console(file=stream).print("a log line")


def test_the_guard_keeps_the_process_going_and_drops_the_output() -> None:
    stream = _broken_pipe_stream()
    guarded = PipeGuard(stream)
    console = Console(file=guarded)  # type: ignore[arg-type]
    for _ in range(3):
        console.print("a log line")
    guarded.write("more\n")
    guarded.flush()
    assert guarded.diverted
    assert os.readlink(f"/proc/self/fd/{stream.fileno()}") == os.devnull
    stream.close()

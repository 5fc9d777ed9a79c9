"""Ports on a shared machine. A number that was free a moment ago may not be free now, so tests
never bind port 0, close it and reuse the number (another process may have taken it in between)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class PortTaken(Exception):
    """A server given a port number exited at start-up: another process took the port first."""


@contextmanager
def refused_port() -> Iterator[int]:
    """A 127.0.0.1 port that refuses connections while the block runs: bound by us, never listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def _candidate() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_on_free_ports(start: Callable[[tuple[int, ...]], T], count: int = 1, attempts: int = 5) -> T:
    """For servers that must be told their ports (Orthanc, storescp): `start` raises PortTaken when
    the server exits at start-up, and new ports are picked."""
    for _ in range(attempts):
        try:
            return start(tuple(_candidate() for _ in range(count)))
        except PortTaken:
            continue
    raise AssertionError(f"no free ports after {attempts} attempts")

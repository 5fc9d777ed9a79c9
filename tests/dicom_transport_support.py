"""Shared by the DICOM transport tests: a test CA issued at test time, secret references to it, a
policy builder, and DCMTK command helpers."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from net_support import PortTaken

from golive.tasks.imaging.pki import IssuedPki, issue_test_pki
from golive.tasks.imaging.policy import MB, ObjectType, ReceiverPolicy, TlsSettings

needs_dcmtk = pytest.mark.skipif(shutil.which("storescu") is None or shutil.which("storescp") is None,
                                 reason="DCMTK is not installed (apt-get install dcmtk; .ci/apt-packages has it)")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> IssuedPki:
    return issue_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture()
def tls_env(pki: IssuedPki, monkeypatch: pytest.MonkeyPatch) -> IssuedPki:
    """Secret references `env:RX_CERT`, `env:RX_KEY`, `env:RX_CA`, `env:TX_*` name the PEM files."""
    for name, path in {"RX_CERT": pki.receiver.certificate, "RX_KEY": pki.receiver.key, "RX_CA": pki.ca,
                       "TX_CERT": pki.sender.certificate, "TX_KEY": pki.sender.key, "TX_CA": pki.ca}.items():
        monkeypatch.setenv(name, str(path))
    return pki


SENDER_TLS = {"ca": "env:TX_CA", "certificate": "env:TX_CERT", "key": "env:TX_KEY"}


def lab_policy(**changes: Any) -> ReceiverPolicy:
    """A TLS-only policy on loopback: STORESCU and SENDER may send from 127.0.0.1, CT only."""
    base: dict[str, Any] = dict(
        location="lab", bind="127.0.0.1", allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        allowed_calling_aes=frozenset({"STORESCU", "SENDER"}), objects=frozenset({ObjectType.CT}),
        min_free_disk_bytes=1 * MB,
        tls=TlsSettings("env:RX_CERT", "env:RX_KEY", "env:RX_CA", required=True, port=0))
    return ReceiverPolicy(**(base | changes))


def tls_args(pki: IssuedPki, pair: Any = None) -> list[str]:
    """storescu/echoscu options for TLS with a client certificate (default: the valid sender's)."""
    pair = pair or pki.sender
    return ["+tls", str(pair.key), str(pair.certificate), "+cf", str(pki.ca)]


def dcmtk(tool: str, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def reasons(audited: list[tuple[str, Mapping[str, Any]]]) -> list[str]:
    return [str(d["reason"]) for e, d in audited if e == "imaging.dicom_refused"]


def wait_for_port(host: str, port: int, timeout_s: float = 20.0, alive: subprocess.Popen[bytes] | None = None) -> None:
    """Until something listens on the port; with `alive`, PortTaken when that server exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise PortTaken(f"{alive.args[0]} exited with {alive.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on {host}:{port} within {timeout_s} s")


def wait_until(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    """Poll a condition (another thread's doing) until it holds; fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(0.01)



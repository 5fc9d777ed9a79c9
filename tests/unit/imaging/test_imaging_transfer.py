"""The pure verdict on a transfer: whole, unchanged, lossless, right association, on time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from golive.tasks.imaging.network import SendReport, SentInstance, verify_transfer
from golive.tasks.imaging.receiver import Received


def _pair(n: int, t0: float = 1000.0) -> tuple[SendReport, list[Received]]:
    sent = tuple(SentInstance(f"1.2.{i}", "1.3", "1.4", "pk", "1.2.840.10008.1.2.1", f"h{i}", 0, Path(f"{i}.dcm"))
                 for i in range(n))
    recv = [Received(f"1.2.{i}", "1.3", "1.4", "pk", "1.2.840.10008.1.2.1", f"h{i}", t0 + 1 + i, Path(f"r{i}"), "X")
            for i in range(n)]
    return SendReport(sent, t0, t0 + n), recv


def test_a_clean_transfer_passes_with_its_arrival_time() -> None:
    report, recv = _pair(5)
    v = verify_transfer(report, recv, budget_s=300)
    assert v.passed and v.arrived == 5 and v.arrival_s == 5.0


def test_each_problem_is_named() -> None:
    report, recv = _pair(6)
    recv = recv[:-1]  # one slice lost
    recv[0] = replace(recv[0], pixel_sha256="other")  # pixels changed
    recv[1] = replace(recv[1], transfer_syntax="1.2.840.10008.1.2.4.50")  # JPEG baseline: lossy
    recv[2] = replace(recv[2], patient_key="someone-else")  # wrong patient association
    v = verify_transfer(report, recv, budget_s=2)
    assert not v.passed
    assert (v.missing, v.changed, v.lossy, v.wrong_association) == (1, 1, 1, 1)
    text = " ".join(v.problems)
    for word in ("did not arrive", "different pixel data", "lossy", "another patient", "budget"):
        assert word in text


def test_failed_store_status_counts_as_missing() -> None:
    report, recv = _pair(2)
    report = SendReport((replace(report.instances[0], status=0xA700), report.instances[1]), 1000.0, 1002.0)
    assert verify_transfer(report, recv, 300).missing == 1

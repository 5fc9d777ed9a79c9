"""DICOM network checks against our receiver and independent real peers (DCMTK, Orthanc)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from net_support import refused_port

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.imaging import kinds
from golive.tasks.imaging.errors import DicomNetworkError, TransferCheckFailed
from golive.tasks.imaging.network import Peer, echo, query_instances, send_series, verify_transfer
from golive.tasks.imaging.receiver import Receiver

pytestmark = pytest.mark.integration


def _ctx(tmp_path: Path) -> StepContext:
    return StepContext(run_id="r1", run_key="rk", runbook="integration-validation", step_id="cbct",
                       step_key="cbct", out_dir=tmp_path)


def _series(phantom_dir: Path) -> list[Path]:
    return sorted((phantom_dir / "series").glob("*.dcm"))


def test_send_to_receiver_arrives_whole_unchanged(phantom_dir: Path, tmp_path: Path) -> None:
    files = _series(phantom_dir)
    with Receiver(tmp_path / "in", port=0) as r:
        assert echo(Peer("127.0.0.1", r.port, "GOLIVE")).ok
        report = send_series(files, Peer("127.0.0.1", r.port, "GOLIVE"))
        received = r.received
    verdict = verify_transfer(report, received, budget_s=300)
    assert verdict.passed, verdict.problems
    assert verdict.sent == verdict.arrived == len(files)
    stored = sorted((tmp_path / "in").rglob("*.dcm"))
    assert len(stored) == len(files)
    assert pydicom.dcmread(stored[0]).PixelData in {pydicom.dcmread(f).PixelData for f in files}


def test_dcmtk_echoscu_and_storescu_to_our_receiver(phantom_dir: Path, tmp_path: Path) -> None:
    if shutil.which("storescu") is None or shutil.which("echoscu") is None:
        pytest.skip("DCMTK is not installed (apt-get install dcmtk)")
    files = _series(phantom_dir)
    with Receiver(tmp_path / "in", port=0) as r:
        e = subprocess.run(["echoscu", "-aec", "GOLIVE", "127.0.0.1", str(r.port)], capture_output=True, timeout=60)
        s = subprocess.run(["storescu", "-aec", "GOLIVE", "127.0.0.1", str(r.port), *map(str, files)],
                           capture_output=True, timeout=120)
        received = r.received
    assert e.returncode == 0 and s.returncode == 0, (e.stderr, s.stderr)
    assert len(received) == len(files)
    assert {x.calling_ae for x in received} == {"STORESCU"}
    sent = {pydicom.dcmread(f).SOPInstanceUID for f in files}
    assert {x.sop_instance_uid for x in received} == sent


def test_echo_with_nothing_listening_is_a_typed_error() -> None:
    with refused_port() as port, pytest.raises(DicomNetworkError):
        echo(Peer("127.0.0.1", port, "NOBODY", timeout_s=2))


def test_kinds_echo_and_send_with_the_stand_in_receiver(phantom_dir: Path, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    out = kinds.run_echo(ctx, {})
    assert out["ok"] and "stand-in" in out["endpoint"]
    sent = kinds.run_send(ctx, {"series": str(phantom_dir / "series"), "max_arrival": "5m"})
    assert sent["passed"] and sent["arrived"] == 60 and sent["arrival_s"] < 300
    assert "PHANTOM" not in str(sent)  # no patient identifiers in step outputs
    assert any(p[1] == "imaging-transfer" for p in ctx.artifacts.published)  # type: ignore[attr-defined]


def test_send_fails_when_the_budget_is_exceeded(phantom_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TransferCheckFailed, match="budget"):
        kinds.run_send(_ctx(tmp_path), {"series": str(phantom_dir / "series"), "max_arrival": 0.001})


def test_echo_kind_fails_on_a_dead_endpoint(tmp_path: Path) -> None:
    with refused_port() as port, pytest.raises(StepFailed, match="C-ECHO"):
        kinds.run_echo(_ctx(tmp_path), {"host": "127.0.0.1", "port": port, "timeout_s": 2})


def test_orthanc_as_pacs_send_and_query(orthanc: Peer, phantom_dir: Path, tmp_path: Path) -> None:
    files = _series(phantom_dir)
    report = send_series(files, orthanc)
    assert all(i.status == 0 for i in report.instances)
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    assert len(query_instances(orthanc, ds.StudyInstanceUID, ds.SeriesInstanceUID)) == len(files)
    out = kinds.run_send(_ctx(tmp_path), {"series": str(phantom_dir / "series"), "host": orthanc.host,
                                          "port": orthanc.port, "ae_title": orthanc.ae_title,
                                          "max_arrival": "2m", "poll_s": 0.2})
    assert out["passed"] and out["arrived"] == len(files)
    assert "C-GET" in out["endpoint"] and out["changed"] == 0 and out["wrong_association"] == 0
    assert kinds.run_echo(_ctx(tmp_path), {"host": orthanc.host, "port": orthanc.port,
                                           "ae_title": "ORTHANC"})["ok"]

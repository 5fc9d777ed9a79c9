from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from imaging_support import phantom_dir, series_copy

__all__ = ["orthanc", "phantom_dir", "series_copy"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def orthanc(tmp_path: Path):
    """A throw-away Orthanc PACS (Debian package `orthanc`) on free ports; skipped when not installed."""
    import json
    import subprocess
    import time

    exe = shutil.which("Orthanc")
    if exe is None:
        pytest.skip("Orthanc is not installed (apt-get install orthanc)")
    dicom_port, http_port = free_port(), free_port()
    cfg = tmp_path / "orthanc.json"
    cfg.write_text(json.dumps({
        "Name": "golive-test", "StorageDirectory": str(tmp_path / "db"), "IndexDirectory": str(tmp_path / "db"),
        "DicomAet": "ORTHANC", "DicomPort": dicom_port, "HttpPort": http_port, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True, "DicomCheckCalledAet": False, "Plugins": []}))
    proc = subprocess.Popen([exe, str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    from golive.tasks.imaging.errors import DicomNetworkError
    from golive.tasks.imaging.network import Peer, echo

    peer = Peer("127.0.0.1", dicom_port, "ORTHANC", timeout_s=5)
    try:
        for _ in range(100):
            try:
                echo(peer)
                break
            except DicomNetworkError:
                time.sleep(0.1)
        else:
            pytest.fail("Orthanc did not answer C-ECHO within 10 s")
        yield peer
    finally:
        proc.terminate()
        proc.wait(timeout=10)

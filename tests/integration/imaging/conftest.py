from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from imaging_support import phantom_dir, series_copy
from net_support import PortTaken, start_on_free_ports

__all__ = ["orthanc", "phantom_dir", "series_copy"]


@pytest.fixture()
def orthanc(tmp_path: Path):
    """A throw-away Orthanc PACS (Debian package `orthanc`) on free ports; skipped when not installed."""
    import json
    import subprocess
    import time

    from golive.tasks.imaging.errors import DicomNetworkError
    from golive.tasks.imaging.network import Peer, echo

    exe = shutil.which("Orthanc")
    if exe is None:
        pytest.skip("Orthanc is not installed (apt-get install orthanc)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(ports: tuple[int, ...]) -> Peer:
        dicom_port, http_port = ports
        cfg = tmp_path / "orthanc.json"
        cfg.write_text(json.dumps({
            "Name": "golive-test", "StorageDirectory": str(tmp_path / "db"), "IndexDirectory": str(tmp_path / "db"),
            "DicomAet": "ORTHANC", "DicomPort": dicom_port, "HttpPort": http_port, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True, "DicomCheckCalledAet": False, "Plugins": []}))
        proc = subprocess.Popen([exe, str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
        procs.append(proc)
        peer = Peer("127.0.0.1", dicom_port, "ORTHANC", timeout_s=5)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                echo(peer)
                return peer
            except DicomNetworkError:
                if proc.poll() is not None:  # Orthanc exits when a port it was given is taken
                    raise PortTaken from None
                time.sleep(0.1)
        pytest.fail("Orthanc did not answer C-ECHO within 30 s")

    try:
        yield start_on_free_ports(start, count=2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)

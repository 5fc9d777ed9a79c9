"""Imaging fixtures shared by the unit and integration conftests (a phantom series and a private copy)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from golive.tasks.imaging.phantom import write_phantom

if TYPE_CHECKING:
    import numpy as np


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One phantom (seed 7, held out from training) written as DICOM, shared read-only by the session."""
    out = tmp_path_factory.mktemp("phantom7")
    write_phantom(out, seed=7)
    return out


@pytest.fixture()
def series_copy(phantom_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the phantom series that a test may damage."""
    dst = tmp_path / "series"
    shutil.copytree(phantom_dir / "series", dst)
    return dst


def write_foreign_series(hu: np.ndarray, spacing: tuple[float, float, float], out: Path, *,
                         frame_of_reference: bool = True, syntax: str | None = None,
                         series_uid: str | None = None, origin: tuple[float, float, float] = (-40.0, -36.0, -30.0),
                         lossy_cr: int = 20) -> Path:
    """A CT series written the way another vendor's exporter might, by plain pydicom (not golive's writer):
    signed 16-bit values, implicit VR, patient-feet-first slice order, and none of the type 2 attributes
    AccessionNumber, StudyID, StudyTime, ReferringPhysicianName, PatientBirthDate, PatientSex; optionally
    no Frame of Reference UID and a compressed transfer syntax (`syntax`, encoded by pydicom's plugins)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import JPEG2000, CTImageStorage, ImplicitVRLittleEndian, generate_uid

    out.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), series_uid or generate_uid()
    frame = generate_uid()
    nk = hu.shape[0]
    for n, k in enumerate(range(nk - 1, -1, -1)):  # written top slice first, numbered from 1
        ds = Dataset()
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        if frame_of_reference:
            ds.FrameOfReferenceUID = frame
        ds.Modality = "CT"
        ds.PatientID = "OTHER-VENDOR-1"
        ds.PatientName = "Test^Foreign"
        ds.InstanceNumber = n + 1
        ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[0]]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.Rows, ds.Columns = int(hu.shape[1]), int(hu.shape[2])
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = np.ascontiguousarray(hu[k].astype(np.int16)).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.file_meta = meta
        if syntax is not None:
            kwargs = {"j2k_cr": [lossy_cr]} if syntax == JPEG2000 else {}
            ds.compress(syntax, **kwargs)
        ds.save_as(out / f"IMG{n:05d}", enforce_file_format=True)
    return out


def start_orthanc(folder: Path, name: str, lua_scripts: tuple[Path, ...] = ()) -> tuple[Any, Any]:
    """A throw-away Orthanc PACS (Debian package `orthanc`) on free ports, answering C-ECHO:
    (peer, process). The caller stops the process. Skips the test when Orthanc is not installed."""
    import json
    import subprocess
    import time

    from net_support import PortTaken, start_on_free_ports

    from golive.tasks.imaging.errors import DicomNetworkError
    from golive.tasks.imaging.network import Peer, echo

    exe = shutil.which("Orthanc")
    if exe is None:
        pytest.skip("Orthanc is not installed (apt-get install orthanc)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(ports: tuple[int, ...]) -> Any:
        dicom_port, http_port = ports
        cfg = folder / "orthanc.json"
        cfg.write_text(json.dumps({
            "Name": name, "StorageDirectory": str(folder / "orthanc-db"), "IndexDirectory": str(folder / "orthanc-db"),
            "DicomAet": "ORTHANC", "DicomPort": dicom_port, "HttpPort": http_port, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True, "DicomCheckCalledAet": False, "Plugins": [],
            "LuaScripts": [str(p) for p in lua_scripts]}))
        proc = subprocess.Popen([exe, str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
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
        proc.terminate()
        pytest.fail("Orthanc did not answer C-ECHO within 30 s")

    peer = start_on_free_ports(start, count=2)
    return peer, procs[-1]

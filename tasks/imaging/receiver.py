"""A DICOM receiver (pynetdicom C-ECHO + C-STORE SCP) that can stand in as the imaging endpoint.

Each stored instance is written as received (its transfer syntax kept) under
`out_dir/<series key>/<n>.dcm` and recorded with its arrival time and a pixel hash, so a sender can
prove the series arrived whole, unchanged and on time. Identifiers are hashed before logging.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

log = logging.getLogger(__name__)


def short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:10]


def pixel_hash(ds: Dataset) -> str:
    """SHA-256 of the pixel values: raw bytes for native syntaxes, decoded values for encapsulated ones.

    Lossless recompression keeps the hash; any change of a pixel value (or lossy coding) changes it.
    """
    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2"))) if hasattr(ds, "file_meta") \
        else UID("1.2.840.10008.1.2")
    if "PixelData" not in ds:
        return ""
    if not ts.is_compressed and ts.is_little_endian:
        n = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * (int(ds.BitsAllocated) // 8) \
            * int(ds.get("NumberOfFrames", 1) or 1)
        return hashlib.sha256(bytes(ds.PixelData[:n])).hexdigest()
    arr = np.ascontiguousarray(ds.pixel_array)
    return hashlib.sha256(arr.astype(arr.dtype.newbyteorder("<")).tobytes()).hexdigest()


@dataclass(frozen=True)
class Received:
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    patient_key: str  # hash of PatientID: compare, never show
    transfer_syntax: str
    pixel_sha256: str
    arrived_at: float  # time.time()
    path: Path
    calling_ae: str


class Receiver:
    """Run with `with Receiver(out_dir, port=0) as r:` (port 0 picks a free port: `r.port`)."""

    def __init__(self, out_dir: Path | str, port: int = 11112, host: str = "127.0.0.1",
                 ae_title: str = "GOLIVE") -> None:
        self.out_dir = Path(out_dir)
        self.host = host
        self.requested_port = port
        self.ae_title = ae_title
        self._lock = threading.Lock()
        self._records: list[Received] = []
        self._server: Any = None
        self._n = 0

    @property
    def port(self) -> int:
        if self._server is None:
            return self.requested_port
        return int(self._server.server_address[1])

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._records)

    def _on_echo(self, event: evt.Event) -> int:
        return 0x0000

    def _on_store(self, event: evt.Event) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
        except Exception:
            log.exception("a C-STORE dataset could not be decoded")
            return 0xC210
        series = str(ds.get("SeriesInstanceUID", ""))
        folder = self.out_dir / ("series-" + short_hash(series))
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._n += 1
            n = self._n
        path = folder / f"{n:06d}.dcm"
        try:
            ds.save_as(path, enforce_file_format=True)
            digest = pixel_hash(ds)
        except Exception:
            log.exception("an instance could not be stored")
            return 0xA700
        rec = Received(
            sop_instance_uid=str(ds.get("SOPInstanceUID", "")), series_instance_uid=series,
            study_instance_uid=str(ds.get("StudyInstanceUID", "")),
            patient_key=short_hash(str(ds.get("PatientID", ""))),
            transfer_syntax=str(ds.file_meta.TransferSyntaxUID), pixel_sha256=digest,
            arrived_at=time.time(), path=path, calling_ae=str(event.assoc.requestor.ae_title).strip())
        with self._lock:
            self._records.append(rec)
        return 0x0000

    def start(self) -> Receiver:
        ae = AE(ae_title=self.ae_title)
        ae.add_supported_context(Verification)
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(str(cx.abstract_syntax), ALL_TRANSFER_SYNTAXES)
        ae.maximum_pdu_size = 0
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._server = ae.start_server(
            (self.host, self.requested_port), block=False,
            evt_handlers=[(evt.EVT_C_ECHO, self._on_echo), (evt.EVT_C_STORE, self._on_store)])
        log.info("DICOM receiver listening on %s:%d as %s", self.host, self.port, self.ae_title)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def receive(port: int, out_dir: Path | str, host: str = "0.0.0.0", ae_title: str = "GOLIVE") -> None:
    """Run a receiver in the foreground until interrupted (the `golive imaging receive` command)."""
    with Receiver(out_dir, port=port, host=host, ae_title=ae_title) as r:
        try:
            while True:
                time.sleep(1.0)
        except KeyboardInterrupt:
            log.info("receiver stopped after %d instance(s)", len(r.received))

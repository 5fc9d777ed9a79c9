"""DICOM transport benchmark: receive throughput over TLS against plain TCP, same receiver, same run.

Both sides are ours: the pynetdicom sender (`network.send_series`) and the policy-enforcing
receiver (`receiver.Receiver`, metering every read, writing every object to disk), on loopback.
The only difference between the two is the listener: TLS 1.2+ with a client certificate (test CA
issued here) or plain. The series: 40 CBCT-sized slices (512 x 512, 16 bit: 21 MB). Each figure is
the median of interleaved runs with its spread; the ratio is TLS throughput over plain (goal >= 0.7).
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from pathlib import Path

import numpy as np
from pydicom.dataset import FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from bench.timing import interleaved, ratio_line
from golive.tasks.imaging.network import Peer, send_series
from golive.tasks.imaging.pki import issue_test_pki
from golive.tasks.imaging.policy import MB, ReceiverPolicy, TlsSettings
from golive.tasks.imaging.receiver import Receiver
from golive.tasks.imaging.tls import client_tls


def _bare_receiver(folder: Path):  # type: ignore[no-untyped-def]
    """Baseline for the policy's own cost: a bare pynetdicom storage SCP that writes what it gets."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt

    folder.mkdir(parents=True, exist_ok=True)
    count = [0]

    def on_store(event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        count[0] += 1
        ds.save_as(folder / f"{count[0]:06d}.dcm", enforce_file_format=True)
        return 0x0000

    ae = AE(ae_title="GOLIVE")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120  # a loaded shared machine is slow
    ae.add_supported_context(CTImageStorage, ALL_TRANSFER_SYNTAXES)
    ae.maximum_pdu_size = 0
    return ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])


SLICES = 40
SIZE = 512
REPEAT = 7


def _series(folder: Path) -> list[Path]:
    """Synthetic CT slices: valid headers, noisy 16-bit pixels (random data: nothing compresses it)."""
    from pydicom.dataset import Dataset

    rng = np.random.default_rng(0)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    files = []
    for i in range(SLICES):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.PatientID, ds.InstanceNumber = "CT", "BENCH", i + 1
        ds.Rows = ds.Columns = SIZE
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelData = rng.integers(-1000, 3000, (SIZE, SIZE), dtype=np.int16).tobytes()
        path = folder / f"{i:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pki = issue_test_pki(root / "pki")
        os.environ.update({"BENCH_RX_CERT": str(pki.receiver.certificate), "BENCH_RX_KEY": str(pki.receiver.key),
                           "BENCH_CA": str(pki.ca), "BENCH_TX_CERT": str(pki.sender.certificate),
                           "BENCH_TX_KEY": str(pki.sender.key)})
        (root / "series").mkdir()
        files = _series(root / "series")
        mb = sum(f.stat().st_size for f in files) / MB
        policy = ReceiverPolicy(
            location="bench", bind="127.0.0.1", allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
            allowed_calling_aes=frozenset({"BENCH"}), min_free_disk_bytes=1,
            tls=TlsSettings("env:BENCH_RX_CERT", "env:BENCH_RX_KEY", "env:BENCH_CA", required=False, port=0))
        tls = client_tls({"ca": "env:BENCH_CA", "certificate": "env:BENCH_TX_CERT", "key": "env:BENCH_TX_KEY"},
                         "127.0.0.1")
        with Receiver(root / "in", port=0, tls_port=0, policy=policy) as r:
            over_tls = Peer("127.0.0.1", int(r.tls_port or 0), "GOLIVE", "BENCH", 60, tls)
            plain = Peer("127.0.0.1", int(r.plain_port or 0), "GOLIVE", "BENCH", 60)

            def send(peer: Peer) -> None:
                report = send_series(files, peer)
                assert all(i.status == 0 for i in report.instances), "a slice was not stored"

            ours, base = interleaved(lambda: send(over_tls), lambda: send(plain), REPEAT)
            bare = _bare_receiver(root / "bare")
            try:
                unpoliced = Peer("127.0.0.1", int(bare.server_address[1]), "GOLIVE", "BENCH", 60)
                policed, unchecked = interleaved(lambda: send(plain), lambda: send(unpoliced), REPEAT)
            finally:
                bare.shutdown()
            refused = len(r.refusals)
    assert refused == 0, "the benchmark's own sends were refused"
    pairs = [b / a for a, b in zip(ours.seconds, base.seconds, strict=True)]
    return [
        ratio_line(f"receive {SLICES} x {SIZE}x{SIZE} CT slices ({mb:.1f} MB) over TLS", ours,
                   "plain TCP", base),
        f"receive throughput over TLS: {mb / ours.median:.1f} MB/s; plain: {mb / base.median:.1f} MB/s; "
        f"TLS/plain throughput ratio {base.median / ours.median:.2f} (per-run {min(pairs):.2f}-{max(pairs):.2f}, "
        f"n={REPEAT}; goal >= 0.7)",
        ratio_line("the same over plain TCP into golive's receiver (policy, metering, hashing)", policed,
                   "a bare pynetdicom storage SCP writing the same files", unchecked),
    ]

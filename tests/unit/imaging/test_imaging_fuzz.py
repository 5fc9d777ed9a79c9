"""Damaged DICOM input gives typed errors only: >= 200 mutated or truncated files, never a traceback."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from golive.tasks.imaging.errors import ImagingError
from golive.tasks.imaging.ingest import read_instance, read_series

N_CASES = 240


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    kind = int(rng.integers(6))
    if kind == 0:  # truncated anywhere
        return bytes(b[: int(rng.integers(0, len(b)))])
    if kind == 1:  # bytes flipped in the header (tags, VRs, lengths)
        for _ in range(int(rng.integers(1, 12))):
            b[int(rng.integers(128, min(len(b), 1400)))] ^= int(rng.integers(1, 256))
        return bytes(b)
    if kind == 2:  # bytes flipped anywhere
        for _ in range(int(rng.integers(1, 40))):
            b[int(rng.integers(0, len(b)))] ^= int(rng.integers(1, 256))
        return bytes(b)
    if kind == 3:  # a chunk overwritten with noise
        a = int(rng.integers(0, len(b) - 64))
        n = int(rng.integers(1, 64))
        b[a : a + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        return bytes(b)
    if kind == 4:  # a chunk cut out (shifts everything after it)
        a = int(rng.integers(132, len(b) - 8))
        return bytes(b[:a] + b[a + int(rng.integers(1, 200)) :])
    return bytes(rng.integers(0, 256, int(rng.integers(0, 2000)), dtype=np.uint8))  # not DICOM at all


def test_mutated_files_raise_typed_errors_only(phantom_dir: Path, tmp_path: Path) -> None:
    src = sorted((phantom_dir / "series").glob("*.dcm"))[:3]
    rng = np.random.default_rng(20261129)
    outcomes = {"typed": 0, "read": 0}
    for case in range(N_CASES):
        d = tmp_path / f"case{case:03d}"
        d.mkdir()
        shutil.copy(src[0], d / "a.dcm")
        shutil.copy(src[2], d / "c.dcm")
        bad = d / "b.dcm"
        bad.write_bytes(_mutate(src[1].read_bytes(), rng))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for call in (lambda b=bad: read_instance(b), lambda s=d: read_series(s)):
                try:
                    call()
                    outcomes["read"] += 1
                except ImagingError as exc:
                    outcomes["typed"] += 1
                    assert exc.path is not None, f"case {case}: error without a file name: {exc}"
                except Exception as exc:  # pragma: no cover - the failure this test exists to catch
                    pytest.fail(f"case {case}: untyped {type(exc).__name__}: {exc}")
        shutil.rmtree(d)
    assert outcomes["typed"] >= N_CASES  # most mutations must be detected, not silently read

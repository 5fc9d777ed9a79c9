from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
from scipy import ndimage

from golive.tasks.imaging.phantom import LABELS, generate


def test_same_seed_same_phantom_and_seeds_differ() -> None:
    a, b, c = generate(3), generate(3), generate(4)
    assert np.array_equal(a.hu, b.hu) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.labels, c.labels)


def test_anatomy_and_ground_truth() -> None:
    ph = generate(11)
    counts = np.bincount(ph.labels.ravel(), minlength=5)
    assert all(counts[v] > 0 for v in LABELS)  # every structure is present
    assert 1 <= len(ph.sites) <= 4  # gaps where implants would go, on both sides
    assert {s.name[0] for s in ph.sites} == {"R", "L"}
    assert all(len(c) > 10 for c in ph.canals)
    # the canal lies inside the mandible: the voxels just around it are bone (label 1)
    assert ph.canal_radius_mm > 1.0
    canal = ph.labels == 4
    shell = ndimage.binary_dilation(canal, iterations=2) & ~canal
    assert np.mean(ph.labels[shell] == 1) > 0.9
    # CBCT-like intensities: bone brighter than soft tissue, teeth brightest, air dark
    hu = ph.hu
    assert hu[ph.labels == 3].mean() > hu[ph.labels == 1].mean() > hu[ph.labels == 0].mean()
    assert hu.min() <= -900


def test_written_series_has_correct_geometry_and_unique_uids(phantom_dir: Path) -> None:
    files = sorted((phantom_dir / "series").glob("*.dcm"))
    truth = json.loads((phantom_dir / "truth.json").read_text())
    labels = np.load(phantom_dir / "labels.npy")
    assert len(files) == labels.shape[0]
    dss = [pydicom.dcmread(f) for f in files]
    assert len({d.SOPInstanceUID for d in dss}) == len(dss)
    assert len({d.SeriesInstanceUID for d in dss}) == 1
    z = [float(d.ImagePositionPatient[2]) for d in dss]
    assert np.allclose(np.diff(z), truth["spacing_mm"][0])
    assert dss[0].Modality == "CT" and dss[0].Rows == labels.shape[1] and dss[0].Columns == labels.shape[2]

"""The training-time CBCT degradations (models/cbct-seg/degrade.py): each acts, and keeps shape and finiteness."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

_SPEC = importlib.util.spec_from_file_location(
    "cbct_degrade", Path(__file__).resolve().parents[3] / "models" / "cbct-seg" / "degrade.py")
assert _SPEC and _SPEC.loader
degrade = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(degrade)


def _crop() -> dict[str, np.ndarray]:
    img = np.full((1, 40, 40, 24), 40.0, np.float32)
    img[0, 10:30, 10:30, 5:15] = 1200.0  # bone
    img[0, 18:21, 18:21, 8:12] = 2500.0  # a dense restoration
    return {"image": img, "label": np.ones((1, 40, 40, 24), np.uint8)}


def test_each_degradation_changes_the_image_and_keeps_its_shape() -> None:
    for cls in (degrade.RandCuppingd, degrade.RandMetalStreaksd, degrade.RandRingd, degrade.RandGreyCalibrationd):
        t = cls(prob=1.0)
        t.set_random_state(seed=0)
        d = _crop()
        out = np.asarray(t(d)["image"])
        assert out.shape == d["image"].shape and np.isfinite(out).all(), cls.__name__
        assert not np.allclose(out, d["image"]), cls.__name__


def test_truncated_field_of_view_leaves_nothing_labelled_outside() -> None:
    t = degrade.RandTruncatedFOVd(prob=1.0)
    t.set_random_state(seed=1)
    out = t(_crop())
    outside = np.asarray(out["label"])[0, :, :, 0] == 0
    assert outside.any() and not outside.all()
    img = np.asarray(out["image"])[0]
    assert np.unique(img[outside]).size == 1  # one constant where nothing was imaged


def test_training_pipeline_is_seeded() -> None:
    a = np.asarray(degrade.training_transforms(7)(_crop())["image"])
    b = np.asarray(degrade.training_transforms(7)(_crop())["image"])
    assert np.array_equal(a, b)

"""The bundle's inference adjustments (tasks/imaging/segment.py): test-time flips and logit offsets."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from golive.tasks.imaging.errors import ModelBundleError
from golive.tasks.imaging.segment import DEFAULT_BUNDLE, load_bundle, predict_xyz


def _bundle_copy(tmp_path: Path, **config: object) -> Path:
    root = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE / "configs", root / "configs")
    (root / "models").mkdir()
    shutil.copy(DEFAULT_BUNDLE / "models" / "model.pt", root / "models" / "model.pt")
    cfg_file = root / "configs" / "inference.json"
    cfg = json.loads(cfg_file.read_text()) | config
    cfg_file.write_text(json.dumps(cfg))
    return root


def _jaw_like(seed: int = 0) -> np.ndarray:
    """HU in model order (x, y, z): a bony block with a darker tube, asymmetric in x, plus noise."""
    rng = np.random.default_rng(seed)
    hu = np.full((40, 32, 24), -900.0, np.float32)
    hu[4:30, 8:24, 4:16] = 1200.0
    hu[6:28, 14:17, 8:11] = 100.0
    return hu + rng.normal(0, 40, hu.shape).astype(np.float32)


def test_the_shipped_bundle_declares_its_adjustments() -> None:
    b = load_bundle()
    assert b.tta_flip_axes == (0,)
    assert len(b.logit_offsets) == len(b.labels)
    assert b.logit_offsets[b.labels["canal"]] == pytest.approx(-np.log(3), abs=1e-3)
    assert all(b.logit_offsets[v] == 0 for k, v in b.labels.items() if k != "canal")


def test_flip_averaging_makes_the_output_mirror_symmetric() -> None:
    b = load_bundle()
    hu = _jaw_like()
    mirrored = np.ascontiguousarray(hu[::-1])
    p = predict_xyz(b, hu)
    q = predict_xyz(b, mirrored)
    torch.testing.assert_close(torch.flip(q, dims=[1]), p, atol=1e-5, rtol=1e-4)
    plain = replace(b, tta_flip_axes=())
    # without the flip the network alone is not symmetric, so the check above could fail
    assert not torch.allclose(torch.flip(predict_xyz(plain, mirrored), dims=[1]), predict_xyz(plain, hu), atol=1e-5)


def test_a_logit_offset_shifts_only_its_class_and_keeps_a_distribution() -> None:
    b = replace(load_bundle(), tta_flip_axes=())
    hu = _jaw_like(1)
    canal = b.labels["canal"]
    base = predict_xyz(replace(b, logit_offsets=()), hu)
    shifted = predict_xyz(replace(b, logit_offsets=tuple(-2.0 if i == canal else 0.0 for i in range(5))), hu)
    torch.testing.assert_close(shifted.sum(dim=0), torch.ones_like(shifted[0]))
    # softmax(z + d) for a one-class offset: the canal's odds against every other class fall by e^2
    ratio = (shifted[canal] / shifted[1]) / (base[canal] / base[1])
    torch.testing.assert_close(ratio, torch.full_like(ratio, float(np.exp(-2.0))), rtol=1e-3, atol=1e-6)
    assert (shifted.argmax(0) == canal).sum() <= (base.argmax(0) == canal).sum()


@pytest.mark.parametrize(("config", "message"), [
    ({"logit_offsets": [0.0, -1.0]}, "logit_offsets has 2 values for 5 labels"),
    ({"tta_flip_axes": [3]}, "tta_flip_axes must name spatial axes 0, 1 or 2"),
])
def test_a_bad_adjustment_in_a_bundle_is_a_clear_error(tmp_path: Path, config: dict, message: str) -> None:
    root = _bundle_copy(tmp_path, **config)
    with pytest.raises(ModelBundleError, match=message) as info:
        load_bundle(root)
    assert "inference.json" in str(info.value)

"""Islands far from the jaw are removed from the model's probabilities (tasks/imaging/postprocess.py)."""

from __future__ import annotations

import numpy as np
import torch

from golive.tasks.imaging.postprocess import remove_islands
from golive.tasks.imaging.segment import Segmentation

LABELS = {"background": 0, "mandible": 1, "maxilla": 2, "teeth": 3, "canal": 4}


def _probs(label_map: np.ndarray) -> torch.Tensor:
    """Softmax-like probabilities whose argmax is `label_map` (0.6 for the label, the rest shared)."""
    p = np.full((5, *label_map.shape), 0.1, np.float32)
    np.put_along_axis(p, label_map[None].astype(np.int64), 0.6, axis=0)
    return torch.from_numpy(p)


def _jaw() -> np.ndarray:
    lab = np.zeros((40, 30, 20), np.uint8)
    lab[5:35, 5:15, 2:8] = 1  # mandible
    lab[10:30, 9:11, 4:6] = 4  # canal inside it
    lab[8:12, 8:12, 8:12] = 3  # a tooth on it
    lab[5:35, 5:15, 14:19] = 2  # maxilla
    return lab


def test_islands_far_from_the_jaw_become_background() -> None:
    lab = _jaw()
    lab[36:39, 25:28, 2:5] = 1  # a mandible island
    lab[0:2, 25:28, 15:18] = 2  # a maxilla island
    lab[20:23, 24:27, 10:12] = 3  # a "tooth" 9 voxels from any bone
    lab[2:4, 25:27, 10:12] = 4  # a "canal" far from the mandible
    out = remove_islands(_probs(lab), LABELS, (1.0, 1.0, 1.0)).argmax(dim=0).numpy()
    np.testing.assert_array_equal(out, _jaw())


def test_a_clean_jaw_is_left_as_it_is() -> None:
    probs = _probs(_jaw())
    assert remove_islands(probs, LABELS, (1.0, 1.0, 1.0)) is probs


def test_near_is_measured_in_mm() -> None:
    """A tooth 2 voxels below the maxilla (3 above the mandible) is attached at 1 mm voxels and an
    island at 2 mm voxels; the tooth that touches the mandible stays at both."""
    lab = _jaw()
    lab[20:22, 10:12, 10:13] = 3
    kept = remove_islands(_probs(lab), LABELS, (1.0, 1.0, 1.0)).argmax(dim=0).numpy()
    assert (kept[20:22, 10:12, 10:13] == 3).all()
    coarse = remove_islands(_probs(lab), LABELS, (2.0, 2.0, 2.0)).argmax(dim=0).numpy()
    assert (coarse[20:22, 10:12, 10:13] == 0).all() and (coarse[8:12, 8:12, 8:12] == 3).all()


def test_source_grid_labels_agree_with_the_model_grid() -> None:
    """The removal lives in the probabilities, so the labels interpolated back have no island either."""
    lab = _jaw()
    lab[36:39, 25:28, 2:5] = 1
    probs = remove_islands(_probs(lab), LABELS, (1.0, 1.0, 1.0))
    kij = probs.numpy().transpose(0, 3, 2, 1).astype(np.float16)
    labels = probs.argmax(dim=0).numpy().astype(np.uint8).transpose(2, 1, 0)
    seg = Segmentation(labels, np.zeros(labels.shape, np.float32), np.ones(labels.shape, np.float32), np.eye(4),
                       (1.0, 1.0, 1.0), {v: k for k, v in LABELS.items()}, {}, 0.0,
                       tuple(2 * n - 1 for n in labels.shape), (0.5, 0.5, 0.5), None, kij)
    fine = seg.on_source_grid()
    assert not (fine[2 * 2:2 * 5, 2 * 25:2 * 28, 2 * 36:2 * 39] == 1).any()  # (k, i, j) = (z, y, x) * 2
    assert (fine == 1).sum() > 0

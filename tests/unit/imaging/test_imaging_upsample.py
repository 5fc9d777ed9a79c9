"""Labels back on a finer series (tasks/imaging/segment.py `_upsample_argmax`): the argmax of the
interpolated log-probabilities, which is the argmax of the interpolated logits, summed over the sampling
phases (the model grid and the one shifted by half a voxel)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from golive.tasks.imaging.segment import PHASE_SHIFT, _upsample_argmax, resample

SCALE = np.array([0.4, 0.4, 0.4])  # source voxel / model voxel (0.4 mm against 1 mm)


def _logits(seed: int = 0) -> np.ndarray:
    """Smooth random logits (C, k, i, j) on a small model grid: classes meet along curved edges."""
    rng = np.random.default_rng(seed)
    return np.stack([ndimage.gaussian_filter(rng.normal(0, 6, (8, 10, 12)), 1.2) for _ in range(5)]).astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def _shape(model: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(np.floor((n - 1) / s)) + 1 for n, s in zip(model, SCALE, strict=True))


def test_the_labels_are_the_argmax_of_the_interpolated_logits() -> None:
    z = _logits()
    shape = _shape(z.shape[1:])
    grid = np.stack(np.meshgrid(*(np.arange(n) * s for n, s in zip(shape, SCALE, strict=True)), indexing="ij"))
    expected = np.argmax([ndimage.map_coordinates(c, grid, order=1, mode="nearest") for c in z], axis=0)
    got = _upsample_argmax([(_softmax(z).astype(np.float16), 0.0)], SCALE, shape)
    # float16 storage of the probabilities moves only near-ties
    assert (got == expected).mean() > 0.995
    by_probabilities = np.argmax([ndimage.map_coordinates(c, grid, order=1, mode="nearest") for c in _softmax(z)],
                                 axis=0)
    assert (by_probabilities != expected).mean() > 0.01  # the two rules differ here: the test can tell them apart


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_give_the_same_labels(threads: int) -> None:
    probs = _softmax(_logits(1)).astype(np.float16)
    shape = _shape(probs.shape[1:])
    phases = [(probs, 0.0), (probs[:, :-1, :-1, :-1], PHASE_SHIFT)]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _upsample_argmax(phases, SCALE, shape)
        torch.set_num_threads(threads)
        many = _upsample_argmax(phases, SCALE, shape)
    finally:
        torch.set_num_threads(before)
    assert (one == many).all()


def _at(values: np.ndarray, shape: tuple[int, ...], offset: float) -> np.ndarray:
    """Each class of `values` (C, k, i, j) at the source voxels' model coordinates, index * SCALE - offset."""
    grid = np.stack(np.meshgrid(*(np.arange(n) * s - offset for n, s in zip(shape, SCALE, strict=True)),
                                indexing="ij"))
    return np.stack([ndimage.map_coordinates(c, grid, order=1, mode="nearest") for c in values])


def test_two_phases_sum_the_interpolated_logits_of_both_grids() -> None:
    z, w = _logits(2), _logits(3)[:, :-1, :-1, :-1]  # the shifted grid has one voxel fewer per axis
    shape = _shape(z.shape[1:])
    expected = np.argmax(_at(z, shape, 0.0) + _at(w, shape, PHASE_SHIFT), axis=0)
    got = _upsample_argmax([(_softmax(z).astype(np.float16), 0.0), (_softmax(w).astype(np.float16), PHASE_SHIFT)],
                           SCALE, shape)
    assert (got == expected).mean() > 0.995
    alone = np.argmax(_at(z, shape, 0.0), axis=0)
    assert (alone != expected).mean() > 0.05  # the second phase changes the labels: the test can tell


def test_the_shifted_grid_starts_half_a_model_voxel_in() -> None:
    """`resample(offset=...)` samples the series where `_upsample_argmax` puts that phase back: a ramp
    along each axis reads (m + offset) model voxels at shifted-grid index m."""
    shape = (41, 36, 31)
    for axis in range(3):
        ramp = np.broadcast_to(np.arange(shape[axis], dtype=np.float32).reshape(
            [-1 if a == axis else 1 for a in range(3)]), shape) * 0.4  # mm along the axis, 0.4 mm voxels
        out = resample(np.ascontiguousarray(ramp), (0.4, 0.4, 0.4), (1.0, 1.0, 1.0), offset=PHASE_SHIFT)
        assert out.shape[axis] == int(np.floor((shape[axis] - 1) * 0.4 - PHASE_SHIFT)) + 1
        along = np.moveaxis(out, axis, 0)[:, 0, 0]
        np.testing.assert_allclose(along, np.arange(len(along)) + PHASE_SHIFT, atol=1e-4)

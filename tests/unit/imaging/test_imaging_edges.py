"""Jaw-bone edges on the series' own grid (tasks/imaging/edges.py): a blurred, noisy bone cylinder with a
known radius, and model probabilities on a 1 mm grid whose edge sits 0.6 mm too far out."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from golive.tasks.imaging import edges
from golive.tasks.imaging.analysis import dice
from golive.tasks.imaging.segment import Segmentation
from golive.tasks.imaging.volume import Volume

SRC, MODEL = 0.3, 1.0  # mm
R, CORTEX = 6.0, 1.5  # bone radius and cortical thickness, mm
NAMES = {0: "background", 1: "mandible", 2: "maxilla", 3: "teeth", 4: "canal"}


def _radius(shape: tuple[int, ...], sp: float) -> np.ndarray:
    """In-plane distance (mm) from the cylinder's axis, which runs along k through the grid's middle."""
    _, i, j = np.meshgrid(*(np.arange(n) * sp for n in shape), indexing="ij")
    c = (shape[1] - 1) * sp / 2
    return np.hypot(i - c, j - c)


def _series(gain: float = 1.0, offset: float = 0.0, trabecular: float = 300.0) -> tuple[Volume, np.ndarray]:
    shape = (30, 60, 60)  # 9 x 18 x 18 mm
    r = _radius(shape, SRC)
    hu = np.where(r <= R - CORTEX, trabecular, np.where(r <= R, 1300.0, 40.0)).astype(np.float32)
    hu = ndimage.gaussian_filter(hu, 0.6 / SRC) + np.random.default_rng(0).normal(0, 40, shape).astype(np.float32)
    aff = np.eye(4)
    aff[:3, :3] = np.array([[0, 0, SRC], [0, SRC, 0], [SRC, 0, 0]])  # k -> z, i -> y, j -> x
    return Volume(hu * gain + offset, (SRC, SRC, SRC), aff), (r <= R).astype(np.uint8)


def _segmentation(volume: Volume, *, too_far_mm: float = 0.6, softness_mm: float = 0.5,
                  teeth_from_mm: float | None = None) -> Segmentation:
    """Model-grid probabilities whose 0.5 crossing lies `too_far_mm` outside the true edge; `teeth_from_mm`
    gives the teeth class most of the probability beyond that height (k, mm)."""
    n = [int(np.floor((s - 1) * SRC / MODEL)) + 1 for s in volume.shape]
    r = _radius(tuple(n), MODEL)
    p_bone = 1 / (1 + np.exp((r - R - too_far_mm) / softness_mm))
    probs = np.zeros((5, *n), np.float32)
    probs[1], probs[0] = p_bone, 1 - p_bone
    if teeth_from_mm is not None:
        upper = np.arange(n[0]) * MODEL >= teeth_from_mm
        probs[3, upper] = 0.6 * p_bone[upper]
        probs[1, upper] *= 0.4
    labels = probs.argmax(0).astype(np.uint8)
    aff = np.array(volume.affine)
    aff[:3, :3] *= MODEL / SRC
    ones = np.ones(n, np.float32)
    return Segmentation(labels, ones, ones, aff, (MODEL,) * 3, NAMES, {}, 0.0, volume.shape, volume.spacing,
                        probabilities=probs.astype(np.float16), source=volume)


def _model_only(seg: Segmentation) -> np.ndarray:
    """The interpolated argmax alone: what the labels were before the series' edges."""
    return seg.on_source_grid(series_edges=False)


def test_the_series_puts_the_edge_where_the_model_grid_could_not() -> None:
    vol, truth = _series()
    seg = _segmentation(vol)
    before, after = _model_only(seg), seg.on_source_grid()
    assert dice(before == 1, truth == 1) < 0.92  # 0.909: 0.6 mm too far out on a 6 mm radius
    assert dice(after == 1, truth == 1) > 0.975  # 0.980 measured


def test_dark_bone_the_cortex_encloses_is_not_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    # a model unsure deep into the bone, over trabecular bone darker than the half-way grey value
    vol, truth = _series(trabecular=200.0)
    seg = _segmentation(vol, too_far_mm=-2.0, softness_mm=1.5)
    inner = _radius(vol.shape, SRC) <= R - CORTEX - 0.5
    assert (seg.on_source_grid()[inner] == 1).all()
    monkeypatch.setattr(edges, "_refill_enclosed", lambda *a: None)  # without the refill: holes
    assert (seg.on_source_grid()[inner] != 1).sum() > 100


def test_uncalibrated_grey_values_give_the_same_edge() -> None:
    plain = _segmentation(_series()[0]).on_source_grid()
    scaled = _segmentation(_series(gain=1.4, offset=-150.0)[0]).on_source_grid()
    assert (plain != scaled).mean() < 1e-3


def test_voxels_another_class_competes_for_keep_the_model_label() -> None:
    vol, _ = _series()
    seg = _segmentation(vol, teeth_from_mm=5.0)
    before, after = _model_only(seg), seg.on_source_grid()
    upper = np.arange(vol.shape[0]) * SRC >= 5.5
    assert (before[upper] == after[upper]).all()
    assert (before[~upper] != after[~upper]).any()  # below, the band is relabelled


def test_a_series_no_finer_than_the_model_is_left_alone() -> None:
    vol, _ = _series()
    seg = _segmentation(vol)
    coarse = Segmentation(seg.labels, seg.hu, seg.confidence, seg.affine, seg.spacing, NAMES, {}, 0.0,
                          seg.source_shape, (0.9, 0.9, 0.9), probabilities=seg.probabilities, source=vol)
    assert coarse.finer_source() is None
    assert (coarse.on_source_grid() == _model_only(coarse)).all()


def test_a_series_without_an_edge_keeps_the_model_labels() -> None:
    vol, _ = _series()
    flat = Volume(np.random.default_rng(1).normal(500, 80, vol.shape).astype(np.float32), vol.spacing, vol.affine)
    seg = _segmentation(flat)
    assert (seg.on_source_grid() == _model_only(seg)).all()

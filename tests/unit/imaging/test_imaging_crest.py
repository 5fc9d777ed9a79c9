"""Crest height on the series' own grid (tasks/imaging/crest.py), on synthetic ridges with a known top."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from golive.tasks.imaging.crest import refine_crest_z
from golive.tasks.imaging.volume import Volume

SP = 0.3  # mm, isotropic
SHAPE = (80, 30, 30)  # k (z), i (y), j (x)


def _volume(hu: np.ndarray) -> Volume:
    """k -> +z, i -> +y, j -> +x, first voxel at the origin."""
    aff = np.eye(4)
    aff[:3, :3] = np.array([[0, 0, SP], [0, SP, 0], [SP, 0, 0]], float)
    return Volume(hu, (SP, SP, SP), aff)


def _ridge(z_top: float, *, gain: float = 1.0, offset: float = 0.0, seed: int = 0) -> np.ndarray:
    """Bone up to z_top with a 1 mm cortical layer, 3 mm of gum above it (an edentulous ridge's mucosa is
    2-4 mm), then air; blurred and noisy."""
    z = np.arange(SHAPE[0]) * SP
    column = np.where(z <= z_top - 1.0, 1200.0, np.where(z <= z_top, 1900.0, np.where(z <= z_top + 3.0, 60.0, -1000.0)))
    hu = np.broadcast_to(column[:, None, None], SHAPE).astype(np.float32)
    hu = ndimage.gaussian_filter(hu, 0.6 / SP)
    hu = hu + np.random.default_rng(seed).normal(0, 40, SHAPE).astype(np.float32)
    return hu * gain + offset


@pytest.mark.parametrize("start_offset", [-0.6, -0.3, 0.0, 0.3, 0.6])
def test_the_edge_is_found_from_a_start_within_the_search_window(start_offset: float) -> None:
    z_top = 12.37  # between voxel centres on purpose
    xy = np.array([4.5, 4.5])
    got = refine_crest_z(_volume(_ridge(z_top)), xy, z_top + start_offset)
    # the voxelised bone ends on the last centre at or below z_top, so its edge lies within half a voxel
    # of it; the blurred cortical layer under the edge pulls the steepest point up by up to ~0.15 mm
    assert abs(got - z_top) <= SP / 2 + 0.2, got


def test_uncalibrated_grey_values_do_not_move_the_edge() -> None:
    z_top, xy = 11.9, np.array([4.5, 4.5])
    plain = refine_crest_z(_volume(_ridge(z_top, seed=3)), xy, z_top + 0.5)
    shifted = refine_crest_z(_volume(_ridge(z_top, gain=0.85, offset=-150.0, seed=3)), xy, z_top + 0.5)
    assert shifted == pytest.approx(plain, abs=0.02)


def test_without_a_clear_edge_the_model_crest_is_kept() -> None:
    flat = np.random.default_rng(1).normal(300, 20, SHAPE).astype(np.float32)
    assert refine_crest_z(_volume(flat), np.array([4.5, 4.5]), 12.0) == 12.0


def test_an_edge_beyond_the_search_distance_is_not_taken() -> None:
    z_top = 10.0
    start = z_top + 3.0  # the model's crest 3 mm off: the edge is outside the 1 mm search window
    got = refine_crest_z(_volume(_ridge(z_top)), np.array([4.5, 4.5]), start)
    assert abs(got - start) <= 1.0

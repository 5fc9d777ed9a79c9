"""The second phantom family (phantom_spline) and the slab-wise helpers of phantom.py."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from golive.tasks.imaging import phantom, phantom_spline


def test_spline_family_is_seeded_and_differs_from_the_first() -> None:
    a, b, c = phantom_spline.generate(5), phantom_spline.generate(5), phantom_spline.generate(6)
    assert np.array_equal(a.hu, b.hu) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.labels, c.labels)
    assert a.hu.shape != phantom.generate(5).hu.shape  # another field of view, not a re-skin


def test_spline_family_anatomy_and_ground_truth() -> None:
    for seed in range(4):
        ph = phantom_spline.generate(seed)
        counts = np.bincount(ph.labels.ravel(), minlength=5)
        assert all(counts[v] > 0 for v in phantom.LABELS), (seed, counts)
        assert ph.hu.dtype == np.int16 and ph.labels.dtype == np.uint8
        assert ph.sites and {s.name[0] for s in ph.sites} <= {"R", "L"}
        # every site's crest sits on the mandible: bone 1 mm below it, none 1.5 mm above
        for s in ph.sites:
            j, i = (int(s.crest_mm[0] / ph.spacing[2]), int(s.crest_mm[1] / ph.spacing[1]))
            below = int((s.crest_mm[2] - 1.0) / ph.spacing[0])
            above = int((s.crest_mm[2] + 1.5) / ph.spacing[0])
            assert ph.labels[below, i, j] == 1, (seed, s.name)
            assert ph.labels[above, i, j] != 1, (seed, s.name)
        # the canal is inside the mandible, and its ground-truth path runs through canal voxels
        canal = ph.labels == 4
        shell = ndimage.binary_dilation(canal, iterations=1) & ~canal
        assert np.mean(np.isin(ph.labels[shell], (1, 3))) > 0.9
        mid = ph.canals[0][len(ph.canals[0]) // 2]
        k, i, j = (int(mid[2] / ph.spacing[0]), int(mid[1] / ph.spacing[1]), int(mid[0] / ph.spacing[2]))
        assert ph.labels[k, i, j] in (4, 3)


def test_spline_family_keeps_adjacent_gaps_as_separate_sites() -> None:
    names = [[s.name for s in phantom_spline.generate(seed).sites] for seed in range(12)]
    adjacent = [n for n in names if any(f"{a[0]}{int(a[1:]) + 1}" in n for a in n)]
    assert adjacent, "no seed in 0..11 has two adjacent missing teeth"
    assert all(len(set(n)) == len(n) for n in names)


def test_near_background_matches_the_full_distance_transform() -> None:
    rng = np.random.default_rng(0)
    mask = ndimage.binary_opening(rng.random((70, 30, 40)) < 0.8, iterations=1)
    sp = (0.3, 0.3, 0.3)
    full = ndimage.distance_transform_edt(mask, sampling=sp) <= 1.7
    assert np.array_equal(phantom._near_background(mask, 1.7, sp), full)


def test_slab_normal_draw_equals_one_full_draw() -> None:
    a = phantom._normal_float32(np.random.default_rng(3), (37, 5, 6))
    b = np.random.default_rng(3).normal(size=(37, 5, 6)).astype(np.float32)
    assert np.array_equal(a, b)

"""Ridge-crest height on the received series' own grid (issue 17: clearance error at clinical voxel sizes).

The model runs at 1 mm, so the crest it gives (where P(bone) falls through 0.5) is uncertain by about half
a model voxel, and that error goes one for one into the implant's canal clearance. A 0.2-0.4 mm series
resolves the bone's top edge far better: along a short vertical profile of the series' grey values under
the site, the edge is where the grey value falls fastest going up (the steepest descent of a blurred
step sits on the step whatever the two levels are, so uncalibrated CBCT grey values do not bias it).
The model's crest says where to look; the series says where exactly. Measured in the model card.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from golive.tasks.imaging.volume import Volume

SEARCH_MM = 1.0  # the edge must lie strictly inside this distance of the model's crest
PROFILE_MM = 2.0  # half-length of the sampled profile
SMOOTH_MM = 0.3  # Gaussian smoothing of the profile against noise
NEIGHBOURS_MM = 0.4  # columns averaged around the site (centre and four at this offset)
MIN_STEP = 200.0  # grey-value fall per mm below which no edge is taken (low contrast: keep the model's)


def refine_crest_z(volume: Volume, xy: np.ndarray, z0: float) -> float:
    """The crest height (LPS z, mm) at `xy` from the series' grey values, starting from the model's
    estimate `z0`; `z0` itself when no clear edge lies within SEARCH_MM of it."""
    step = min(volume.spacing) / 2
    zs = np.arange(z0 - PROFILE_MM, z0 + PROFILE_MM + 1e-9, step)
    profile = np.zeros(len(zs))
    offsets = ((0.0, 0.0), (NEIGHBOURS_MM, 0.0), (-NEIGHBOURS_MM, 0.0), (0.0, NEIGHBOURS_MM), (0.0, -NEIGHBOURS_MM))
    for dx, dy in offsets:
        pts = np.column_stack([np.full(len(zs), xy[0] + dx), np.full(len(zs), xy[1] + dy), zs])
        profile += ndimage.map_coordinates(volume.array, volume.lps_to_index(pts).T, order=1, mode="nearest")
    profile = ndimage.gaussian_filter1d(profile / len(offsets), SMOOTH_MM / step)
    grad = np.gradient(profile, step)
    window = np.nonzero(np.abs(zs - z0) <= SEARCH_MM)[0]
    n = int(window[np.argmin(grad[window])])
    if -grad[n] < MIN_STEP or n in (window[0], window[-1]):  # at the window's end: the edge lies beyond it
        return z0
    a, b, c = grad[n - 1], grad[n], grad[n + 1]
    curvature = a - 2 * b + c
    # sub-sample position of the steepest point: vertex of the parabola through three gradient samples
    shift = 0.5 * (a - c) / curvature if curvature > 1e-9 else 0.0
    return float(zs[n] + np.clip(shift, -1.0, 1.0) * step)

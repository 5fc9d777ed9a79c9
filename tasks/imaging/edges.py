"""Jaw-bone outer edges on the received series' own grid (issue 17: mandible Dice at clinical voxel sizes).

The model runs at 1 mm, so where a bone meets soft tissue its interpolated probability crosses 0.5
anywhere within about half a model voxel of the true edge. A 0.2-0.4 mm series shows that edge far
more sharply: the bone's cortex is ~1,000 HU brighter than the soft tissue around it, and a blurred step
crosses the half-way grey value at the step itself (half-maximum). So in the band where the model is
unsure between a bone and background (both together hold nearly all the probability, neither above
BAND_MAX), the series decides: a voxel brighter than half-way between the cortex and the soft tissue is
bone. Both levels are read from the series itself inside the band (uncalibrated grey values do not bias
it): the cortex as a high percentile of the voxels the model calls bone, the soft tissue as the median of
the ones it calls background. Voxels that another class (teeth, canal) competes for are not touched, and
bone the jaw encloses in a slice is not opened (dark trabecular bone is not an outer edge).
Measured in the model card; `Segmentation.on_source_grid` runs it only when the series is finer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from golive.tasks.imaging.volume import Volume

log = logging.getLogger(__name__)

SMOOTH_MM = 0.2  # Gaussian smoothing of the grey values against noise before the threshold
BAND_MIN, BAND_MAX = 0.02, 0.98  # P(bone) / (P(bone) + P(background)) where the model is unsure
TWO_CLASS_MIN = 0.9  # P(bone) + P(background): below it another class competes, keep the model's label
CORTEX_PERCENTILE = 90  # of the grey values the model calls bone inside the band
MIN_VOXELS = 200  # fewer band voxels on either side: no level to read, keep the model's labels
# the cortex must stand this many robust standard deviations (1.4826 MAD) of the band's soft-tissue side
# above its median: below it the series shows no edge (noise, a flat or saturated series), and a threshold
# would only scatter the band. Measured: both phantom families at 0.4 mm 3.4-13.9; pure noise 1.28
MIN_CONTRAST = 2.0
_SLAB = 16


@dataclass
class _Band:
    index: list[np.ndarray] = field(default_factory=list)  # flat source-grid indices
    grey: list[np.ndarray] = field(default_factory=list)  # smoothed grey values there
    inside: list[np.ndarray] = field(default_factory=list)  # the model's label is the bone


class BoneEdges:
    """Collects each bone's uncertain edge band slice by slice while the labels are interpolated back
    onto the series' grid (`observe`), then relabels that band by the series' grey values (`apply`)."""

    def __init__(self, volume: Volume, bones: dict[int, str], background: int = 0):
        self.volume = volume
        self.bones = bones
        self.background = background
        self.bands = {b: _Band() for b in bones}
        self.classes = (background, *bones)  # the classes `observe` is given, in this order
        self._slab: tuple[int, np.ndarray] | None = None  # (first slice, smoothed grey values)

    def _grey(self, k: int) -> np.ndarray:
        """Smoothed grey values of source slice k, a padded slab at a time (a whole smoothed copy of a
        0.2 mm series would cost as much memory as the series)."""
        if self._slab is None or not self._slab[0] <= k < self._slab[0] + len(self._slab[1]):
            sigma = [SMOOTH_MM / s for s in self.volume.spacing]
            pad = int(np.ceil(4 * sigma[0])) + 1
            n = self.volume.array.shape[0]
            lo, hi = max(k - pad, 0), min(k + _SLAB + pad, n)
            smooth = ndimage.gaussian_filter(self.volume.array[lo:hi].astype(np.float32), sigma)
            self._slab = (k, smooth[k - lo:min(k + _SLAB, n) - lo])
        return self._slab[1][k - self._slab[0]]

    def observe(self, k: int, probs: np.ndarray, labels: np.ndarray) -> None:
        """Source slice k: `probs` (len(classes), I, J) interpolated probabilities of `classes`, `labels`
        the slice's labels."""
        bg = probs[0]
        offset = k * labels.size
        for n, (bone, band) in enumerate(self.bands.items(), start=1):
            pb = probs[n]
            two = pb + bg
            share = pb / np.maximum(two, 1e-6)
            mask = (two >= TWO_CLASS_MIN) & (share > BAND_MIN) & (share < BAND_MAX)
            mask &= (labels == bone) | (labels == self.background)
            flat = np.flatnonzero(mask)
            if flat.size:
                band.index.append(flat + offset)
                band.grey.append(self._grey(k).ravel()[flat])
                band.inside.append(labels.ravel()[flat] == bone)

    def apply(self, labels: np.ndarray) -> None:
        """Relabel each bone's band in `labels` (the whole source grid, written in place)."""
        flat_labels = labels.reshape(-1)
        opened = np.zeros(0, np.int64)  # band voxels the model called bone and the threshold did not
        opened_bone = np.zeros(0, labels.dtype)
        for bone, band in self.bands.items():
            if not band.index:
                continue
            index, grey, inside = (np.concatenate(v) for v in (band.index, band.grey, band.inside))
            if inside.sum() < MIN_VOXELS or (~inside).sum() < MIN_VOXELS:
                continue
            cortex = float(np.percentile(grey[inside], CORTEX_PERCENTILE))
            soft = float(np.median(grey[~inside]))
            spread = 1.4826 * float(np.median(np.abs(grey[~inside] - soft)))
            if cortex - soft < MIN_CONTRAST * spread or cortex <= soft:
                log.info("%s edge: no contrast on the series grid, the model's labels stay", self.bones[bone])
                continue
            half = (cortex + soft) / 2
            new = np.where(grey >= half, bone, self.background).astype(labels.dtype)
            log.info("%s edge on the series grid: %d band voxels, threshold %.0f, %d relabelled",
                     self.bones[bone], index.size, half, int((new != flat_labels[index]).sum()))
            lost = index[inside & (new == self.background)]
            opened = np.concatenate([opened, lost])
            opened_bone = np.concatenate([opened_bone, np.full(lost.size, bone, labels.dtype)])
            flat_labels[index] = new
        _refill_enclosed(labels, opened, opened_bone, self.background)


def _refill_enclosed(labels: np.ndarray, opened: np.ndarray, bone: np.ndarray, background: int) -> None:
    """Give `opened` voxels (flat indices) back their `bone` label where the jaw encloses them in an
    axial, coronal or sagittal slice. Trabecular bone can be darker than the half-way grey value; where
    the model is unsure deep enough to reach it, the threshold would punch holes into the bone, while a
    real outer edge is open to the soft tissue (a jaw's cross-section is a closed cortical ring)."""
    coords = np.unravel_index(opened, labels.shape)
    enclosed = np.zeros(opened.size, bool)
    for axis in range(3):
        order = np.argsort(coords[axis], kind="stable")
        cuts = np.flatnonzero(np.diff(coords[axis][order])) + 1
        for group in np.split(order, cuts):
            pick = group[~enclosed[group]]
            if pick.size:
                plane = np.take(labels, coords[axis][pick[0]], axis=axis) != background
                rest = [c[pick] for a, c in enumerate(coords) if a != axis]
                enclosed[pick] = _enclosed_in(plane, rest[0], rest[1])
    labels[tuple(c[enclosed] for c in coords)] = bone[enclosed]


def _enclosed_in(plane: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Whether each background point (rows, cols) of a 2-D foreground mask is cut off from the plane's
    border (a hole). One labelling of the background inside the foreground's bounding box: a hole
    cannot reach beyond it, and the box's rim belongs to the outside."""
    r, c = np.nonzero(plane)
    if not r.size:
        return np.zeros(rows.size, bool)
    r0, r1, c0, c1 = r.min(), r.max() + 1, c.min(), c.max() + 1
    inside_box = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
    pieces, _ = ndimage.label(np.pad(~plane[r0:r1, c0:c1], 1, constant_values=True))
    outside = pieces[0, 0]  # the padded rim is one piece: everything open to the border
    out = np.zeros(rows.size, bool)
    out[inside_box] = pieces[rows[inside_box] - r0 + 1, cols[inside_box] - c0 + 1] != outside
    return out

"""Is this series a dental CBCT at all? Refuse what is not, before anything is written.

Two gates, each with a stated reason (`NotDentalCBCT`: "not a dental CBCT: <reason>"):

* field of view, before the model runs: dental CBCT fields of view run from about 4 x 4 cm (a
  sextant) to about 23 x 17 cm (a large field covering both jaws and the skull base); a body CT's
  transverse field is 35-50 cm and its scan range is longer still;
* anatomy, after segmentation: the largest mandible component must have a plausible volume and lie
  along one arch (a parabola opening posteriorly, of adult width and curvature), the way a mandible
  does and a vertebra, a rib cage or a pelvis does not.

The bounds are deliberately wide (any adult jaw, any dental FOV); they are about plausibility, not
accuracy, and are stated here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from golive.tasks.imaging.errors import NotDentalCBCT
from golive.tasks.imaging.volume import Volume

MAX_FOV_MM = 240.0  # largest dental CBCT field (diameter or height), with a margin
MIN_FOV_MM = 30.0  # smaller than a sextant field cannot hold an implant site and its canal
MANDIBLE_CM3 = (4.0, 160.0)  # largest mandible component: a sextant's worth to a large adult mandible
ARCH_WIDTH_MM = (25.0, 120.0)  # transverse extent of the mandible's footprint
ARCH_CURVATURE = (0.012, 0.25)  # c2 of y = c2 x^2 + ...: adult arches ~0.03-0.1 per mm
ARCH_FIT_SHARE = 0.75  # share of the footprint within ARCH_BAND_MM of the fitted arch
ARCH_BAND_MM = 12.0


@dataclass(frozen=True)
class Anatomy:
    """What the anatomy gate measured (goes into the summary)."""

    mandible_cm3: float
    arch_width_mm: float | None
    arch_curvature: float | None
    arch_fit_share: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"mandible_cm3": round(self.mandible_cm3, 1),
                "arch_width_mm": None if self.arch_width_mm is None else round(self.arch_width_mm, 1),
                "arch_curvature_per_mm": None if self.arch_curvature is None else round(self.arch_curvature, 4),
                "arch_fit_share": None if self.arch_fit_share is None else round(self.arch_fit_share, 3)}


def check_field_of_view(volume: Volume, where: Path | str | None = None) -> None:
    """Refuse a field of view no dental CBCT has (before any model time is spent)."""
    extent = [n * s for n, s in zip(volume.shape, volume.spacing, strict=True)]  # slice, row, column mm
    names = ("scan range", "field of view (rows)", "field of view (columns)")
    for name, e in zip(names, extent, strict=True):
        if e > MAX_FOV_MM:
            raise NotDentalCBCT(where, f"{name} {e:.0f} mm exceeds the largest dental CBCT field "
                                       f"({MAX_FOV_MM:.0f} mm); this looks like a body CT")
        if e < MIN_FOV_MM:
            raise NotDentalCBCT(where, f"{name} {e:.0f} mm is smaller than any dental CBCT field "
                                       f"({MIN_FOV_MM:.0f} mm)")


def measure_anatomy(labels: np.ndarray, affine: np.ndarray, spacing: tuple[float, ...]) -> Anatomy:
    """Mandible volume and arch shape from labels on a grid with `affine` ((k, i, j) -> LPS)."""
    from golive.tasks.imaging.measure import _largest

    mand = labels == 1
    if not mand.any():
        return Anatomy(0.0, None, None, None)
    mand = _largest(mand)
    cm3 = float(mand.sum() * np.prod(spacing) / 1000.0)
    cols = np.argwhere(mand.any(axis=0))
    if len(cols) < 50:
        return Anatomy(cm3, None, None, None)
    pts = np.column_stack([np.zeros(len(cols)), cols]) @ affine[:3, :3].T + affine[:3, 3]
    x, y = pts[:, 0], pts[:, 1]
    c2, c1, c0 = np.polyfit(x, y, 2)
    # distance to the parabola, approximated by the vertical residual scaled by the local slope
    resid = np.abs(y - (c0 + c1 * x + c2 * x**2)) / np.sqrt(1 + (c1 + 2 * c2 * x) ** 2)
    share = float(np.mean(resid <= ARCH_BAND_MM))
    return Anatomy(cm3, float(x.max() - x.min()), float(c2), share)


def check_anatomy(labels: np.ndarray, affine: np.ndarray, spacing: tuple[float, ...], where: Path | str | None = None) -> Anatomy:
    """Refuse a segmentation that does not show a jaw; returns what was measured otherwise."""
    a = measure_anatomy(labels, affine, spacing)
    lo, hi = MANDIBLE_CM3
    if a.mandible_cm3 < lo:
        raise NotDentalCBCT(where, f"no mandible found ({a.mandible_cm3:.1f} cm3 of mandible-like bone, "
                                   f"expected at least {lo:.0f} cm3)")
    if a.mandible_cm3 > hi:
        raise NotDentalCBCT(where, f"{a.mandible_cm3:.0f} cm3 of mandible-like bone is more than any mandible "
                                   f"({hi:.0f} cm3)")
    if a.arch_curvature is None or a.arch_width_mm is None or a.arch_fit_share is None:
        raise NotDentalCBCT(where, "the mandible-like bone has no arch shape")
    if not ARCH_CURVATURE[0] <= a.arch_curvature <= ARCH_CURVATURE[1]:
        raise NotDentalCBCT(where, f"the bone does not curve like a dental arch (curvature "
                                   f"{a.arch_curvature:.3f}/mm, expected {ARCH_CURVATURE[0]}-{ARCH_CURVATURE[1]})")
    if not ARCH_WIDTH_MM[0] <= a.arch_width_mm <= ARCH_WIDTH_MM[1]:
        raise NotDentalCBCT(where, f"arch width {a.arch_width_mm:.0f} mm is outside an adult jaw's "
                                   f"{ARCH_WIDTH_MM[0]:.0f}-{ARCH_WIDTH_MM[1]:.0f} mm")
    if a.arch_fit_share < ARCH_FIT_SHARE:
        raise NotDentalCBCT(where, f"only {a.arch_fit_share:.0%} of the mandible-like bone lies along one arch")
    return a

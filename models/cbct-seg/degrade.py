"""CBCT degradations as MONAI dictionary transforms, for training only (not used at inference).

Each acts on the "image" key of a crop in model order (C, x, y, z) at 1 mm, in HU (before scaling):
- RandCuppingd: cupping / beam hardening, a smooth radial fall-off towards the centre of the crop;
- RandMetalStreaksd: bright and dark streaks radiating from the densest voxels (restorations, implants);
- RandRingd: ring artefacts, concentric rings around a rotation axis (a mis-calibrated detector column);
- RandTruncatedFOVd: a cylindrical field of view smaller than the crop, outside it a constant;
- RandGreyCalibrationd: uncalibrated grey values, a gain and offset (CBCT grey values are not HU);
plus MONAI's RandGaussianNoised and RandGaussianSmoothd for noise and blur, and RandHistogramShiftd (a
random monotonic grey-value curve: tissue contrasts that differ between scanners, not only a gain and
offset); see `training_transforms`.
The artefact models are deliberately simple; they stand in for, and do not reproduce, a real scanner.
"""

from __future__ import annotations

import numpy as np
from monai.transforms import (
    Compose,
    MapTransform,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandHistogramShiftd,
    RandomizableTransform,
)


class _RandImage(RandomizableTransform, MapTransform):
    def __init__(self, prob: float, keys: str = "image") -> None:
        RandomizableTransform.__init__(self, prob)
        MapTransform.__init__(self, keys)

    def __call__(self, data):
        d = dict(data)
        self.randomize(None)
        if not self._do_transform:
            return d
        for k in self.keys:
            d[k] = self.apply(np.asarray(d[k], dtype=np.float32))
        return d

    def apply(self, img: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _radius(shape: tuple[int, ...], centre: tuple[float, float]) -> np.ndarray:
    x, y = np.meshgrid(np.arange(shape[1]), np.arange(shape[2]), indexing="ij")
    return np.hypot(x - centre[0], y - centre[1]).astype(np.float32)  # (x, y)


class RandCuppingd(_RandImage):
    def apply(self, img):
        r = _radius(img.shape, (self.R.uniform(0, img.shape[1]), self.R.uniform(0, img.shape[2])))
        depth = self.R.uniform(0.03, 0.15)
        cup = depth * np.clip(1 - (r / (0.8 * max(img.shape[1:3]))) ** 2, 0, 1)
        return (img + 1000) * (1 - cup[None, :, :, None]) - 1000


class RandMetalStreaksd(_RandImage):
    def apply(self, img):
        out = img.copy()
        dense = img[0] > 1800
        if not dense.any():  # no restoration in this crop: plant a small implant-like bright spot
            cx, cy, cz = (int(self.R.randint(8, n - 8)) for n in img.shape[1:])
            out[0, cx - 2:cx + 2, cy - 2:cy + 2, max(cz - 5, 0):cz + 5] = 3000
            dense = out[0] > 1800
        xs, ys, zs = np.nonzero(dense)
        mx, my = xs.mean(), ys.mean()
        x, y = np.meshgrid(np.arange(img.shape[1]) - mx, np.arange(img.shape[2]) - my, indexing="ij")
        ang, dist = np.arctan2(y, x), np.hypot(x, y)
        streak = np.zeros_like(ang)
        for a0 in self.R.uniform(0, np.pi, size=int(self.R.randint(2, 7))):
            da = np.angle(np.exp(1j * 2 * (ang - a0))) / 2
            streak += self.R.choice([-1.0, 1.0]) * np.exp(-0.5 * (da / 0.03) ** 2)
        amp = self.R.uniform(200, 900)
        z0, z1 = zs.min(), zs.max() + 1
        out[0, :, :, z0:z1] += (amp * streak / (1 + dist / 6.0)).astype(np.float32)[:, :, None]
        return out


class RandRingd(_RandImage):
    def apply(self, img):
        r = _radius(img.shape, (self.R.uniform(0, img.shape[1]), self.R.uniform(0, img.shape[2])))
        rings = np.zeros_like(r)
        for r0 in self.R.uniform(2, r.max() + 1, size=int(self.R.randint(1, 5))):
            rings += self.R.uniform(-120, 120) * np.exp(-0.5 * ((r - r0) / 0.6) ** 2)
        return img + rings[None, :, :, None]


class RandTruncatedFOVd(_RandImage):
    """Outside the reconstructed cylinder nothing is imaged: a constant, and no label to learn."""

    def __call__(self, data):
        d = dict(data)
        self.randomize(None)
        if not self._do_transform:
            return d
        img = np.asarray(d["image"], dtype=np.float32)
        r = _radius(img.shape, (self.R.uniform(0, img.shape[1]), self.R.uniform(0, img.shape[2])))
        outside = r > self.R.uniform(0.4, 0.9) * max(img.shape[1:3])
        img = img.copy()
        img[:, outside, :] = self.R.choice([-1000.0, 0.0])
        d["image"] = img
        if "label" in d:
            lab = np.array(d["label"])
            lab[:, outside, :] = 0
            d["label"] = lab
        return d


class RandGreyCalibrationd(_RandImage):
    def apply(self, img):
        return img * self.R.uniform(0.8, 1.2) + self.R.uniform(-200, 200)


def training_transforms(seed: int) -> Compose:
    t = Compose([
        RandGreyCalibrationd(prob=0.8),
        RandHistogramShiftd(keys="image", num_control_points=(5, 10), prob=0.4),
        RandCuppingd(prob=0.5),
        RandMetalStreaksd(prob=0.25),
        RandRingd(prob=0.25),
        RandTruncatedFOVd(prob=0.15),
        RandGaussianSmoothd(keys="image", prob=0.3, sigma_x=(0.3, 0.9), sigma_y=(0.3, 0.9), sigma_z=(0.3, 0.9)),
        RandGaussianNoised(keys="image", prob=0.8, std=60.0),
    ])
    t.set_random_state(seed=seed)
    return t

"""Synthetic CBCT phantoms of the jaws with exact ground truth.

A seeded generator: mandible (cortical shell, trabecular core), maxilla with palate, teeth (crown and
root) with gaps where implants would go, both inferior alveolar canals, soft tissue and air, then
CBCT-like degradations (blur, cupping, noise, metal streaks). Geometry lives on an arch curve so that
the anatomy is randomised with a handful of numbers and the implant sites are known exactly.

Phantom-local millimetres: x grows with column j (patient left), y with row i (posterior), z with
slice k (superior); the DICOM writer places them in LPS with an identity orientation.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from golive.tasks.imaging.volume import Volume, make_affine

log = logging.getLogger(__name__)

LABELS: dict[int, str] = {0: "background", 1: "mandible", 2: "maxilla", 3: "teeth", 4: "canal"}
FOV_MM = (60.0, 72.0, 80.0)  # (z, y, x) extent of the default field of view
_LOWER_WIDTHS = (5.4, 5.9, 6.9, 7.0, 7.2, 11.0, 10.5)  # mesiodistal crown widths, incisor -> 2nd molar


@dataclass(frozen=True)
class Site:
    """A gap in the lower arch where an implant could go (ground truth)."""

    name: str  # e.g. "R6": side and tooth position (1 central incisor .. 7 second molar)
    crest_mm: tuple[float, float, float]  # phantom-local (x, y, z) of the ridge crest at the gap
    axis: tuple[float, float, float]  # unit vector into the bone (towards the inferior border)
    buccal: tuple[float, float, float]  # unit vector pointing buccally, perpendicular to the axis
    mesiodistal: tuple[float, float, float]  # unit vector along the arch
    gap_mm: float  # distance between the neighbouring teeth's crowns along the arch


@dataclass(frozen=True)
class Phantom:
    """A generated scan: HU volume, label volume (LABELS), the exact sites and canal paths."""

    hu: np.ndarray  # int16 [k, i, j]
    labels: np.ndarray  # uint8 [k, i, j]
    spacing: tuple[float, float, float]  # (slice, row, column) mm
    sites: tuple[Site, ...]
    canals: tuple[np.ndarray, np.ndarray]  # right, left: (n, 3) phantom-local (x, y, z) mm
    canal_radius_mm: float
    seed: int

    def volume(self, origin: tuple[float, float, float] | None = None) -> Volume:
        """The HU volume; by default its LPS coordinates equal phantom-local mm (first centre at s/2)."""
        if origin is None:
            origin = (self.spacing[2] / 2, self.spacing[1] / 2, self.spacing[0] / 2)
        aff = make_affine(origin, (1, 0, 0), (0, 1, 0), self.spacing)
        return Volume(self.hu.astype(np.float32), self.spacing, aff)


def _arch(t: np.ndarray, cx: float, yf: float, a: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    return cx + a * t, yf + d * t**2


def generate(seed: int = 0, spacing: float | tuple[float, float, float] = 1.0,
             degrade: bool = True) -> Phantom:
    """Generate one phantom. Same seed and spacing, same phantom (bit for bit)."""
    rng = np.random.default_rng(seed)
    sp = (spacing,) * 3 if isinstance(spacing, (int, float)) else tuple(spacing)
    shape = tuple(int(round(f / s)) for f, s in zip(FOV_MM, sp, strict=True))
    nz, ny, nx = shape
    z = (np.arange(nz) + 0.5) * sp[0]
    y = (np.arange(ny) + 0.5) * sp[1]
    x = (np.arange(nx) + 0.5) * sp[2]

    # --- arch geometry (lower), randomised ---
    cx = FOV_MM[2] / 2 + rng.uniform(-2.5, 2.5)
    yf = rng.uniform(9.0, 13.0)
    a_half = rng.uniform(24.0, 28.0)
    depth = rng.uniform(36.0, 42.0)
    t = np.linspace(-1.25, 1.25, 4001)
    px, py = _arch(t, cx, yf, a_half, depth)
    seg = np.hypot(np.diff(px), np.diff(py))
    s_curve = np.concatenate([[0.0], np.cumsum(seg)])
    s_mid = float(np.interp(0.0, t, s_curve))
    tx, ty = np.gradient(px), np.gradient(py)
    tn = np.hypot(tx, ty)
    tx, ty = tx / tn, ty / tn
    nxv, nyv = ty, -tx  # outward (buccal) normal: at t=0 it points anterior (-y)

    gx, gy = np.meshgrid(x, y)  # [i, j]
    tree = cKDTree(np.stack([px, py], axis=1))
    _, idx = tree.query(np.stack([gx.ravel(), gy.ravel()], axis=1))
    idx = idx.reshape(gx.shape)
    s_map = s_curve[idx] - s_mid  # signed arc length from the midline: negative = patient right
    d_map = (gx - px[idx]) * nxv[idx] + (gy - py[idx]) * nyv[idx]
    inner = (idx > 0) & (idx < len(t) - 1)
    s_end = float(s_curve[-1] - s_mid) - 1.0

    # --- mandible ---
    z_inf = rng.uniform(3.0, 6.0)
    height = rng.uniform(22.0, 27.0)
    hw0 = rng.uniform(5.0, 6.0)  # half width (bucco-lingual) at the base
    cort = rng.uniform(1.5, 2.3)
    crest = np.full_like(s_map, z_inf + height)

    # teeth positions along the arch (both sides), with gaps
    widths = np.array(_LOWER_WIDTHS) * rng.uniform(0.95, 1.05)
    centres = np.cumsum(widths) - widths / 2 + 0.3
    missing: dict[str, set[int]] = {}
    for side in ("R", "L"):
        n_gap = int(rng.integers(1, 3))
        missing[side] = set(rng.choice([3, 4, 5, 6], size=n_gap, replace=False).tolist())
    resorb = {}
    for side, sign in (("R", -1.0), ("L", 1.0)):
        for m in missing[side]:
            depth_r = rng.uniform(0.5, 3.0)
            resorb[(side, m)] = depth_r
            sc = sign * centres[m]
            bump = depth_r * np.exp(-0.5 * ((s_map - sc) / (widths[m] * 0.45)) ** 2)
            crest = crest - bump
    zz = z[:, None, None]
    rel = np.clip((zz - z_inf) / height, 0, 1)
    hw = hw0 * (1 - 0.38 * rel**2) + 0.6 * np.exp(-((zz - z_inf - 3) / 5.0) ** 2)  # wider basal bone
    mand = (np.abs(d_map)[None] <= hw) & (zz >= z_inf) & (zz <= crest[None]) & inner[None] & \
        (np.abs(s_map)[None] <= s_end)
    # round the inferior border
    mand &= ~((zz < z_inf + 2.0) & (np.abs(d_map)[None] > hw - (z_inf + 2.0 - zz)))

    # --- canals: from the posterior end to the mental foramen (between premolars) ---
    canal_r = rng.uniform(1.3, 1.8)
    canal_paths = []
    canal = np.zeros(shape, dtype=bool)
    s_foramen = centres[3] + rng.uniform(-1.0, 1.5)
    for sign in (-1.0, 1.0):
        c_h = rng.uniform(6.0, 12.0)  # canal centre above the inferior border at the foramen
        ss = np.linspace(s_foramen, s_end - 1.0, 200)
        cz = z_inf + c_h + 1.5 * (ss - s_foramen) / (s_end - s_foramen)
        cd = -0.15 * hw0 + 0.3 * hw0 * (1 - (ss - s_foramen) / (s_end - s_foramen)) ** 2
        # back to x, y via the arch curve
        ti_c = np.interp(sign * ss + s_mid, s_curve, np.arange(len(t)))
        ii = np.clip(np.round(ti_c).astype(int), 0, len(t) - 1)
        cxp = px[ii] + cd * nxv[ii]
        cyp = py[ii] + cd * nyv[ii]
        path = np.stack([cxp, cyp, cz], axis=1)
        canal_paths.append(path)
        # distance from each voxel to the polyline (dense samples: nearest sample is enough)
        ptree = cKDTree(path)
        lo = np.floor((path.min(0) - canal_r - 1) / np.array([sp[2], sp[1], sp[0]])).astype(int)
        hi = np.ceil((path.max(0) + canal_r + 1) / np.array([sp[2], sp[1], sp[0]])).astype(int)
        lo = np.maximum(lo, 0)
        hi = np.minimum(hi, [nx, ny, nz])
        sub = np.stack(np.meshgrid(z[lo[2]:hi[2]], y[lo[1]:hi[1]], x[lo[0]:hi[0]], indexing="ij"), -1)
        dist, _ = ptree.query(sub[..., ::-1].reshape(-1, 3))
        canal[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]] |= (dist <= canal_r).reshape(sub.shape[:3])
    canal &= mand

    # --- teeth (lower, with gaps; upper, all present) ---
    teeth = np.zeros(shape, dtype=bool)
    enamel = np.zeros(shape, dtype=bool)
    metal = np.zeros(shape, dtype=bool)
    occl = z_inf + height + rng.uniform(7.0, 8.5)  # occlusal plane
    sites: list[Site] = []
    canal_top = {}
    for k_side, sign in enumerate((-1.0, 1.0)):
        pth = canal_paths[k_side]
        canal_top[sign] = (pth, canal_r)
    for side, sign in (("R", -1.0), ("L", 1.0)):
        for m, (c, w) in enumerate(zip(centres, widths, strict=True)):
            sc = sign * c
            ti = int(np.clip(round(float(np.interp(sc + s_mid, s_curve, np.arange(len(t))))), 0, len(t) - 1))
            zc = float(z_inf + height - sum(
                r * np.exp(-0.5 * ((sc - sgn * centres[mm]) / (widths[mm] * 0.45)) ** 2)
                for (sd, mm), r in resorb.items() for sgn in ((-1.0,) if sd == "R" else (1.0,))))
            if m in missing[side]:
                tang = (float(tx[ti]) * sign, float(ty[ti]) * sign, 0.0)
                sites.append(Site(
                    name=f"{side}{m + 1}", crest_mm=(float(px[ti]), float(py[ti]), zc),
                    axis=(0.0, 0.0, -1.0), buccal=(float(nxv[ti]), float(nyv[ti]), 0.0),
                    mesiodistal=tang, gap_mm=float(w - 0.6)))
                continue
            mw = 0.5 * w - 0.35
            bw = min(hw0 * 0.62 * (0.85 if m < 3 else 1.0), mw * 1.2 if m < 3 else 9.0)
            root_len = rng.uniform(11.0, 14.0) if m < 5 else rng.uniform(10.0, 12.5)
            if m >= 3:  # roots above the canal
                pth, r = canal_top[sign]
                near = np.argmin(np.abs(np.hypot(pth[:, 0] - px[ti], pth[:, 1] - py[ti])))
                root_len = min(root_len, zc - (pth[near, 2] + r + 1.2))
            crown_h = rng.uniform(6.5, 7.5)
            ds = s_map - sc
            ell = (ds / mw) ** 2 + (d_map / bw) ** 2  # [i, j]
            rel_root = np.clip((zc - zz) / max(root_len, 1.0), 0, 1)
            root = (ell[None] <= (1 - 0.75 * rel_root) ** 2) & (zz >= zc - root_len) & (zz < zc)
            crown_top = zc + crown_h - (occl - (zc + crown_h)) * 0  # crowns reach the occlusal plane
            crown_top = occl
            crown = (ell[None] <= 1.0) & (zz >= zc) & (zz <= crown_top)
            tooth = (root | crown) & (np.abs(s_map) <= s_end)[None]
            teeth |= tooth
            shell = crown & ~ndimage.binary_erosion(crown, iterations=1)
            enamel |= shell
            if rng.random() < 0.12:  # a metal crown restoration
                metal |= crown & (zz >= occl - 3.0)

    # maxilla: a wider arch above the occlusal plane, with a palate; upper teeth all present
    a_u, d_u, yf_u = a_half + 1.5, depth + 1.0, yf - 1.5
    pxu, pyu = _arch(t, cx, yf_u, a_u, d_u)
    txu, tyu = np.gradient(pxu), np.gradient(pyu)
    tnu = np.hypot(txu, tyu)
    nxu, nyu = tyu / tnu, -txu / tnu
    _, idu = cKDTree(np.stack([pxu, pyu], axis=1)).query(np.stack([gx.ravel(), gy.ravel()], axis=1))
    idu = idu.reshape(gx.shape)
    s_u = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(pxu), np.diff(pyu)))])
    s_mid_u = float(np.interp(0.0, t, s_u))
    su_map = s_u[idu] - s_mid_u
    du_map = (gx - pxu[idu]) * nxu[idu] + (gy - pyu[idu]) * nyu[idu]
    inner_u = (idu > 0) & (idu < len(t) - 1) & (np.abs(su_map) <= s_end)
    crown_u = rng.uniform(7.0, 8.0)
    z_alv = occl + crown_u  # upper alveolar crest
    z_top = FOV_MM[0] - rng.uniform(1.0, 4.0)
    hwu = rng.uniform(5.5, 6.5)
    maxi = (np.abs(du_map)[None] <= hwu) & (zz >= z_alv) & (zz <= z_top) & inner_u[None]
    palate_zone = (du_map < 0) & (np.abs(gx - cx) < a_u * 0.95) & (gy < yf_u + d_u * 0.95) & (gy > yf_u)
    maxi |= palate_zone[None] & (zz >= z_alv + 4.5) & (zz <= z_alv + 7.5)
    widths_u = np.array((8.5, 6.5, 7.5, 7.0, 6.5, 10.0, 9.0)) * rng.uniform(0.95, 1.05)
    centres_u = np.cumsum(widths_u) - widths_u / 2 + 0.3
    for sign in (-1.0, 1.0):
        for m, (c, w) in enumerate(zip(centres_u, widths_u, strict=True)):
            mw = 0.5 * w - 0.35
            bw = min(hwu * 0.62, mw * 1.2 if m < 3 else 9.0)
            ell = ((su_map - sign * c) / mw) ** 2 + (du_map / bw) ** 2
            root_len = rng.uniform(10.0, 13.0)
            rel_root = np.clip((zz - z_alv) / root_len, 0, 1)
            root = (ell[None] <= (1 - 0.75 * rel_root) ** 2) & (zz > z_alv) & (zz <= z_alv + root_len)
            crown = (ell[None] <= 1.0) & (zz > occl + 0.6) & (zz <= z_alv)
            teeth |= (root | crown) & inner_u[None]
            enamel |= crown & ~ndimage.binary_erosion(crown, iterations=1)

    # --- labels (later wins) ---
    labels = np.zeros(shape, dtype=np.uint8)
    labels[mand] = 1
    labels[maxi & ~mand] = 2
    labels[teeth] = 3
    labels[canal & ~teeth] = 4
    bone_any = mand | maxi
    del mand, maxi, teeth, canal  # a full-size bool each: free them before the float32 volumes

    # --- intensities ---
    head = ((gx - cx) / (FOV_MM[2] * 0.62)) ** 2 + ((gy - (yf + depth * 0.55)) / (FOV_MM[1] * 0.62)) ** 2 <= 1
    hu = np.full(shape, -1000.0, dtype=np.float32)
    hu[np.broadcast_to(head[None], shape)] = rng.uniform(20, 60)
    # oral cavity air between the arches, in front of the tongue
    airway = (np.abs(zz - occl) < 0.8) & (d_map > hw0 + 2.0)[None] & head[None]
    hu[airway] = -900
    del airway
    bone = (labels == 1) | (labels == 2)
    texture = ndimage.gaussian_filter(_normal_float32(rng, shape), 1.2 / sp[0])
    texture /= texture.std() + 1e-6
    trab = rng.uniform(350, 650)
    hu[bone] = trab + 120 * texture[bone]
    cortical = bone & _near_background(bone_any, cort, sp)
    del bone_any
    hu[cortical] = rng.uniform(1150, 1550) + 60 * texture[cortical]
    hu[labels == 3] = rng.uniform(1600, 1900)
    hu[enamel & (labels == 3)] = rng.uniform(2300, 2700)
    hu[labels == 4] = rng.uniform(10, 60)
    # a thin cortical wall around the canal (as in real mandibles)
    wall = ndimage.binary_dilation(labels == 4, iterations=1) & (labels == 1)
    hu[wall] = np.maximum(hu[wall], rng.uniform(700, 1000))
    if metal.any():
        hu[metal] = 3500
    del texture, bone, cortical, wall

    if degrade:
        hu_i = _degrade(hu, metal, rng, sp, (cx, yf + depth * 0.5))
    else:
        hu_i = np.clip(np.round(hu), -1024, 3071).astype(np.int16)
    return Phantom(hu=hu_i, labels=labels, spacing=sp, sites=tuple(sites),  # type: ignore[arg-type]
                   canals=(canal_paths[0], canal_paths[1]), canal_radius_mm=float(canal_r), seed=seed)


_SLAB = 16  # slices per chunk: random draws and float64 arithmetic stay one slab in size


def _normal_float32(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """rng.normal(0, scale, shape) as float32, drawn a slab at a time: the same values as one full-volume
    float64 draw (the generator's stream is consumed in the same order) at a quarter of the memory."""
    out = np.empty(shape, np.float32)
    for a in range(0, shape[0], _SLAB):
        b = min(a + _SLAB, shape[0])
        out[a:b] = rng.normal(0, scale, size=(b - a, *shape[1:]))
    return out


def _near_background(mask: np.ndarray, dist_mm: float, sp: tuple[float, ...]) -> np.ndarray:
    """distance_transform_edt(mask, sampling=sp) <= dist_mm, a slab at a time. A slab padded by more than
    dist_mm in z sees every background voxel within dist_mm of its own voxels, so the test is exact; the
    full-volume transform would hold float64 distances and int32 indices for every voxel (~20 bytes each)."""
    pad = int(np.ceil(dist_mm / sp[0])) + 1
    out = np.zeros(mask.shape, bool)
    for a in range(0, mask.shape[0], _SLAB):
        b = min(a + _SLAB, mask.shape[0])
        lo, hi = max(a - pad, 0), min(b + pad, mask.shape[0])
        edt = ndimage.distance_transform_edt(mask[lo:hi], sampling=sp)
        out[a:b] = edt[a - lo:b - lo] <= dist_mm
    return out


def _degrade(hu: np.ndarray, metal: np.ndarray, rng: np.random.Generator,
             sp: tuple[float, ...], centre_xy: tuple[float, float]) -> np.ndarray:
    """Blur, cupping, metal streaks and noise, roughly as a dental CBCT shows them; returns int16 HU.
    Random draws happen in a fixed order (streaks, then noise slab by slab) and each slab is computed in
    float64 as the whole volume once was, so a seed gives the same phantom as before, in less memory."""
    nz, ny, nx = hu.shape
    blurred = ndimage.gaussian_filter(hu, sigma=[rng.uniform(0.4, 0.8) / s for s in sp])  # float32
    yy, xx = np.meshgrid((np.arange(ny) + 0.5) * sp[1], (np.arange(nx) + 0.5) * sp[2], indexing="ij")
    r2 = ((xx - centre_xy[0]) ** 2 + (yy - centre_xy[1]) ** 2) / (0.5 * nx * sp[2]) ** 2
    cup = rng.uniform(0.03, 0.10) * np.clip(1 - r2, 0, 1)  # centre darker than the rim
    streaks: dict[int, np.ndarray] = {}
    if metal.any():
        for k in np.unique(np.nonzero(metal)[0]):
            ys, xs = np.nonzero(metal[k])
            my, mx = ys.mean() * sp[1], xs.mean() * sp[2]
            ang = np.arctan2(yy - my, xx - mx)
            dist = np.hypot(yy - my, xx - mx)
            streak = np.zeros_like(ang)
            for a0 in rng.uniform(0, np.pi, size=4):
                da = np.angle(np.exp(1j * 2 * (ang - a0))) / 2
                streak += rng.choice([-1.0, 1.0]) * np.exp(-0.5 * (da / 0.02) ** 2)
            streaks[int(k)] = 600 * streak / (1 + dist / 8.0)
    noise_sd = rng.uniform(25, 60)
    out = np.empty(hu.shape, np.int16)
    for a in range(0, nz, _SLAB):
        b = min(a + _SLAB, nz)
        slab = (blurred[a:b] + 1000) * (1 - cup[None]) - 1000  # float64, one slab
        for k in range(a, b):
            if k in streaks:
                slab[k - a] += streaks[k]
        slab += rng.normal(0, noise_sd, size=slab.shape).astype(np.float32)
        out[a:b] = np.clip(np.round(slab), -1024, 3071)
    return out


def write_phantom(out_dir: Path | str, seed: int = 0, spacing: float = 1.0) -> Path:
    """Write a phantom as a DICOM CT series plus `labels.npy` and `truth.json`; returns the series dir."""
    from golive.tasks.imaging.dicom_write import write_series

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ph = generate(seed, spacing)
    series_dir = out / "series"
    origin = (-FOV_MM[2] / 2, -FOV_MM[1] / 2, -FOV_MM[0] / 2)
    # voxel centres sit at (index + 0.5) * spacing in phantom-local mm: LPS = local + origin
    centre0 = (origin[0] + ph.spacing[2] / 2, origin[1] + ph.spacing[1] / 2, origin[2] + ph.spacing[0] / 2)
    write_series(ph.volume(centre0), series_dir, seed=seed,
                 description="golive synthetic jaw phantom")
    np.save(out / "labels.npy", ph.labels)
    truth = {
        "seed": seed, "spacing_mm": list(ph.spacing), "origin_lps_mm": list(origin),
        "labels": {str(k): v for k, v in LABELS.items()},
        "canal_radius_mm": ph.canal_radius_mm,
        "sites": [asdict(s) for s in ph.sites],
        "canals": {"right": ph.canals[0].round(3).tolist(), "left": ph.canals[1].round(3).tolist()},
        "note": "phantom-local mm: add origin_lps_mm to get LPS",
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    log.info("wrote phantom seed=%d shape=%s", seed, ph.hu.shape)
    return series_dir

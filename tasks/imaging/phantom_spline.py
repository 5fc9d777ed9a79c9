"""A second, independent family of synthetic jaw phantoms ("spline" family), for evaluation only.

Written separately from `phantom.py` (which the shipped model is trained on) so that a model tuned to
one generator's habits is caught by the other. Only the result containers (`Phantom`, `Site`) and the
label values are shared; geometry, intensities and artefacts are drawn differently:

- arch: a superellipse (exponent 2.2-3.6, U- to square-shaped), skewed and rotated, not a parabola;
- mandible: a tapered cross-section leaning lingually with a superelliptic inferior border and an
  analytic cortical shell of 1.0-2.8 mm; crest height varies along the arch;
- teeth: 7 or 8 per lower quadrant (third molars), superellipsoid crowns with an enamel cap, conical
  roots, two roots on molars; 1-3 missing per side, adjacent gaps allowed (each its own site);
  the upper arch may miss teeth too; amalgam-like fillings;
- canal: a cubic spline dipping under the molars and rising to a buccal mental foramen, radius 1.0-2.0
  mm, its cortical wall present or faint;
- intensities: wider ranges than `phantom.py`, then an uncalibrated grey-value gain and offset;
- artefacts: anisotropic blur, signal-dependent and in-plane correlated noise, cupping, a beam-hardening
  dark band between the molars, ring artefacts, metal streaks, a truncated cylindrical field of view
  (outside it a constant; nothing is labelled there).

Built slice by slice into uint8/int16/float32 arrays, so memory stays near the output's own size.
Coordinates as in `phantom.py`: phantom-local mm, x with column (patient left), y with row (posterior),
z with slice (superior).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.interpolate import CubicSpline
from scipy.spatial import cKDTree

from golive.tasks.imaging.phantom import Phantom, Site

FOV_MM = (56.0, 76.0, 84.0)  # (z, y, x)
FAMILY = "spline"
# materials (uint8) -> intensity; labels follow phantom.LABELS
AIR, SOFT, TRAB, CORT, DENTINE, ENAMEL, LUMEN, WALL, METAL = range(9)
METAL_MIN = 3040.0  # grey value above which a voxel is a filling (before blur)
_LOWER_WIDTHS = (5.1, 5.6, 6.7, 7.1, 7.0, 11.2, 10.2, 9.6)  # incisor -> third molar
_UPPER_WIDTHS = (8.7, 6.6, 7.7, 7.0, 6.6, 10.3, 9.1)


def _arch(rng: np.random.Generator, cx: float, scale: float = 1.0, yshift: float = 0.0, params=None):
    """Dense points of a superellipse arch, their arc length (0 at the midline), unit tangents and normals
    (buccal, pointing out of the arch)."""
    a, b, n, rot, skew, yf = params
    th = np.linspace(-0.46 * np.pi, 0.46 * np.pi, 4001)
    s, c = np.sin(th), np.cos(th)
    x = a * scale * np.sign(s) * np.abs(s) ** (2 / n)
    y = b * scale * (1 - np.abs(c) ** (2 / n)) + skew * th / th[-1]
    pivot = np.array([0.0, 20.0])
    cr, sr = np.cos(rot), np.sin(rot)
    xr = cr * (x - pivot[0]) - sr * (y - pivot[1]) + pivot[0] + cx
    yr = sr * (x - pivot[0]) + cr * (y - pivot[1]) + pivot[1] + yf + yshift
    seg = np.hypot(np.diff(xr), np.diff(yr))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    arc -= arc[2000]
    tx, ty = np.gradient(xr), np.gradient(yr)
    tn = np.hypot(tx, ty)
    tx, ty = tx / tn, ty / tn
    return xr, yr, arc, tx, ty, ty, -tx


def _maps(gx, gy, xr, yr, arc, nx_, ny_):
    """Signed arc length and signed normal distance (buccal positive) for each in-plane grid point."""
    _, idx = cKDTree(np.stack([xr, yr], 1)).query(np.stack([gx.ravel(), gy.ravel()], 1))
    idx = idx.reshape(gx.shape)
    s_map = arc[idx].astype(np.float32)
    d_map = ((gx - xr[idx]) * nx_[idx] + (gy - yr[idx]) * ny_[idx]).astype(np.float32)
    inner = (idx > 0) & (idx < len(xr) - 1)
    return s_map, d_map, inner


def generate(seed: int = 0, spacing: float | tuple[float, float, float] = 1.0) -> Phantom:
    """One phantom of the spline family. Same seed and spacing, same phantom (bit for bit)."""
    rng = np.random.default_rng([seed, 0x5B1])
    sp = (float(spacing),) * 3 if isinstance(spacing, (int, float)) else tuple(float(v) for v in spacing)
    shape = tuple(int(round(f / s)) for f, s in zip(FOV_MM, sp, strict=True))
    nz, ny, nx = shape
    z = (np.arange(nz) + 0.5) * sp[0]
    gy, gx = np.meshgrid((np.arange(ny) + 0.5) * sp[1], (np.arange(nx) + 0.5) * sp[2], indexing="ij")

    # --- arches ---
    cx = FOV_MM[2] / 2 + rng.uniform(-3, 3)
    low = (rng.uniform(25, 29.5), rng.uniform(48, 56), rng.uniform(2.2, 3.6), np.deg2rad(rng.uniform(-4, 4)),
           rng.uniform(-1.5, 1.5), rng.uniform(10, 14))
    xr, yr, arc, tx, ty, nxv, nyv = _arch(rng, cx, params=low)
    s_map, d_map, inner = _maps(gx, gy, xr, yr, arc, nxv, nyv)
    s_end = min(-arc[0], arc[-1]) - 1.5

    def at(s: float) -> int:
        return int(np.clip(np.searchsorted(arc, s), 0, len(arc) - 1))

    # --- mandible parameters ---
    z_inf = rng.uniform(4, 8)
    h0, h_post = rng.uniform(20, 26), rng.uniform(-3, 2)
    w0, taper, lean = rng.uniform(5.5, 7.5), rng.uniform(0.2, 0.45), rng.uniform(0.0, 0.12)
    h_b, n_b = rng.uniform(3, 6), rng.uniform(2, 4)
    t_c = rng.uniform(1.0, 2.8)

    # lower teeth along the arch, with gaps (adjacent gaps allowed; each gap is one site)
    n_teeth = 8 if rng.random() < 0.5 else 7
    widths = np.array(_LOWER_WIDTHS[:n_teeth]) * rng.uniform(0.92, 1.08, size=n_teeth)
    spacing_gap = rng.uniform(0.2, 0.6)
    centres = np.cumsum(widths + spacing_gap) - (widths + spacing_gap) / 2
    missing = {side: set(rng.choice([2, 3, 4, 5, 6], size=int(rng.integers(1, 4)), replace=False).tolist())
               for side in ("R", "L")}
    resorb = {(side, m): rng.uniform(0.5, 3.5) for side in ("R", "L") for m in sorted(missing[side])}

    def crest(s: np.ndarray | float) -> np.ndarray:
        out = z_inf + h0 + h_post * (np.asarray(s) / s_end) ** 2
        for (side, m), r in resorb.items():
            sc = (-1.0 if side == "R" else 1.0) * centres[m]
            u = np.clip(np.abs(np.asarray(s) - sc) / (widths[m] * 0.75), 0, 1)
            out = out - r * 0.5 * (1 + np.cos(np.pi * u))  # raised-cosine dip
        return out

    crest_map = crest(s_map).astype(np.float32)
    wide = (1 + 0.15 * np.clip(np.abs(s_map) / s_end, 0, 1)).astype(np.float32)  # wider posteriorly
    in_arch = inner & (np.abs(s_map) <= s_end)

    # --- canal: spline in (arc length, z) and (arc length, d) from the posterior end to the foramen ---
    canal_r = rng.uniform(1.0, 2.0)
    s_for = 0.5 * (centres[3] + centres[4]) + rng.uniform(-1.0, 1.0)
    wall_hu = rng.uniform(500, 1100) if rng.random() < 0.7 else None  # faint wall in some jaws
    canal_paths = []
    for sign in (-1.0, 1.0):
        knots = np.array([s_for, 0.5 * (s_for + s_end), s_end - 1.0])
        zk = z_inf + np.array([rng.uniform(9, 13), rng.uniform(5, 8), rng.uniform(10, 15)])
        dk = np.array([rng.uniform(0.5, 2.0), rng.uniform(-1.5, 0.5), rng.uniform(-1.0, 1.0)])
        ss = np.linspace(s_for, s_end - 1.0, 300)
        cz, cd = CubicSpline(knots, zk)(ss), CubicSpline(knots, dk)(ss)
        ii = np.array([at(sign * v) for v in ss])
        canal_paths.append(np.stack([xr[ii] + cd * nxv[ii], yr[ii] + cd * nyv[ii], cz], 1))

    mat = np.full(shape, AIR, np.uint8)
    labels = np.zeros(shape, np.uint8)

    # soft tissue: a rounded-square head outline; pharyngeal airway behind the tongue
    head = (np.abs(gx - cx) / (FOV_MM[2] * 0.55)) ** 4 + (np.abs(gy - 40) / (FOV_MM[1] * 0.58)) ** 4 <= 1
    head &= gy > low[5] - rng.uniform(6, 9)
    air_c = (cx + rng.uniform(-2, 2), low[5] + 0.77 * low[1] + rng.uniform(2, 8))  # behind the arch
    airway = ((gx - air_c[0]) / rng.uniform(6, 9)) ** 2 + ((gy - air_c[1]) / rng.uniform(3.5, 6)) ** 2 <= 1

    occl = z_inf + h0 + rng.uniform(7.5, 9.5)
    vest = rng.uniform(0, 1.5)  # air between lips/cheeks and teeth at the occlusal plane

    # --- mandible, slice by slice (analytic cortical shell: no distance transform) ---
    for k, zk_ in enumerate(z):
        rel = np.clip((zk_ - z_inf) / h0, 0, 1)
        w = w0 * wide * (1 - taper * rel)
        if z_inf <= zk_ < z_inf + h_b:
            w = w * (1 - ((z_inf + h_b - zk_) / h_b) ** n_b) ** (1 / n_b)
        dd = np.abs(d_map + lean * (zk_ - z_inf))
        bone = (dd <= w) & (zk_ >= z_inf) & (zk_ <= crest_map) & in_arch
        core = (dd <= w - t_c) & (zk_ >= z_inf + t_c) & (zk_ <= crest_map - 0.5 * t_c)
        m = mat[k]
        m[head & ~(airway & (zk_ > z_inf + 8))] = SOFT
        m[(np.abs(zk_ - occl) < vest / 2) & (d_map > w0 + 2)] = AIR
        m[bone] = CORT
        m[bone & core] = TRAB
        labels[k][bone] = 1

    # canal voxels: distance to the dense centre line, bounding box per side
    for path in canal_paths:
        tree = cKDTree(path)
        lo = np.maximum(np.floor((path.min(0) - canal_r - 2) / np.array(sp[::-1])).astype(int), 0)
        hi = np.minimum(np.ceil((path.max(0) + canal_r + 2) / np.array(sp[::-1])).astype(int), [nx, ny, nz])
        for k in range(lo[2], hi[2]):
            px = np.stack([gx[lo[1]:hi[1], lo[0]:hi[0]].ravel(), gy[lo[1]:hi[1], lo[0]:hi[0]].ravel(),
                           np.full((hi[1] - lo[1]) * (hi[0] - lo[0]), z[k])], 1)
            dist = tree.query(px)[0].reshape(hi[1] - lo[1], hi[0] - lo[0])
            lab, m = labels[k, lo[1]:hi[1], lo[0]:hi[0]], mat[k, lo[1]:hi[1], lo[0]:hi[0]]
            inside = lab == 1
            if wall_hu is not None:
                m[(dist <= canal_r + max(0.5, sp[2])) & inside] = WALL
            lumen = (dist <= canal_r) & inside
            m[lumen] = LUMEN
            lab[lumen] = 4

    # --- maxilla: upper arch, alveolus plus a palatal vault ---
    up = (low[0] * 1.04 + 1.0, low[1] * 1.02, low[2], low[3], low[4], low[5] - rng.uniform(1.0, 2.5))
    xu, yu, arc_u, _, _, nxu, nyu = _arch(rng, cx, params=up)
    su_map, du_map, inner_u = _maps(gx, gy, xu, yu, arc_u, nxu, nyu)
    su_end = min(-arc_u[0], arc_u[-1]) - 1.5
    crown_u = rng.uniform(7.0, 8.5)
    z_alv = occl + crown_u
    z_top = FOV_MM[0] - rng.uniform(0.5, 3)
    wu0 = rng.uniform(5.5, 7.0)
    vault, pal_t = rng.uniform(4, 9), rng.uniform(1.5, 3.0)
    in_u = inner_u & (np.abs(su_map) <= su_end)
    pal_zone = (du_map < -wu0 + 1) & (gy > yu.min()) & (gy < yu.max() - 4) & (np.abs(gx - cx) < np.ptp(xu) / 2)
    pal_low = z_alv + 2.0 + vault * np.clip((-du_map - wu0) / 12.0, 0, 1)
    for k, zk_ in enumerate(z):
        if zk_ < z_alv or zk_ > z_top:
            continue
        alv = (np.abs(du_map) <= wu0 * (1 + 0.2 * np.clip((zk_ - z_alv) / 10, 0, 1))) & in_u
        pal = pal_zone & (zk_ >= pal_low) & (zk_ <= pal_low + pal_t)
        bone = (alv | pal) & (labels[k] == 0)
        m = mat[k]
        m[bone] = TRAB
        m[bone & ~ndimage.binary_erosion(bone, iterations=max(1, int(round(1.2 / sp[2]))))] = CORT
        labels[k][bone] = 2

    # --- teeth: superellipsoid crowns with an enamel cap, conical roots (two on molars) ---
    sites: list[Site] = []
    q = rng.uniform(2.2, 3.2)
    enamel_t = rng.uniform(0.6, 1.2)
    fill_p = rng.uniform(0.05, 0.25)

    def tooth(s_m, d_m, valid, s0, w_half, b_half, z_cej, z_tip, root_len, n_roots, upward, filled):
        """Rasterise one tooth in its bounding box. upward=False: crown up, roots down (lower jaw)."""
        reach = max(w_half, b_half) + 1.0
        box = (np.abs(s_m - s0) <= reach) & valid
        box &= np.abs(d_m) <= reach
        if not box.any():
            return
        ii, jj = np.nonzero(box)
        i0, i1, j0, j1 = ii.min(), ii.max() + 1, jj.min(), jj.max() + 1
        ds = s_m[i0:i1, j0:j1] - s0
        dd = d_m[i0:i1, j0:j1]
        ok = box[i0:i1, j0:j1]
        sgn = 1.0 if not upward else -1.0
        z_lo, z_hi = sorted((z_cej - sgn * root_len, z_tip))
        k0, k1 = max(int(np.floor(z_lo / sp[0] - 0.5)), 0), min(int(np.ceil(z_hi / sp[0] + 0.5)), nz)
        height = abs(z_tip - z_cej)
        hb = 0.55 * height  # widest point of the crown, above the narrower neck
        for k in range(k0, k1):
            zk_ = z[k]
            h = sgn * (zk_ - z_cej)  # height above the CEJ, towards the crown
            if 0 <= h <= height:
                f = 1 - 0.18 * (hb - h) / hb if h < hb else (1 - ((h - hb) / (height - hb)) ** 3) ** (1 / 3)
                f = max(f, 0.05)
                r = (np.abs(ds) / (w_half * f)) ** q + (np.abs(dd) / (b_half * f)) ** q
                part = (r <= 1) & ok
                fe = max(f - enamel_t / w_half, 0.0)
                cap = part & ~((r * (f / max(fe, 1e-3)) ** q <= 1) & (h < height - enamel_t))
                material = np.where(cap, ENAMEL, DENTINE)
                if filled and h > height - 2.5:
                    material = np.where((np.abs(ds) < 0.4 * w_half) & (np.abs(dd) < 0.4 * b_half), METAL, material)
            elif -root_len <= h < 0:
                rel = -h / root_len
                part = np.zeros_like(ok)
                offs = (0.0,) if n_roots == 1 else (-0.45 * w_half, 0.45 * w_half)
                rw = 0.8 * w_half if n_roots == 1 else 0.42 * w_half
                for o in offs:
                    part |= ((ds - o) / (rw * (1 - 0.8 * rel))) ** 2 + (dd / (0.8 * b_half * (1 - 0.75 * rel))) ** 2 <= 1
                part &= ok
                material = np.full(part.shape, DENTINE, np.uint8)
            else:
                continue
            mat[k, i0:i1, j0:j1][part] = material[part]
            labels[k, i0:i1, j0:j1][part] = 3

    for side, sign in (("R", -1.0), ("L", 1.0)):
        for mi, (c, wdt) in enumerate(zip(centres, widths, strict=True)):
            sc = sign * c
            ti = at(sc)
            zc = float(crest(sc))
            if mi in missing[side]:
                dz = lean * (zc - z_inf)  # the alveolus leans lingually: the crest's centre moves with it
                sites.append(Site(
                    name=f"{side}{mi + 1}",
                    crest_mm=(float(xr[ti] - dz * nxv[ti]), float(yr[ti] - dz * nyv[ti]), zc),
                    axis=(0.0, 0.0, -1.0), buccal=(float(nxv[ti]), float(nyv[ti]), 0.0),
                    mesiodistal=(float(tx[ti]) * sign, float(ty[ti]) * sign, 0.0), gap_mm=float(wdt)))
                continue
            w_half = 0.5 * wdt - 0.2
            b_half = min(w0 * (1 - taper) * 0.8, 0.5 * wdt * (0.9 if mi < 3 else 1.0))
            z_cej = zc + rng.uniform(0.3, 1.2)
            root_len = rng.uniform(11, 15) if mi < 5 else rng.uniform(9.5, 13)
            if mi >= 3:  # roots stay above the canal
                path = canal_paths[0 if sign < 0 else 1]
                near = int(np.argmin(np.hypot(path[:, 0] - xr[ti], path[:, 1] - yr[ti])))
                root_len = min(root_len, z_cej - (path[near, 2] + canal_r + 1.0))
            if c + wdt / 2 > s_end - 1:  # no room at the end of the arch (a third molar)
                continue
            tooth(s_map, d_map + lean * (zc - z_inf), in_arch, sc, w_half, b_half, z_cej, occl + rng.uniform(-0.4, 0.2),
                  max(root_len, 3.0), 2 if mi >= 5 else 1, False, rng.random() < fill_p)
    widths_u = np.array(_UPPER_WIDTHS) * rng.uniform(0.93, 1.07, size=len(_UPPER_WIDTHS))
    centres_u = np.cumsum(widths_u + spacing_gap) - (widths_u + spacing_gap) / 2
    for sign in (-1.0, 1.0):
        gone = set(rng.choice(range(1, 7), size=int(rng.integers(0, 3)), replace=False).tolist())
        for mi, (c, wdt) in enumerate(zip(centres_u, widths_u, strict=True)):
            if mi in gone:
                continue
            if c + wdt / 2 > su_end - 1:
                continue
            tooth(su_map, du_map, in_u, sign * c, 0.5 * wdt - 0.2, min(wu0 * 0.8, 0.5 * wdt), z_alv - rng.uniform(0.3, 1.0),
                  occl + rng.uniform(0.3, 0.9), rng.uniform(10, 14), 2 if mi >= 5 else 1, True, rng.random() < fill_p)

    # --- truncated field of view: a cylinder about the arch; nothing imaged (or labelled) outside ---
    fov_c = (cx + rng.uniform(-2, 2), low[5] + 0.45 * low[1] + rng.uniform(-2, 2))
    fov_r = rng.uniform(0.46, 0.56) * FOV_MM[2]
    outside = np.hypot(gx - fov_c[0], gy - fov_c[1]) > fov_r
    labels[:, outside] = 0
    sites = [s for s in sites if np.hypot(s.crest_mm[0] - fov_c[0], s.crest_mm[1] - fov_c[1]) < fov_r - 3]

    hu = _intensities(mat, rng, sp, wall_hu)
    hu = _artefacts(hu, rng, sp, gx, gy, fov_c, fov_r, outside, labels, canal_paths, centres, xr, yr, at, occl)
    return Phantom(hu=hu, labels=labels, spacing=sp, sites=tuple(sites),  # type: ignore[arg-type]
                   canals=(canal_paths[0], canal_paths[1]), canal_radius_mm=float(canal_r), seed=seed)


def _intensities(mat: np.ndarray, rng: np.random.Generator, sp, wall_hu) -> np.ndarray:
    """Material to grey value, with a bone texture from a coarse random field (interpolated per slice)."""
    lut = np.array([-1000, rng.uniform(0, 80), rng.uniform(250, 800), rng.uniform(1000, 1800),
                    rng.uniform(1400, 2100), rng.uniform(2000, 2800), rng.uniform(-50, 80),
                    wall_hu or 0.0, rng.uniform(3050, 3071)], np.float32)
    lut[ENAMEL] = max(lut[ENAMEL], lut[DENTINE] + 300)
    coarse = rng.normal(size=tuple(int(np.ceil(n * s / 1.5)) + 2 for n, s in zip(mat.shape, sp, strict=True)))
    coarse = ndimage.gaussian_filter(coarse, 0.7).astype(np.float32)
    coarse /= coarse.std() + 1e-6
    amp = rng.uniform(60, 180)
    hu = np.empty(mat.shape, np.float32)
    jj, ii = np.meshgrid(np.arange(mat.shape[2]) * sp[2] / 1.5, np.arange(mat.shape[1]) * sp[1] / 1.5)
    for k in range(mat.shape[0]):
        m = mat[k]
        sl = lut[m]
        bone = (m == TRAB) | (m == CORT)
        if bone.any():
            kk = np.full(int(bone.sum()), k * sp[0] / 1.5)
            tex = ndimage.map_coordinates(coarse, [kk, ii[bone], jj[bone]], order=1)
            sl[bone] += amp * tex * np.where(m[bone] == TRAB, 1.0, 0.4)
        hu[k] = sl
    return hu


def _artefacts(hu, rng, sp, gx, gy, fov_c, fov_r, outside, labels, canal_paths, centres, xr, yr, at, occl):
    """Blur, cupping, beam hardening, rings, metal streaks, noise, truncation, grey calibration -> int16."""
    sig = [rng.uniform(0.3, 0.9) / sp[0], rng.uniform(0.3, 0.7) / sp[1], rng.uniform(0.3, 0.7) / sp[2]]
    metal = [k for k in range(hu.shape[0]) if (hu[k] >= METAL_MIN).any()]
    metal_xy = {k: np.nonzero(hu[k] >= METAL_MIN) for k in metal}
    out = ndimage.gaussian_filter(hu, sig)  # float32 in, float32 out: one extra copy
    del hu
    r = np.hypot(gx - fov_c[0], gy - fov_c[1]) / fov_r
    cup = (rng.uniform(0.04, 0.14) * np.clip(1 - r**2, 0, 1)).astype(np.float32)
    rings = np.zeros_like(r, dtype=np.float32)
    for r0 in rng.uniform(0.05, 0.95, size=int(rng.integers(0, 5))):
        rings += np.float32(rng.uniform(-80, 80)) * np.exp(-0.5 * ((r - r0) * fov_r / 0.4) ** 2).astype(np.float32)
    # beam hardening: a dark band along the line joining the two first molars, at crown level
    p0, p1 = (np.array([xr[at(sg * centres[5])], yr[at(sg * centres[5])]]) for sg in (-1.0, 1.0))
    u = p1 - p0
    t = np.clip(((gx - p0[0]) * u[0] + (gy - p0[1]) * u[1]) / (u @ u), 0, 1)
    line_d = np.hypot(gx - (p0[0] + t * u[0]), gy - (p0[1] + t * u[1]))
    band = (np.float32(-rng.uniform(60, 250)) * np.exp(-0.5 * (line_d / 2.0) ** 2)).astype(np.float32)
    band_z = (occl - 4, occl + 3)
    noise0, noise_slope = rng.uniform(20, 50), rng.uniform(0.005, 0.02)
    corr = rng.uniform(0.0, 1.2) / sp[2]
    gain, offset = rng.uniform(0.85, 1.15), rng.uniform(-150, 150)
    outside_val = rng.choice([-1000.0, 0.0])
    hu_i = np.empty(out.shape, np.int16)
    z = (np.arange(out.shape[0]) + 0.5) * sp[0]
    for k in range(out.shape[0]):
        sl = (out[k] + 1000) * (1 - cup) - 1000 + rings
        if band_z[0] <= z[k] <= band_z[1]:
            sl += band
        if k in metal_xy:
            ys, xs = metal_xy[k]
            my, mx = (ys.mean() + 0.5) * sp[1], (xs.mean() + 0.5) * sp[2]
            ang, dist = np.arctan2(gy - my, gx - mx), np.hypot(gy - my, gx - mx)
            streak = np.zeros_like(sl)
            for a0 in rng.uniform(0, np.pi, size=int(rng.integers(3, 8))):
                da = np.angle(np.exp(2j * (ang - a0))) / 2
                streak += np.float32(rng.uniform(-1, 1)) * np.exp(-0.5 * (da / 0.025) ** 2).astype(np.float32)
            sl += 700 * streak / (1 + dist / 10.0)
        n = rng.standard_normal(sl.shape, dtype=np.float32)
        if corr > 0.3:
            n = ndimage.gaussian_filter(n, corr)
            n /= n.std() + 1e-6
        sl += n * (noise0 * (1 + noise_slope * np.sqrt(np.clip(sl + 1000, 0, None))))
        sl = sl * gain + offset
        sl[outside] = outside_val
        hu_i[k] = np.clip(np.round(sl), -1024, 3071)
    return hu_i

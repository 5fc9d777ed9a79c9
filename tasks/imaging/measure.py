"""Measurements a clinician checks before trusting AI implant planning, from a segmentation.

Everything here works on the model grid of a `Segmentation` (canonical LPS, (k, i, j) order, see
volume.py) and reports millimetres in LPS patient coordinates.

* Canals: per side, the centreline (arch-ordered centroids), radius, length, whether found and a
  confidence (mean softmax probability inside x continuity along the arch).
* Sites: gaps in the lower arch found by walking the fitted arch at crest level; the largest implant
  (from a standard catalogue) that keeps >= 2 mm to the canal, >= 1.5 mm to adjacent teeth and
  >= 1.5 mm of buccal and lingual bone (in-plane distance to anything that is not bone); bone density
  (mean HU and an approximate Misch class — an *estimate from CBCT grey values*, which are not
  calibrated HU); a flag when a reference implant would come within 2 mm (+ a safety margin) of the canal.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from golive.tasks.imaging.crest import refine_crest_z
from golive.tasks.imaging.segment import Segmentation

log = logging.getLogger(__name__)

CANAL_CLEARANCE_MM = 2.0
TOOTH_CLEARANCE_MM = 1.5
WALL_MM = 1.5
FLAG_MARGIN_MM = 0.5  # flag a site when clearance < 2 mm + margin: the measurement's own uncertainty
# the traced canal's anterior end is where the nerve leaves by the mental foramen; there it rises and may
# loop forward past where the trace stops (the second phantom family planned 2.70 mm over a canal truly
# 1.42 mm away, 2.3 mm from the trace's end). The literature gives no fixed distance that is safe
# (J Oral Implantol 41(6):632, 2015; Greenstein & Tarnow, J Periodontol 77(12):1933, 2006), so sites this
# close are left to the Clinical Lead instead of planned
FORAMEN_KEEP_OUT_MM = 5.0
FREE_END_LIMIT_MM = 48.0  # a gap starting further from the midline is retromolar
DENTITION_END_MM = 56.0  # distal end of a full lower dentition (second molar), phantom and adult average
TYPICAL_WIDTHS_MM = (5.4, 5.9, 6.9, 7.0, 7.2, 11.0, 10.5)  # lower crowns, incisor -> 2nd molar (adult mean)
REFERENCE_IMPLANT = (4.0, 10.0)  # diameter, length (mm) used for the proximity flag
DIAMETERS = (3.0, 3.3, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0)
LENGTHS = (6.0, 7.0, 8.0, 8.5, 10.0, 11.5, 13.0, 15.0)
MISCH = ((1250.0, "D1"), (850.0, "D2"), (350.0, "D3"), (150.0, "D4"), (-np.inf, "D5"))


@dataclass(frozen=True)
class Canal:
    side: str  # "right" | "left" (patient)
    found: bool
    confidence: float
    length_mm: float
    radius_mm: float
    centreline_lps: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Implant:
    diameter_mm: float
    length_mm: float
    canal_clearance_mm: float | None
    min_wall_mm: float  # smallest distance from the implant surface to non-bone (buccal/lingual/teeth)


@dataclass(frozen=True)
class SiteFinding:
    name: str
    side: str
    arch_position_mm: float  # signed arc length from the midline (negative: patient right)
    crest_lps: tuple[float, ...]
    gap_mm: float
    bone_height_to_canal_mm: float | None  # crest to canal surface along the implant axis
    recommended: Implant | None
    reference_clearance_mm: float | None  # REFERENCE_IMPLANT's distance to the canal surface
    density_hu: float | None
    misch_class_estimate: str | None
    flagged_near_canal: bool
    confidence: float
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Findings:
    canals: tuple[Canal, ...]
    sites: tuple[SiteFinding, ...]
    label_confidence: dict[str, float]
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return asdict(self)


def misch_class(hu: float) -> str:
    return next(name for lo, name in MISCH if hu >= lo)


class _Grid:
    """Index <-> LPS conversions for a canonical model grid (axes k=z, i=y, j=x)."""

    def __init__(self, seg: Segmentation) -> None:
        self.aff = seg.affine
        self.inv = np.linalg.inv(seg.affine)
        self.spacing = seg.spacing
        self.shape = seg.labels.shape

    def lps(self, kij: np.ndarray) -> np.ndarray:
        return np.asarray(kij, float) @ self.aff[:3, :3].T + self.aff[:3, 3]

    def kij(self, lps: np.ndarray) -> np.ndarray:
        return np.asarray(lps, float) @ self.inv[:3, :3].T + self.inv[:3, 3]

    def sample(self, arr: np.ndarray, lps: np.ndarray, order: int = 1) -> np.ndarray:
        idx = self.kij(np.atleast_2d(lps)).T
        return ndimage.map_coordinates(arr.astype(np.float32), idx, order=order, mode="nearest")


def _largest(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = ndimage.sum(mask, lab, index=np.arange(1, n + 1))
    return lab == (int(np.argmax(sizes)) + 1)


@dataclass(frozen=True)
class _Arch:
    x: np.ndarray  # samples along the arch (LPS x, y)
    y: np.ndarray
    s: np.ndarray  # signed arc length from the vertex
    nx: np.ndarray  # outward (buccal) normal
    ny: np.ndarray


def _fit_arch(mand: np.ndarray, g: _Grid) -> _Arch | None:
    cols = np.argwhere(mand.any(axis=0))  # (i, j) with bone
    if len(cols) < 50:
        return None
    pts = g.lps(np.column_stack([np.zeros(len(cols)), cols]))
    x, y = pts[:, 0], pts[:, 1]
    c2, c1, c0 = np.polyfit(x, y, 2)
    if c2 <= 0:  # the arch must open posteriorly (+y in LPS)
        return None
    xs = np.arange(x.min() - 2, x.max() + 2, 0.25)
    ys = c0 + c1 * xs + c2 * xs**2
    seg = np.hypot(np.diff(xs), np.diff(ys))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    xv = -c1 / (2 * c2)
    s = s - np.interp(xv, xs, s)
    tx, ty = np.ones_like(xs), c1 + 2 * c2 * xs
    n = np.hypot(tx, ty)
    return _Arch(xs, ys, s, ty / n, -tx / n)


def _arch_maps(arch: _Arch, g: _Grid) -> tuple[np.ndarray, np.ndarray]:
    _, ni, nj = g.shape
    ii, jj = np.meshgrid(np.arange(ni), np.arange(nj), indexing="ij")
    pts = g.lps(np.column_stack([np.zeros(ii.size), ii.ravel(), jj.ravel()]))
    _, idx = cKDTree(np.column_stack([arch.x, arch.y])).query(pts[:, :2])
    s_map = arch.s[idx].reshape(ii.shape)
    d_map = ((pts[:, 0] - arch.x[idx]) * arch.nx[idx] + (pts[:, 1] - arch.y[idx]) * arch.ny[idx]).reshape(ii.shape)
    return s_map, d_map


def _canals(seg: Segmentation, g: _Grid, s_map: np.ndarray, threshold: float) -> list[tuple[Canal, np.ndarray]]:
    canal = seg.labels == 4
    lab, n = ndimage.label(canal, structure=np.ones((3, 3, 3)))
    out = []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        keep = np.zeros_like(canal)
        for c in range(1, n + 1):
            comp = lab == c
            if comp.sum() < 8:
                continue
            kij = np.argwhere(comp)
            s_vals = s_map[kij[:, 1], kij[:, 2]]
            if np.sign(np.median(s_vals)) == sign:
                keep |= comp
        kij = np.argwhere(keep)
        if len(kij) < 8:
            out.append((Canal(side, False, 0.0, 0.0, 0.0, ()), np.zeros((0, 3))))
            continue
        s_vals = s_map[kij[:, 1], kij[:, 2]]
        pts = g.lps(kij)
        bins = np.round(s_vals).astype(int)
        order = np.unique(bins)
        if sign < 0:
            order = order[::-1]  # run from the foramen (anterior) backwards on both sides
        cl = np.array([pts[bins == b].mean(axis=0) for b in order])
        if len(cl) >= 3:  # light smoothing; the ends keep their position
            sm = cl.copy()
            sm[1:-1] = (cl[:-2] + cl[1:-1] + cl[2:]) / 3
            cl = sm
        length = float(np.sum(np.linalg.norm(np.diff(cl, axis=0), axis=1))) if len(cl) > 1 else 0.0
        vox = float(np.prod(seg.spacing))
        radius = float(np.sqrt(len(kij) * vox / (np.pi * max(length, 1.0))))
        span = abs(order[-1] - order[0]) + 1
        continuity = len(order) / span
        conf = float(seg.confidence[keep].mean()) * continuity
        found = length >= 15.0 and conf >= 0.5
        out.append((Canal(side, bool(found), round(float(conf), 3), round(length, 1), round(radius, 2),
                          tuple(tuple(round(float(v), 2) for v in p) for p in cl)), cl))
    return out


def cylinder_to_polyline(top: np.ndarray, axis: np.ndarray, length: float, radius: float,
                         polyline: np.ndarray) -> float:
    """Distance from a solid cylinder (top centre, unit axis, length, radius) to polyline points (dense)."""
    if len(polyline) == 0:
        return float("inf")
    pts = _densify(polyline)
    v = pts - top
    along = v @ axis
    radial = np.linalg.norm(v - np.outer(along, axis), axis=1)
    dz = np.maximum(0.0, np.maximum(-along, along - length))
    dr = np.maximum(0.0, radial - radius)
    return float(np.min(np.hypot(dz, dr)))


def _densify(pl: np.ndarray, step: float = 0.25) -> np.ndarray:
    if len(pl) < 2:
        return pl
    out = [pl[0:1]]
    for a, b in zip(pl[:-1], pl[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.vstack(out)


def _gaps(present: np.ndarray, valid: np.ndarray, centres: np.ndarray) -> list[tuple[float, float, bool]]:
    """Runs of bins without a tooth, from the midline outwards: (start_s, end_s, free_end)."""
    runs = []
    n = len(present)
    k = 0
    while k < n:
        if valid[k] and not present[k]:
            start = k
            while k < n and valid[k] and not present[k]:
                k += 1
            runs.append((start, k - 1))
        else:
            k += 1
    out = []
    for a, b in runs:
        free = b == n - 1 or not valid[min(b + 1, n - 1)]
        opened = a == 0 or not valid[a - 1]
        if opened and not free:
            continue  # a run touching the midline without a tooth on its mesial side: not a gap
        out.append((float(centres[a]), float(centres[b]), free))
    return out


def expected_teeth(a: float, b: float, length: float) -> int:
    """How many teeth a gap from `a` to `b` mm from the midline (`length` mm long) held: its length over
    the average adult width of the teeth at that place in the arch. Two adjacent missing incisors or
    premolars are two sites even when the gap is short; one wide molar gap stays one site."""
    widths = np.array(TYPICAL_WIDTHS_MM)
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    at = np.clip(np.searchsorted(edges, np.linspace(a, b, 25), side="right") - 1, 0, len(widths) - 1)
    return max(1, int(round(length / float(widths[at].mean()))))


def measure(seg: Segmentation, *, confidence_threshold: float = 0.85,
            canal_uncertainty_mm: float = 0.0) -> Findings:
    """Canals, gaps and implant plans. An implant is recommended only where its clearance to the canal
    is at least CANAL_CLEARANCE_MM plus `canal_uncertainty_mm` (the model's measured canal error); where
    the canal on that side is not identified, none is."""
    g = _Grid(seg)
    labels = seg.labels
    warnings: list[str] = []
    mand = _largest(labels == 1) if (labels == 1).any() else labels == 1
    bone = mand | (labels == 4)
    teeth = labels == 3
    arch = _fit_arch(mand, g)
    if arch is None:
        return Findings((), (), seg.label_confidence, ("mandible not found: no measurements",))
    s_map, d_map = _arch_maps(arch, g)
    canal_info = _canals(seg, g, s_map, confidence_threshold)
    canals = tuple(c for c, _ in canal_info)
    polylines = {c.side: pl for c, pl in canal_info}
    for c in canals:
        if not c.found:
            warnings.append(f"{c.side} canal not identified: trace it manually before planning on that side")
        elif c.confidence < confidence_threshold:
            warnings.append(f"{c.side} canal confidence {c.confidence:.2f} is below {confidence_threshold:.2f}")
    for name, conf in seg.label_confidence.items():
        if name in ("mandible", "teeth") and conf < confidence_threshold:
            warnings.append(f"{name} segmentation confidence {conf:.2f} is below {confidence_threshold:.2f}")

    # crest profile and tooth presence along the arch, 1 mm bins (or the pixel size), columns within 2.5 mm of the arch
    nk = labels.shape[0]
    kk = np.arange(nk)[:, None, None]
    top = np.where(mand.any(axis=0), np.max(np.where(mand, kk, -1), axis=0), -1)  # [i, j]
    near = np.abs(d_map) <= 2.5
    tooth_at_crest = np.zeros_like(top, dtype=bool)
    for dk in range(-3, 4):  # a lower tooth sits in or on the crest (within 3 voxels)
        kidx = np.clip(top + dk, 0, nk - 1)
        tooth_at_crest |= np.take_along_axis(teeth, kidx[None], axis=0)[0] & (top >= 0)
    s_lo, s_hi = float(s_map[top >= 0].min()), float(s_map[top >= 0].max())
    step = max(1.0, float(max(seg.spacing[1:])))
    edges = np.arange(np.floor(s_lo), np.ceil(s_hi) + step, step)
    centres = (edges[:-1] + edges[1:]) / 2
    bin_of = np.digitize(s_map, edges) - 1
    nb = len(centres)
    valid = np.zeros(nb, bool)
    present = np.zeros(nb, bool)
    sel = near & (top >= 0) & (bin_of >= 0) & (bin_of < nb)
    np.logical_or.at(valid, bin_of[sel], True)
    np.logical_or.at(present, bin_of[sel & tooth_at_crest], True)
    valid = ndimage.binary_closing(valid, structure=np.ones(3, bool)) | valid  # bins the grid skipped

    wall = _walls(bone, seg)

    sites: list[SiteFinding] = []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        side_bins = (centres * sign) > 1.0
        idx = np.nonzero(side_bins)[0]
        if sign < 0:
            idx = idx[::-1]  # midline outwards
        runs = _gaps(present[idx], valid[idx], np.abs(centres[idx]))
        canal_pl = polylines.get(side, np.zeros((0, 3)))
        canal = next(c for c in canals if c.side == side)
        for a, b, free in runs:
            length = b - a + step
            if length < 4.0:
                continue
            if a > FREE_END_LIMIT_MM:
                continue  # beyond a full dentition's second molar: retromolar bone, not a tooth gap
            if free:
                # a free end counts only where a molar is missing: a full lower dentition reaches
                # ~55 mm from the midline; one site per missing molar width up to that point
                if length < 9.0:
                    continue
                centres_s = [a + 5.5]
                while centres_s[-1] + 10.5 + 5.0 <= min(b, DENTITION_END_MM):
                    centres_s.append(centres_s[-1] + 10.5)
                gap = min(length, 11.0)
            else:
                n = expected_teeth(a, b, length)
                centres_s = [a + (m + 0.5) * length / n for m in range(n)]
                gap = length / n
            for s_abs in centres_s:
                sites.append(_site(side, sign * s_abs, gap, arch, s_map, d_map, mand, top, wall, seg, g,
                                   canal, canal_pl, confidence_threshold, canal_uncertainty_mm))
    for n, s in enumerate(sorted(sites, key=lambda x: x.arch_position_mm)):
        sites[sites.index(s)] = SiteFinding(**{**asdict(s), "name": f"site-{n + 1}",
                                               "recommended": s.recommended})
    sites.sort(key=lambda x: x.arch_position_mm)
    return Findings(canals, tuple(sites), seg.label_confidence, tuple(warnings))


WALL_UPSAMPLE = 4  # in-plane sub-voxel factor for wall thickness from the model's bone probability


def _walls(bone: np.ndarray, seg: Segmentation) -> np.ndarray:
    """In-plane distance (mm) from each voxel to the bone surface, per axial slice.

    With the model's bone probability the surface is its 0.5 level found on a grid WALL_UPSAMPLE times
    finer in-plane (a 1 mm label grid puts the surface up to half a voxel off on each side, which alone
    can eat a 1.5 mm wall); from labels alone it is the voxel-centre distance less half a voxel."""
    wall = np.zeros(bone.shape, np.float32)
    sp = np.array(seg.spacing[1:], float)
    up = WALL_UPSAMPLE
    prob = seg.bone_probability
    for k in range(bone.shape[0]):
        if not bone[k].any():
            continue
        if prob is None:
            wall[k] = np.maximum(ndimage.distance_transform_edt(bone[k], sampling=sp) - 0.5 * sp.min(), 0)
            continue
        fine = ndimage.zoom(prob[k], up, order=1, grid_mode=True, mode="nearest") > 0.5
        d = ndimage.distance_transform_edt(fine, sampling=sp / up) - 0.5 * sp.min() / up
        wall[k] = np.maximum(d[up // 2::up, up // 2::up][: bone.shape[1], : bone.shape[2]], 0)
    return wall


def _site(side: str, s_pos: float, gap: float, arch: _Arch, s_map, d_map, mand, top, wall,
          seg: Segmentation, g: _Grid, canal: Canal, canal_pl: np.ndarray, thr: float,
          uncertainty: float = 0.0) -> SiteFinding:
    warnings: list[str] = []
    band = (np.abs(s_map - s_pos) <= 1.0) & (top >= 0)
    if not band.any():
        return SiteFinding("", side, round(s_pos, 1), (0, 0, 0), round(gap, 1), None, None, None, None, None,
                           True, 0.0, ("no bone under this gap",))
    # ridge centre: middle of the bone's bucco-lingual extent 2 mm under the crest
    crest_k = int(np.max(top[band]))
    k_probe = max(crest_k - int(round(2.0 / seg.spacing[0])), 0)
    in_slice = band & mand[k_probe]
    d_mid = float((d_map[in_slice].min() + d_map[in_slice].max()) / 2) if in_slice.any() else 0.0
    ai = int(np.argmin(np.abs(arch.s - s_pos)))
    xy = np.array([arch.x[ai] + d_mid * arch.nx[ai], arch.y[ai] + d_mid * arch.ny[ai]])
    col = g.kij(np.array([[xy[0], xy[1], 0.0]]))[0]
    ci, cj = int(round(col[1])), int(round(col[2]))
    ci = int(np.clip(ci, 0, top.shape[0] - 1))
    cj = int(np.clip(cj, 0, top.shape[1] - 1))
    k_top = top[ci, cj] if top[ci, cj] >= 0 else crest_k
    z_crest = _crest_z(seg, g, xy, k_top)
    if (series := seg.finer_source()) is not None:  # it resolves the crest better than the model grid (crest.py)
        z_crest = refine_crest_z(series, xy, z_crest)
    crest = np.array([xy[0], xy[1], z_crest])
    axis = np.array([0.0, 0.0, -1.0])

    has_canal = len(canal_pl) > 0 and canal.found
    r_canal = canal.radius_mm
    to_foramen = float(np.hypot(*(crest[:2] - canal_pl[0][:2]))) if has_canal else None
    near_foramen = to_foramen is not None and to_foramen < FORAMEN_KEEP_OUT_MM

    def clearance(d: float, length: float) -> float | None:
        if not has_canal:
            return None
        return cylinder_to_polyline(crest, axis, length, d / 2, canal_pl) - r_canal

    def walls(d: float, length: float) -> float:
        t = np.arange(1.0, length + 1e-6, 0.5)
        pts = crest + np.outer(t, axis)
        w = g.sample(wall, pts, order=1)
        return float(w.min() - d / 2) if len(w) else 0.0

    rec = None
    for length in sorted(LENGTHS, reverse=True):
        for d in sorted(DIAMETERS, reverse=True):
            c = clearance(d, length)
            # no canal on this side: its clearance is unknown, so no implant is recommended (the second
            # phantom family showed a plan through a canal the model had missed)
            if c is None or c < CANAL_CLEARANCE_MM + uncertainty or near_foramen:
                continue
            w = walls(d, length)
            if w < WALL_MM or d + 2 * TOOTH_CLEARANCE_MM > gap + 1e-6:
                continue
            rec = Implant(d, length, None if c is None else round(c, 2), round(w, 2))
            break
        if rec is not None:
            break
    ref_c = clearance(*REFERENCE_IMPLANT)
    height = None
    if has_canal:
        height = round(_height(crest, canal_pl, r_canal), 2)
    # density: bone voxels within 2 mm of the axis over the implant (or reference) length
    length_d = rec.length_mm if rec else REFERENCE_IMPLANT[1]
    kk, ii, jj = np.nonzero(mand)
    pts = g.lps(np.column_stack([kk, ii, jj]))
    rel = pts - crest
    depth = rel @ axis
    radial = np.linalg.norm(rel - np.outer(rel @ axis, axis), axis=1)
    m = (depth >= 0) & (depth <= length_d) & (radial <= 2.0)
    dens = float(seg.hu[kk[m], ii[m], jj[m]].mean()) if m.any() else None
    conf_local = float(seg.confidence[kk[m], ii[m], jj[m]].mean()) if m.any() else 0.0
    conf = min(conf_local, canal.confidence if has_canal else 0.0)
    flagged = (not has_canal) or near_foramen or (ref_c is not None and ref_c < CANAL_CLEARANCE_MM + FLAG_MARGIN_MM)
    if not has_canal:
        warnings.append(f"{side} canal not identified: clearance unknown")
    if near_foramen:
        warnings.append(f"{to_foramen:.1f} mm from where the {side} canal's trace ends (mental foramen; the nerve "
                        f"rises and may loop forward there): plan with the Clinical Lead")
    if rec is None:
        warnings.append("no catalogue implant fits with the required clearances")
    if conf < thr:
        warnings.append(f"confidence {conf:.2f} below {thr:.2f}: verify manually")
    return SiteFinding(
        name="", side=side, arch_position_mm=round(s_pos, 1),
        crest_lps=tuple(round(float(v), 2) for v in crest), gap_mm=round(gap, 1),
        bone_height_to_canal_mm=height, recommended=rec,
        reference_clearance_mm=None if ref_c is None else round(ref_c, 2),
        density_hu=None if dens is None else round(dens, 1),
        misch_class_estimate=None if dens is None else misch_class(dens),
        flagged_near_canal=bool(flagged), confidence=round(conf, 3), warnings=tuple(warnings))


def _crest_z(seg: Segmentation, g: _Grid, xy: np.ndarray, k_top: int) -> float:
    """Crest height: where P(bone) falls through 0.5 above the top bone voxel (sub-voxel), else its top face."""
    z_face = float(g.lps(np.array([[k_top + 0.5, 0, 0]]))[0][2])
    if seg.bone_probability is None:
        return z_face
    zs = float(g.lps(np.array([[k_top, 0, 0]]))[0][2]) + np.arange(-1.0, 2.0, 0.05) * seg.spacing[0]
    pts = np.column_stack([np.full(len(zs), xy[0]), np.full(len(zs), xy[1]), zs])
    p = g.sample(seg.bone_probability, pts, order=1)
    above = np.nonzero((p[:-1] >= 0.5) & (p[1:] < 0.5))[0]
    if not len(above):
        return z_face
    n = int(above[-1])
    t = (p[n] - 0.5) / max(p[n] - p[n + 1], 1e-6)
    return float(zs[n] + t * (zs[n + 1] - zs[n]))


def _height(crest: np.ndarray, canal_pl: np.ndarray, r: float) -> float:
    """Crest to canal surface straight down the axis: the nearest canal point's depth under the crest."""
    pts = _densify(canal_pl)
    horiz = np.hypot(pts[:, 0] - crest[0], pts[:, 1] - crest[1])
    near = pts[horiz <= max(r, 1.0) + 1.0]
    if len(near) == 0:
        near = pts[[int(np.argmin(horiz))]]
    return float(crest[2] - near[:, 2].max() - r)

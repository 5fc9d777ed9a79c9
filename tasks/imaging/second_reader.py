"""golive as a second reader of the AI platform's own output (its DICOM SEG and SR).

What a rollout must validate is the platform's analysis, not golive's. `compare` takes the platform's
objects for a series (a folder, or files), reads golive's own analysis of the same series, and reports:

* Dice and HD95 per structure (mandible, maxilla, teeth, canal), platform vs golive;
* per implant site, the reference implant's clearance to the canal as each reader's canal puts it,
  and their difference;
* sites one reader finds and the other does not (the platform's sites come from its SR's SCOORD3D
  points when it has them, else from its SEG through golive's own gap measurement).

Each disagreement beyond `Tolerances` becomes a review item for the Clinical Lead. Nothing to compare
(no SEG of this series among the platform's files) is "not verified", never a pass.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from scipy.spatial import cKDTree

from golive.tasks.imaging.errors import ImagingError
from golive.tasks.imaging.volume import Volume

log = logging.getLogger(__name__)
STRUCTURES = {"mandible": 1, "maxilla": 2, "teeth": 3, "canal": 4}
# Segmented property type codes a platform may use (sources in dicom_out's coding comment): golive's own,
# SlicerTotalSegmentator's maxilla 22457002, and golive's earlier private 99GOLIVE CANAL; other segments
# are matched by their label
_CODES = {"91609006": "mandible", "70925003": "maxilla", "22457002": "maxilla", "38199008": "teeth",
          "55636003": "canal", "CANAL": "canal"}
_WORDS = (("mandib", "mandible"), ("maxill", "maxilla"), ("tooth", "teeth"), ("teeth", "teeth"),
          ("canal", "canal"), ("nerve", "canal"), ("ian", "canal"))


@dataclass(frozen=True)
class Tolerances:
    """How far the two readings may differ before a person looks (stated once, overridable per step)."""

    dice: dict[str, float] = field(default_factory=lambda: {"mandible": 0.90, "maxilla": 0.85, "teeth": 0.85,
                                                            "canal": 0.70})
    hd95_mm: dict[str, float] = field(default_factory=lambda: {"mandible": 2.0, "canal": 1.5})
    clearance_mm: float = 1.0  # canal-clearance disagreement at one site
    site_match_mm: float = 5.0  # two readers' sites within this distance are the same site


@dataclass(frozen=True)
class PlatformReading:
    labels: np.ndarray | None  # on the series' grid, STRUCTURES values
    sites_lps: tuple[tuple[float, float, float], ...] | None  # from its SR, when it carries coordinates
    files: tuple[str, ...]
    ignored: tuple[str, ...]


def _structure_of(desc: pydicom.Dataset) -> str | None:
    for item in desc.get("SegmentedPropertyTypeCodeSequence", []):
        hit = _CODES.get(str(item.get("CodeValue", "")))
        if hit:
            return hit
    label = str(desc.get("SegmentLabel", "")).lower()
    return next((name for word, name in _WORDS if word in label), None)


def _seg_labels(path: Path, volume: Volume) -> np.ndarray | None:
    """The SEG's segments mapped to STRUCTURES on the series grid; None when it is not of this series."""
    import highdicom as hd

    from golive.tasks.imaging.dicom_out import source_datasets

    seg = hd.seg.segread(path)
    if volume.ids is None:
        return None
    refs = {str(i.ReferencedSOPInstanceUID) for s in seg.get("ReferencedSeriesSequence", [])
            for i in s.get("ReferencedInstanceSequence", [])}
    if refs and not refs & set(volume.ids.sop_instance_uids):
        return None
    out = np.zeros(volume.shape, np.uint8)
    iop = [float(v) for v in source_datasets(volume)[0].ImageOrientationPatient]
    for desc in seg.SegmentSequence:
        name = _structure_of(desc)
        if name is None:
            continue
        arr = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=list(volume.ids.sop_instance_uids), segment_numbers=[int(desc.SegmentNumber)],
            combine_segments=True, skip_overlap_checks=True)
        if iop[0] < 0:
            arr = arr[:, :, ::-1]
        if iop[4] < 0:
            arr = arr[:, ::-1, :]
        out[(arr > 0) & (out == 0)] = STRUCTURES[name]
    return out


def _sr_sites(path: Path) -> tuple[tuple[float, float, float], ...] | None:
    """SCOORD3D points of the SR's implant-site groups, or None when it has none."""
    ds = pydicom.dcmread(path)
    pts: list[tuple[float, float, float]] = []

    def meaning(it: pydicom.Dataset) -> str:
        words = [str(seq[0].get("CodeMeaning", "")) for kw in ("ConceptNameCodeSequence", "ConceptCodeSequence")
                 if (seq := it.get(kw))]
        return " ".join([*words, str(it.get("TextValue", ""))]).lower()

    def walk(items, in_site: bool) -> None:
        for it in items:
            children = list(it.get("ContentSequence", []))
            if it.get("ValueType") == "SCOORD3D" and in_site and str(it.get("GraphicType", "")) == "POINT":
                v = [float(x) for x in it.GraphicData]
                pts.append((v[0], v[1], v[2]))
            walk(children, in_site or any("implant" in meaning(c) for c in children))

    walk(ds.get("ContentSequence", []), False)
    return tuple(pts) or None


def read_platform(source: Path | str | list[Path], volume: Volume) -> PlatformReading:
    """Find this series' SEG (and SR) among the platform's files; other objects are listed as ignored."""
    files = [Path(source)] if isinstance(source, (str, Path)) and Path(source).is_file() else (
        sorted(f for f in Path(source).rglob("*") if f.is_file()) if isinstance(source, (str, Path))
        else [Path(f) for f in source])
    if isinstance(source, (str, Path)) and not Path(source).exists():
        raise ImagingError(source, "the platform's output folder does not exist")
    labels = None
    sites = None
    used: list[str] = []
    ignored: list[str] = []
    for f in files:
        try:
            hdr = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:
            ignored.append(f"{f.name}: not DICOM")
            continue
        modality = str(hdr.get("Modality", ""))
        try:
            if modality == "SEG" and labels is None:
                got = _seg_labels(f, volume)
                if got is None:
                    ignored.append(f"{f.name}: SEG of another series")
                    continue
                labels = got
                used.append(f.name)
            elif modality == "SR" and sites is None:
                sites = _sr_sites(f)
                used.append(f.name)
            else:
                ignored.append(f"{f.name}: {modality or 'unknown'} object not compared")
        except ImagingError:
            raise
        except Exception as exc:  # a damaged or unusual object from the platform: say which, keep going
            ignored.append(f"{f.name}: unreadable {modality} ({type(exc).__name__})")
    return PlatformReading(labels, sites, tuple(used), tuple(ignored))


def _clearance(crest: np.ndarray, canal_pts: np.ndarray, length: float = 10.0, radius: float = 2.0) -> float | None:
    """Reference implant (axis straight down from the crest) to the nearest canal voxel centre, mm."""
    if len(canal_pts) == 0:
        return None
    t = np.arange(0.0, length + 1e-6, 0.25)
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], 1) * radius
    pts = (crest + np.outer(t, [0.0, 0.0, -1.0]))[:, None, :] + ring[None]
    d, _ = cKDTree(canal_pts).query(pts.reshape(-1, 3))
    return float(d.min())


def compare(platform: PlatformReading, ours: np.ndarray, our_sites: list[dict], volume: Volume,
            tol: Tolerances | None = None) -> dict:
    """Compare the platform's reading with golive's on the series grid. See the module docstring."""
    from golive.tasks.imaging.analysis import dice, hd95

    tol = tol or Tolerances()
    if platform.labels is None:
        return {"verdict": "not verified", "reason": "no SEG of this series among the platform's output",
                "review_items": [], "structures": {}, "sites": [], "files": list(platform.files),
                "ignored": list(platform.ignored)}
    items: list[dict] = []
    structures: dict[str, dict] = {}
    for name, v in STRUCTURES.items():
        a, b = platform.labels == v, ours == v
        h = hd95(a, b, volume.spacing)
        d = round(dice(a, b), 4)
        structures[name] = {"dice": d, "hd95_mm": None if h is None else round(h, 2),
                            "platform_voxels": int(a.sum()), "golive_voxels": int(b.sum())}
        if name in tol.dice and d < tol.dice[name]:
            items.append({"kind": "structure", "structure": name,
                          "detail": f"{name}: Dice {d:.3f} between the readers, below {tol.dice[name]}"})
        elif name in tol.hd95_mm and h is not None and h > tol.hd95_mm[name]:
            items.append({"kind": "structure", "structure": name,
                          "detail": f"{name}: HD95 {h:.2f} mm between the readers, above {tol.hd95_mm[name]} mm"})
    kij_p = np.argwhere(platform.labels == 4)
    kij_o = np.argwhere(ours == 4)
    canal_p = volume.index_to_lps(kij_p) if len(kij_p) else np.zeros((0, 3))
    canal_o = volume.index_to_lps(kij_o) if len(kij_o) else np.zeros((0, 3))
    platform_sites = _platform_sites(platform, volume)
    rows = []
    matched: set[int] = set()
    for s in our_sites:
        crest = np.array(s["crest_lps"], float)
        c_o, c_p = _clearance(crest, canal_o), _clearance(crest, canal_p)
        diff = None if c_o is None or c_p is None else round(abs(c_o - c_p), 2)
        near = None
        if platform_sites:
            dist = [float(np.linalg.norm(np.array(p)[:2] - crest[:2])) for p in platform_sites]
            n = int(np.argmin(dist))
            if dist[n] <= tol.site_match_mm:
                near = n
                matched.add(n)
        rows.append({"site": s["name"], "golive_clearance_mm": None if c_o is None else round(c_o, 2),
                     "platform_clearance_mm": None if c_p is None else round(c_p, 2),
                     "clearance_difference_mm": diff, "found_by": "both" if near is not None else "golive only"})
        if diff is None or diff > tol.clearance_mm:
            items.append({"kind": "canal distance", "site": s["name"],
                          "detail": f"{s['name']}: canal clearance {rows[-1]['golive_clearance_mm']} mm (golive) vs "
                                    f"{rows[-1]['platform_clearance_mm']} mm (platform)"})
        if near is None:
            items.append({"kind": "site", "site": s["name"],
                          "detail": f"{s['name']}: a candidate site golive finds and the platform does not"})
    for n, p in enumerate(platform_sites):
        if n not in matched:
            rows.append({"site": f"platform-{n + 1}", "golive_clearance_mm": None, "platform_clearance_mm": None,
                         "clearance_difference_mm": None, "found_by": "platform only"})
            items.append({"kind": "site", "site": f"platform-{n + 1}",
                          "detail": f"a site the platform finds at LPS {tuple(round(v, 1) for v in p)} and golive "
                                    "does not"})
    for it in items:
        it["assignee"] = "Clinical Lead"
    return {"verdict": "disagreements to review" if items else "agrees", "review_items": items,
            "structures": structures, "sites": rows, "platform_sites_from": platform_sites_source(platform),
            "tolerances": asdict(tol), "files": list(platform.files), "ignored": list(platform.ignored)}


def platform_sites_source(platform: PlatformReading) -> str:
    return "its SR (SCOORD3D points)" if platform.sites_lps else "its SEG (golive's gap measurement)"


def _platform_sites(platform: PlatformReading, volume: Volume) -> list[tuple[float, float, float]]:
    """The platform's sites: its SR's points, else gaps golive's measurement finds in the platform's SEG."""
    if platform.sites_lps:
        return list(platform.sites_lps)
    from golive.tasks.imaging.measure import measure
    from golive.tasks.imaging.segment import Segmentation

    assert platform.labels is not None
    names = {0: "background", **{v: k for k, v in STRUCTURES.items()}}
    seg = Segmentation(platform.labels, volume.array, np.ones(volume.shape, np.float32), volume.affine,
                       volume.spacing, names, {"mandible": 1.0, "teeth": 1.0, "canal": 1.0}, 0.0, volume.shape,
                       volume.spacing)
    return [tuple(float(v) for v in s.crest_lps) for s in measure(seg).sites]  # type: ignore[misc]

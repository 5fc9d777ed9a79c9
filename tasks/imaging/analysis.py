"""The whole analysis of one CBCT series: ingest, segment, measure, write SEG + SR + JSON + previews.

`analyze(series_dir, out_dir)` is what the CLI and the `imaging.validate_ai` step call. Its summary
carries no patient identifiers: files are named by role, the series by a short one-way hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from scipy import ndimage

from golive.tasks.imaging.dicom_out import source_datasets, write_seg, write_sr
from golive.tasks.imaging.errors import ImagingError
from golive.tasks.imaging.ingest import quarantine, read_series
from golive.tasks.imaging.measure import CANAL_CLEARANCE_MM, Findings, _fit_arch, _Grid, _largest, measure
from golive.tasks.imaging.plausibility import check_anatomy, check_field_of_view
from golive.tasks.imaging.segment import Bundle, Segmentation, canal_uncertainty_mm, load_bundle, segment
from golive.tasks.imaging.volume import Volume

log = logging.getLogger(__name__)
LABEL_VALUES = {"mandible": 1, "maxilla": 2, "teeth": 3, "canal": 4}


def series_key(volume: Volume) -> str:
    """A short pseudonymous key for a series (one-way), safe for logs and reports."""
    uid = volume.ids.series_instance_uid if volume.ids else ""
    return "series-" + hashlib.sha256(uid.encode()).hexdigest()[:10]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = a.sum() + b.sum()
    return float(2 * np.logical_and(a, b).sum() / s) if s else 1.0


def hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...]) -> float | None:
    """Symmetric 95th-percentile surface distance (mm), MONAI's definition (max of the two directions)."""
    if not a.any() or not b.any():
        return None
    sa = a & ~ndimage.binary_erosion(a)
    sb = b & ~ndimage.binary_erosion(b)
    da = ndimage.distance_transform_edt(~sb, sampling=spacing)[sa]
    db = ndimage.distance_transform_edt(~sa, sampling=spacing)[sb]
    return float(max(np.percentile(da, 95), np.percentile(db, 95)))


def agreement(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, ...]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for name, v in LABEL_VALUES.items():
        a, b = pred == v, ref == v
        h = hd95(a, b, spacing)
        out[name] = {"dice": round(dice(a, b), 4), "hd95_mm": None if h is None else round(h, 2)}
    return out


def load_reference(path: Path | str, volume: Volume) -> np.ndarray:
    """A reference segmentation on the source grid: a labels .npy, or a DICOM SEG of this series."""
    p = Path(path)
    if p.suffix == ".npy":
        ref = np.load(p)
        if ref.shape != volume.shape:
            raise ImagingError(p, f"reference shape {ref.shape} does not match the series {volume.shape}")
        return ref.astype(np.uint8)
    import highdicom as hd

    try:
        seg = hd.seg.segread(p)
    except Exception as exc:
        raise ImagingError(p, f"not a readable DICOM SEG ({type(exc).__name__})") from exc
    if volume.ids is None:
        raise ImagingError(p, "the series has no instance identifiers to match the SEG against")
    by_label = {str(d.SegmentLabel).lower(): int(d.SegmentNumber) for d in seg.SegmentSequence}
    out = np.zeros(volume.shape, np.uint8)
    for name, value in LABEL_VALUES.items():
        num = by_label.get(name)
        if num is None:
            continue
        try:
            arr = seg.get_pixels_by_source_instance(
                source_sop_instance_uids=list(volume.ids.sop_instance_uids), segment_numbers=[num],
                combine_segments=True, skip_overlap_checks=True)
        except Exception as exc:
            raise ImagingError(p, f"SEG does not reference this series' instances ({type(exc).__name__})") from exc
        src0 = source_datasets(volume)[0] if volume.files else None
        if src0 is not None:
            iop = [float(v) for v in src0.ImageOrientationPatient]
            if iop[0] < 0:
                arr = arr[:, :, ::-1]
            if iop[4] < 0:
                arr = arr[:, ::-1, :]
        out[arr > 0] = value
    return out


def previews(seg: Segmentation, findings: Findings, out_dir: Path) -> dict[str, str]:
    """Axial (at canal level) and panoramic (curved reformat along the arch) PNGs with overlays."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap([(0, 0, 0, 0), (0.2, 0.8, 0.2, 0.35), (0.9, 0.6, 0.1, 0.35),
                           (0.95, 0.95, 0.3, 0.45), (1.0, 0.1, 0.1, 0.8)])
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    hu, lab = seg.hu, seg.labels
    kc = np.nonzero((lab == 4).any(axis=(1, 2)))[0]
    k = int(np.median(kc)) if len(kc) else lab.shape[0] // 3
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.imshow(hu[k], cmap="gray", vmin=-500, vmax=2500, origin="upper")
    ax.imshow(lab[k], cmap=cmap, vmin=0, vmax=4, interpolation="nearest")
    ax.set_title(f"Axial slice {k} (model grid): mandible green, canal red")
    ax.axis("off")
    p = out_dir / "preview-axial.png"
    fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    files["axial"] = p.name
    g = _Grid(seg)
    mand = _largest(lab == 1) if (lab == 1).any() else lab == 1
    arch = _fit_arch(mand, g)
    if arch is not None:
        sel = (arch.s >= arch.s.min()) & (arch.s <= arch.s.max())
        xs, ys = arch.x[sel][::4], arch.y[sel][::4]
        nz = lab.shape[0]
        pts = np.stack([np.repeat(xs[None], nz, 0), np.repeat(ys[None], nz, 0),
                        np.repeat(np.arange(nz)[:, None], len(xs), 1).astype(float)], -1)
        kij = g.kij(np.column_stack([pts[..., 0].ravel(), pts[..., 1].ravel(), np.zeros(pts[..., 0].size)]))
        kij[:, 0] = pts[..., 2].ravel()
        pano = ndimage.map_coordinates(hu, kij.T, order=1, mode="nearest").reshape(nz, len(xs))
        plab = ndimage.map_coordinates(lab, kij.T, order=0, mode="nearest").reshape(nz, len(xs))
        fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
        ax.imshow(pano, cmap="gray", vmin=-500, vmax=2500, origin="lower", aspect="auto")
        ax.imshow(plab, cmap=cmap, vmin=0, vmax=4, origin="lower", aspect="auto", interpolation="nearest")
        s_sel = arch.s[sel][::4]
        for site in findings.sites:
            col = int(np.argmin(np.abs(s_sel - site.arch_position_mm)))
            color = "red" if site.flagged_near_canal else "cyan"
            ax.axvline(col, color=color, lw=1)
            ax.text(col, nz - 3, site.name, color=color, fontsize=7, ha="center")
        ax.set_title("Panoramic reformat along the arch (patient right on the left); red = near canal")
        ax.axis("off")
        p = out_dir / "preview-panoramic.png"
        fig.savefig(p, bbox_inches="tight")
        plt.close(fig)
        files["panoramic"] = p.name
    return files


def analyze(series_dir: Path | str, out_dir: Path | str, bundle: Path | str | Bundle | None = None,
            reference: Path | str | None = None, confidence_threshold: float = 0.85,
            series_uid: str | None = None) -> dict:
    """Run the full analysis and write SEG, SR, summary.json and previews into `out_dir`.

    Refusals (unreadable series, not a dental CBCT) happen before `out_dir` is created or touched."""
    out = Path(out_dir)
    t0 = time.perf_counter()
    ing = read_series(series_dir, series_uid=series_uid)
    vol = ing.volume
    check_field_of_view(vol, series_dir)
    t_read = time.perf_counter()
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    seg = segment(vol, b)
    anatomy = check_anatomy(seg.labels, seg.affine, seg.spacing, series_dir)
    t_seg = time.perf_counter()
    margin = canal_uncertainty_mm(b)
    findings = measure(seg, confidence_threshold=confidence_threshold, canal_uncertainty_mm=margin)
    t_meas = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    set_aside_dir = quarantine(ing.set_aside, out / "set-aside")
    labels_src = seg.on_source_grid()
    files: dict[str, str] = {}
    if vol.files:
        sources = source_datasets(vol)
        seg_path = write_seg(vol, labels_src, seg.label_names, out / "segmentation.dcm", (b.name, b.version), sources)
        sr_path = write_sr(vol, seg_path, findings, out / "measurements-sr.dcm", (b.name, b.version), sources)
        files.update({"seg": seg_path.name, "sr": sr_path.name})
    t_dicom = time.perf_counter()
    files.update({f"preview_{k}": v for k, v in previews(seg, findings, out).items()})
    summary: dict = {
        "series": series_key(vol),
        "shape": list(vol.shape),
        "spacing_mm": [round(v, 4) for v in vol.spacing_xyz],
        "model": {"name": b.name, "version": b.version, "trained_on": "synthetic phantoms only"},
        "files": files,
        "set_aside": [{"file": str(s.path.name), "reason": s.reason} for s in ing.set_aside],
        "notes": list(ing.notes),
        "lossy_compression": ing.lossy is not None,
        "anatomy": anatomy.as_dict(),
        "implant_rule": {"canal_clearance_mm": CANAL_CLEARANCE_MM, "model_uncertainty_mm": round(margin, 2),
                         "required_clearance_mm": round(CANAL_CLEARANCE_MM + margin, 2)},
        "label_confidence": {k: round(v, 3) for k, v in findings.label_confidence.items()},
        "canals": [{k: v for k, v in asdict(c).items() if k != "centreline_lps"} | {
            "centreline_points": len(c.centreline_lps)} for c in findings.canals],
        "sites": [asdict(s) for s in findings.sites],
        "warnings": ([f"lossy compression ({ing.lossy}): grey values and edges are altered; "
                      "measurements are less reliable"] if ing.lossy else [])
        + list(findings.warnings) + [w for s in findings.sites for w in (f"{s.name}: {x}" for x in s.warnings)],
        "density_note": "Misch class is an estimate from CBCT grey values, which are not calibrated HU",
        "confidence_threshold": confidence_threshold,
        "timings_s": {"read": round(t_read - t0, 3), "segment": round(t_seg - t_read, 3),
                      "measure": round(t_meas - t_seg, 3), "dicom_out": round(t_dicom - t_meas, 3),
                      "total": round(time.perf_counter() - t0, 3)},
    }
    if set_aside_dir is not None:
        summary["files"]["set_aside_dir"] = set_aside_dir.name
    if reference is not None:
        ref = load_reference(reference, vol)
        summary["agreement"] = agreement(labels_src, ref, vol.spacing)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "canals.json").write_text(json.dumps([asdict(c) for c in findings.canals], indent=1))
    summary["files"]["summary"] = "summary.json"
    log.info("analysis of %s done in %.1fs: %d site(s)", summary["series"], summary["timings_s"]["total"],
             len(findings.sites))
    return summary

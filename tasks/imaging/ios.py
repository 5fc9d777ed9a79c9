"""Intraoral scanner (IOS) meshes: STL/PLY checks with trimesh, a phantom scan, and CBCT alignment.

Checks follow the playbook's intraoral steps: the file loads, its triangle count is within bounds, its
size is plausible in millimetres, open surfaces are reported as warnings (many scanners export an open
shell), degenerate faces are counted. Alignment to CBCT is a rigid ICP of the mesh onto the teeth
surface of the CBCT segmentation, reported as an RMS distance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from golive.tasks.imaging.errors import ImagingError

log = logging.getLogger(__name__)


class MeshError(ImagingError):
    """An intraoral scan file cannot be read as a triangle mesh."""

    reason = "bad-mesh"


@dataclass(frozen=True)
class MeshReport:
    triangles: int
    vertices: int
    extent_mm: tuple[float, ...]
    watertight: bool
    open_edges: int
    degenerate_faces: int
    bodies: int
    passed: bool
    problems: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())


def load_mesh(path: Path | str) -> trimesh.Trimesh:
    p = Path(path)
    if not p.is_file():
        raise MeshError(p, "no such file")
    if p.suffix.lower() not in (".stl", ".ply"):
        raise MeshError(p, "expected an .stl or .ply file")
    try:
        mesh = trimesh.load(p, force="mesh", process=False)
    except Exception as exc:
        raise MeshError(p, f"cannot be read as a mesh ({type(exc).__name__})") from exc
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise MeshError(p, "contains no triangles")
    return mesh


def check_mesh(path: Path | str, min_triangles: int = 1_000, max_triangles: int = 5_000_000,
               extent_mm: tuple[float, float] = (15.0, 120.0)) -> MeshReport:
    mesh = load_mesh(path)
    problems, warnings = [], []
    n = len(mesh.faces)
    if n < min_triangles:
        problems.append(f"{n} triangles, fewer than {min_triangles}: too coarse for planning")
    if n > max_triangles:
        problems.append(f"{n} triangles, more than {max_triangles}")
    ext = tuple(float(v) for v in mesh.extents)
    big = max(ext)
    if not extent_mm[0] <= big <= extent_mm[1]:
        problems.append(f"largest extent {big:.1f} mm is outside {extent_mm[0]:g}-{extent_mm[1]:g} mm "
                        "(wrong units? metres or inches)")
    areas = mesh.area_faces
    degenerate = int(np.count_nonzero(areas < 1e-9))
    merged = mesh.copy()
    merged.merge_vertices()
    edges = merged.edges_sorted
    _, counts = np.unique(edges, axis=0, return_counts=True)
    open_edges = int(np.count_nonzero(counts == 1))
    watertight = bool(merged.is_watertight)
    if open_edges:
        warnings.append(f"open surface: {open_edges} boundary edge(s) (common for IOS exports)")
    if degenerate:
        warnings.append(f"{degenerate} degenerate (zero-area) face(s)")
    bodies = len(merged.split(only_watertight=False)) if n < 400_000 else -1
    return MeshReport(n, len(mesh.vertices), tuple(round(v, 2) for v in ext), watertight, open_edges,
                      degenerate, bodies, not problems, tuple(problems), tuple(warnings))


def surface_mesh(mask: np.ndarray, affine: np.ndarray) -> trimesh.Trimesh:
    """A closed voxel-face surface of a (k, i, j) mask in LPS mm (no marching-cubes dependency)."""
    m = np.pad(mask.astype(bool), 1)
    faces_v = []
    # unit-cube corner offsets per face direction (axis, sign) in (k, i, j) index space
    for axis in range(3):
        for sign in (-1, 1):
            nb = np.roll(m, -sign, axis=axis)
            exposed = np.argwhere(m & ~nb).astype(float) - 1.0  # undo the padding
            if not len(exposed):
                continue
            a, b = [x for x in range(3) if x != axis]
            base = exposed.copy()
            base[:, axis] += 0.5 * sign
            quad = []
            for da, db in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
                q = base.copy()
                q[:, a] += da
                q[:, b] += db
                quad.append(q)
            q0, q1, q2, q3 = quad
            tri = np.stack([q0, q1, q2, q0, q2, q3], axis=1).reshape(-1, 3, 3)
            if sign < 0:
                tri = tri[:, ::-1]
            faces_v.append(tri)
    tris = np.concatenate(faces_v)
    pts = tris.reshape(-1, 3) @ affine[:3, :3].T + affine[:3, 3]
    mesh = trimesh.Trimesh(vertices=pts, faces=np.arange(len(pts)).reshape(-1, 3), process=False)
    mesh.merge_vertices()
    return mesh


def phantom_scan(labels: np.ndarray, affine: np.ndarray, out_path: Path | str, jaw_below_k: int | None = None,
                 shift_mm: tuple[float, float, float] = (1.0, -0.5, 0.5)) -> Path:
    """An IOS-like STL of the lower crowns of a phantom (teeth above the mandible), slightly shifted."""
    teeth = labels == 3
    mand_top = int(np.nonzero((labels == 1).any(axis=(1, 2)))[0].max()) if (labels == 1).any() else 0
    upper = jaw_below_k if jaw_below_k is not None else mand_top + 9
    crowns = teeth.copy()
    crowns[: max(mand_top - 3, 0)] = False
    crowns[upper:] = False
    mesh = surface_mesh(crowns, affine)
    mesh.apply_translation(shift_mm)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(out)
    return out


def align_to_cbct(mesh: trimesh.Trimesh, teeth_mask: np.ndarray, affine: np.ndarray,
                  max_rms_mm: float = 1.0) -> dict[str, float | bool]:
    """Rigid ICP of the scan onto the CBCT teeth surface; RMS (mm) of the closest-point residuals."""
    from scipy.spatial import cKDTree

    target = surface_mesh(teeth_mask, affine).triangles_center  # point-to-point ICP (no rtree needed)
    rng = np.random.default_rng(0)
    src = mesh.triangles_center
    pts = src[rng.choice(len(src), size=min(4000, len(src)), replace=False)]
    init = np.eye(4)
    init[:3, 3] = 0.0  # scanner and CBCT share a frame only roughly; ICP starts from identity
    matrix, transformed, _ = trimesh.registration.icp(pts, target, initial=init, max_iterations=40,
                                                      reflection=False, scale=False)
    dist, _ = cKDTree(target).query(transformed)
    rms = float(np.sqrt(np.mean(dist**2)))
    shift = float(np.linalg.norm(matrix[:3, 3]))
    return {"rms_mm": round(rms, 3), "translation_mm": round(shift, 2), "aligned": rms <= max_rms_mm,
            "max_rms_mm": max_rms_mm}

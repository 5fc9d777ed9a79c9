"""The one in-memory form of a CT/CBCT series: a frozen `Volume`.

Axis order, stated once for the whole imaging package:

* ``Volume.array`` is indexed ``[k, i, j]`` = ``[slice, row, column]`` (numpy's natural stacking of
  DICOM frames). Values are Hounsfield units (float32, rescale already applied).
* ``Volume.spacing`` is in the same order: ``(slice, row, column)`` in millimetres. The slice
  spacing comes from ImagePositionPatient, never from SliceThickness.
* ``Volume.affine`` (4x4) maps ``(k, i, j, 1)`` to patient **LPS** millimetres, the DICOM patient
  coordinate system: ``x`` to the patient's left, ``y`` posterior, ``z`` superior.
* Anything that speaks another order (MONAI networks, the CLI's ``spacing_mm``) converts at its own
  boundary with ``to_xyz`` / ``spacing_xyz`` and says so.

Identifiers (series, study, patient) live on the volume for outputs that must reference the source
(DICOM SEG/SR) but are never logged; ``__repr__`` leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SourceIds:
    """DICOM identifiers of the source series, kept for derived objects (never logged)."""

    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    sop_instance_uids: tuple[str, ...]  # in slice order k
    sop_class_uid: str
    patient_id: str = ""
    patient_name: str = ""
    modality: str = "CT"

    def __repr__(self) -> str:  # identifiers are PHI-adjacent: keep them out of logs and tracebacks
        return f"SourceIds(<{len(self.sop_instance_uids)} instances, redacted>)"


@dataclass(frozen=True, repr=False)
class Volume:
    """A read-only volume in HU. See the module docstring for the axis order."""

    array: np.ndarray
    spacing: tuple[float, float, float]  # (slice, row, column) mm
    affine: np.ndarray  # (k, i, j, 1) -> LPS mm
    ids: SourceIds | None = None
    files: tuple[str, ...] = field(default=())  # source file paths in slice order k

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"Volume needs a 3-D array, got shape {self.array.shape}")
        if self.affine.shape != (4, 4):
            raise ValueError("Volume affine must be 4x4")
        if any(s <= 0 for s in self.spacing):
            raise ValueError(f"Volume spacing must be positive, got {self.spacing}")
        arr = np.ascontiguousarray(self.array, dtype=np.float32)
        arr.setflags(write=False)
        aff = np.array(self.affine, dtype=np.float64)
        aff.setflags(write=False)
        object.__setattr__(self, "array", arr)
        object.__setattr__(self, "affine", aff)
        object.__setattr__(self, "spacing", tuple(float(s) for s in self.spacing))

    def __repr__(self) -> str:
        return f"Volume(shape={self.shape}, spacing={self.spacing})"

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.array.shape)  # type: ignore[return-value]

    @property
    def spacing_xyz(self) -> tuple[float, float, float]:
        """Spacing as (column, row, slice) mm, the order DICOM tags and the CLI use."""
        s, r, c = self.spacing
        return (c, r, s)

    def to_xyz(self) -> np.ndarray:
        """The array as ``[j, i, k]`` (column, row, slice): MONAI's spatial order for DICOM input."""
        return np.ascontiguousarray(self.array.transpose(2, 1, 0))

    def index_to_lps(self, kij: np.ndarray) -> np.ndarray:
        """Voxel indices ``(..., 3)`` in (k, i, j) to LPS mm."""
        pts = np.asarray(kij, dtype=np.float64)
        return pts @ self.affine[:3, :3].T + self.affine[:3, 3]

    def lps_to_index(self, lps: np.ndarray) -> np.ndarray:
        """LPS mm ``(..., 3)`` to fractional voxel indices (k, i, j)."""
        inv = np.linalg.inv(self.affine)
        pts = np.asarray(lps, dtype=np.float64)
        return pts @ inv[:3, :3].T + inv[:3, 3]


def make_affine(
    origin: tuple[float, float, float],
    row_dir: tuple[float, float, float],
    col_dir: tuple[float, float, float],
    spacing: tuple[float, float, float],
) -> np.ndarray:
    """Affine for (k, i, j) from the first slice's position, the DICOM direction cosines and spacing.

    ``row_dir`` is ImageOrientationPatient[:3] (the direction in which column index j grows),
    ``col_dir`` is [3:] (row index i grows); slices advance along their cross product.
    """
    r = np.asarray(row_dir, dtype=np.float64)
    c = np.asarray(col_dir, dtype=np.float64)
    n = np.cross(r, c)
    ds, dr, dc = spacing
    aff = np.eye(4)
    aff[:3, 0] = n * ds
    aff[:3, 1] = c * dr
    aff[:3, 2] = r * dc
    aff[:3, 3] = origin
    return aff

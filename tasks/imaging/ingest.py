"""Read a folder of DICOM files into one `Volume`, or say exactly which file is wrong and why.

Policy (stated once):
* Files that are not CT images of the series (non-DICOM, truncated, no pixel data, other modality,
  undecodable compression) are *set aside* with their reason in `Ingested.set_aside`; ingest carries on
  only when none of them claims to belong to the series being read (otherwise the series is incomplete
  and that file's error is raised).
* More than one series in the folder is an error (`MixedSeries`, listing the series UIDs) unless
  `series_uid` (the CLI's `--series UID`) picks one; the others are then set aside as "other-series".
* An exact duplicate file (same bytes as one already read, e.g. an export copied twice) is ignored with
  a note (set aside as "duplicate"); a different file at the same position is still an error.
* Absent type 2 attributes (AccessionNumber, StudyID, StudyTime, ReferringPhysicianName...) are not an
  error: derived objects get them empty. A series without a Frame of Reference UID gets one derived
  from its series UID, with a note (`Ingested.notes`), so SEG and SR can still reference it.
* Compressed transfer syntaxes decode through pydicom's pixel plugins (pylibjpeg, openjpeg); lossy
  compression (a lossy syntax, or LossyImageCompression "01") is reported in `Ingested.lossy`.
* Slices are ordered by ImagePositionPatient projected on the slice normal; spacing comes from those
  positions (SliceThickness is ignored). Duplicate positions, gaps, uneven steps are errors.
* Oblique orientations (> 1 degree off the patient axes) and tilted (sheared) stacks are **refused**
  (`ObliqueStack`), not resampled. Axis-aligned stacks in any order are reoriented to LPS-canonical
  form (k superior, i posterior, j left) so the model always sees one orientation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, generate_uid

from golive.tasks.imaging import errors as E
from golive.tasks.imaging.volume import SourceIds, Volume, make_affine

log = logging.getLogger(__name__)

CT_SOP_CLASSES = {"1.2.840.10008.5.1.4.1.1.2"}  # CT Image Storage (single-frame)
ALLOWED_MODALITIES = frozenset({"CT"})
ORIENTATION_TOL_DEG = 1.0
SHEAR_TOL_MM = 0.05
SPACING_REL_TOL = 0.02
LOSSY_SYNTAXES = frozenset({
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.52",
    "1.2.840.10008.1.2.4.53", "1.2.840.10008.1.2.4.54", "1.2.840.10008.1.2.4.55",
    "1.2.840.10008.1.2.4.56", "1.2.840.10008.1.2.4.59", "1.2.840.10008.1.2.4.60",
    "1.2.840.10008.1.2.4.61", "1.2.840.10008.1.2.4.62", "1.2.840.10008.1.2.4.63",
    "1.2.840.10008.1.2.4.64", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.101",
    "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.103", "1.2.840.10008.1.2.4.104",
    "1.2.840.10008.1.2.4.105", "1.2.840.10008.1.2.4.106", "1.2.840.10008.1.2.4.203",
})


@dataclass(frozen=True)
class SetAside:
    """A file that is not part of the volume, and why."""

    path: Path
    reason: str
    detail: str


@dataclass(frozen=True)
class Ingested:
    volume: Volume
    set_aside: tuple[SetAside, ...]
    notes: tuple[str, ...] = ()
    lossy: str | None = None  # why the pixels are lossy-compressed (transfer syntax or header), else None


@dataclass(frozen=True)
class _Slice:
    path: Path
    ds: Dataset


def is_lossy(transfer_syntax: str) -> bool:
    return str(transfer_syntax) in LOSSY_SYNTAXES


def _files(source: Path | str | Iterable[Path | str]) -> list[Path]:
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_file():
            return [p]
        if not p.is_dir():
            raise E.EmptySeries(p, "no such file or folder")
        return sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
    return sorted(Path(f) for f in source)


def read_instance(path: Path) -> Dataset:
    """Read and check one file; raises the typed error for whatever is wrong with it."""
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError as exc:
        raise E.NotDicom(path, "not a DICOM file (no DICM prefix)") from exc
    except (EOFError, OSError) as exc:
        raise E.TruncatedFile(path, f"file ends early ({type(exc).__name__})") from exc
    except Exception as exc:  # pydicom raises plain ValueError/struct.error/etc. on damaged headers
        raise E.DamagedFile(path, f"damaged header ({type(exc).__name__})") from exc
    try:
        return _check_instance(path, ds)
    except E.ImagingError:
        raise
    except Exception as exc:  # a value that cannot even be parsed (bad VR, bad length, bad number)
        raise E.DamagedFile(path, f"damaged element ({type(exc).__name__})") from exc


def _check_instance(path: Path, ds: Dataset) -> Dataset:
    if "SOPClassUID" not in ds and "PixelData" not in ds:
        raise E.NotDicom(path, "no SOP Class UID and no pixel data: not a DICOM image")
    modality = str(ds.get("Modality", "") or "")
    if modality not in ALLOWED_MODALITIES:
        raise E.WrongModality(path, f"modality {modality or 'missing'!r}, expected CT")
    if "PixelData" not in ds:
        raise E.MissingPixelData(path, "no PixelData element")
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        raise E.UnsupportedInstance(path, "multi-frame (enhanced) CT is not supported; export single-frame")
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise E.UnsupportedInstance(path, "colour image, expected one sample per pixel")
    for tag in ("Rows", "Columns", "BitsAllocated", "ImagePositionPatient", "ImageOrientationPatient",
                "PixelSpacing"):
        if tag not in ds or ds[tag].value in (None, ""):
            raise E.UnsupportedInstance(path, f"required attribute {tag} is missing")
    if int(ds.BitsAllocated) not in (8, 16):
        raise E.UnsupportedInstance(path, f"BitsAllocated {ds.BitsAllocated} is not supported")
    if len(ds.ImagePositionPatient) != 3 or len(ds.ImageOrientationPatient) != 6 or len(ds.PixelSpacing) != 2:
        raise E.UnsupportedInstance(path, "malformed position, orientation or pixel spacing")
    # parse every number geometry and rescale need now, so damage is reported here with the file name
    nums = [float(v) for v in (*ds.ImagePositionPatient, *ds.ImageOrientationPatient, *ds.PixelSpacing,
                               ds.get("RescaleSlope", 1) or 1, ds.get("RescaleIntercept", 0) or 0)]
    if not np.all(np.isfinite(nums)) or min(float(v) for v in ds.PixelSpacing) <= 0:
        raise E.DamagedFile(path, "non-finite or non-positive geometry values")
    int(ds.get("PixelRepresentation", 0) or 0), int(ds.get("BitsStored", ds.BitsAllocated) or 0)
    str(ds.get("SeriesInstanceUID", "")), str(ds.get("FrameOfReferenceUID", "")), str(ds.SOPInstanceUID)
    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")))
    if ts.is_compressed:
        from pydicom.pixels import get_decoder

        try:
            available = get_decoder(ts).is_available
        except NotImplementedError:
            available = False
        if not available:
            raise E.UnsupportedTransferSyntax(
                path, f"compressed transfer syntax {ts.name} and no decoder installed")
    else:
        expected = int(ds.Rows) * int(ds.Columns) * (int(ds.BitsAllocated) // 8)
        got = len(ds.PixelData)
        if got < expected:
            raise E.TruncatedFile(path, f"pixel data has {got} bytes, expected {expected}")
    return ds


def _pixels(s: _Slice) -> np.ndarray:
    ds = s.ds
    try:
        ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")))
        rows, cols = int(ds.Rows), int(ds.Columns)
        if not ts.is_compressed and ts.is_little_endian:
            signed = int(ds.get("PixelRepresentation", 0)) == 1
            bits = int(ds.BitsAllocated)
            dtype = {(8, False): np.uint8, (8, True): np.int8,
                     (16, False): np.uint16, (16, True): np.int16}[(bits, signed)]
            arr = np.frombuffer(ds.PixelData, dtype=dtype, count=rows * cols).reshape(rows, cols)
            stored = int(ds.get("BitsStored", bits))
            if stored < bits:  # mask unused high bits, then sign-extend if needed
                arr = arr.astype(np.int32) & ((1 << stored) - 1)
                if signed:
                    arr = np.where(arr >= 1 << (stored - 1), arr - (1 << stored), arr)
        else:
            arr = ds.pixel_array
        if arr.shape != (rows, cols):
            raise E.DamagedFile(s.path, f"decoded pixel data has shape {arr.shape}, expected {(rows, cols)}")
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
    except E.ImagingError:
        raise
    except Exception as exc:
        raise E.DamagedFile(s.path, f"pixel data cannot be decoded ({type(exc).__name__})") from exc
    return arr.astype(np.float32) * slope + intercept


def scan(source: Path | str | Iterable[Path | str]) -> tuple[list[_Slice], list[SetAside]]:
    good: list[_Slice] = []
    bad: list[SetAside] = []
    seen: dict[str, Path] = {}
    for f in _files(source):
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        if digest in seen:  # an exact copy (an export written twice): ignored, with a note
            bad.append(SetAside(f, "duplicate", f"exact duplicate of {seen[digest].name}; ignored"))
            continue
        seen[digest] = f
        try:
            good.append(_Slice(f, read_instance(f)))
        except E.ImagingError as exc:
            bad.append(SetAside(f, exc.reason, exc.detail))
    return good, bad


def read_series(source: Path | str | Iterable[Path | str], *, series_uid: str | None = None) -> Ingested:
    """Read one CT series from a folder (or a list of files). See the module docstring for the policy."""
    good, bad = scan(source)
    where = source if isinstance(source, (str, Path)) else None
    by_series: dict[str, list[_Slice]] = {}
    for s in good:
        by_series.setdefault(str(s.ds.get("SeriesInstanceUID", "")), []).append(s)
    if not by_series:
        if bad:
            first = bad[0]
            cls = next((c for c in _ERRORS if c.reason == first.reason), E.EmptySeries)
            raise cls(first.path, f"{first.detail} (no usable CT instance; {len(bad)} file(s) set aside)")
        raise E.EmptySeries(where, "no DICOM files found")
    if series_uid is None and len(by_series) > 1:
        listing = "; ".join(f"{uid or '(no UID)'} ({len(v)} file(s))" for uid, v in by_series.items())
        raise E.MixedSeries(where, f"{len(by_series)} series found: {listing}; choose one with --series UID")
    chosen = series_uid if series_uid is not None else next(iter(by_series))
    if chosen not in by_series:
        raise E.EmptySeries(where, f"series {chosen} is not in this folder (found: {', '.join(by_series)})")
    for uid, slices in by_series.items():
        if uid != chosen:
            bad.extend(SetAside(s.path, "other-series", "belongs to another series") for s in slices)
    _fail_on_bad_member(bad, chosen)
    volume = _assemble(by_series[chosen])
    notes = [f"{sum(b.reason == 'duplicate' for b in bad)} exact duplicate file(s) ignored"] \
        if any(b.reason == "duplicate" for b in bad) else []
    if volume.ids is not None and not volume.ids.frame_of_reference_uid:
        derived = generate_uid(_DERIVED_ROOT, entropy_srcs=["golive-derived-for", volume.ids.series_instance_uid])
        volume = Volume(volume.array, volume.spacing, volume.affine,
                        replace(volume.ids, frame_of_reference_uid=derived), volume.files)
        notes.append("the series has no Frame of Reference UID; SEG and SR use one derived from its series "
                     "UID (spatial registration with other series of the study is not possible)")
    lossy = _lossy_reason(by_series[chosen])
    if bad:
        log.warning("set aside %d file(s) while reading a series of %d slices", len(bad), volume.shape[0])
    return Ingested(volume, tuple(bad), tuple(notes), lossy)


_DERIVED_ROOT = "1.2.826.0.1.3680043.8.498."  # pydicom's documented root for generated UIDs


def _lossy_reason(slices: list[_Slice]) -> str | None:
    """Why the series' pixels are lossy-compressed, or None: the transfer syntax, or the header's own
    LossyImageCompression "01" (a lossy step earlier in the chain, even if stored uncompressed now)."""
    for s in slices:
        ts = UID(str(s.ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")))
        if is_lossy(ts):
            return f"lossy transfer syntax {ts.name}"
    for s in slices:
        if str(s.ds.get("LossyImageCompression", "")).strip() == "01":
            methods = s.ds.get("LossyImageCompressionMethod", "")
            return "LossyImageCompression 01 in the header" + (f" ({methods})" if methods else "")
    return None


_ERRORS: tuple[type[E.ImagingError], ...] = (
    E.NotDicom, E.TruncatedFile, E.DamagedFile, E.MissingPixelData, E.UnsupportedTransferSyntax, E.WrongModality,
    E.UnsupportedInstance,
)


def _fail_on_bad_member(bad: list[SetAside], chosen: str) -> None:
    """A set-aside file that claims the chosen series means the series is incomplete: raise its error."""
    for b in bad:
        if b.reason in ("not-dicom", "other-series", "duplicate"):
            continue
        try:
            hdr = pydicom.dcmread(b.path, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
            member = str(hdr.get("SeriesInstanceUID", "")) == chosen
        except Exception:
            member = False
        if member and b.reason != "wrong-modality":
            cls = next(c for c in _ERRORS if c.reason == b.reason)
            raise cls(b.path, f"{b.detail}; this slice belongs to the series, so the series is incomplete")


def _assemble(slices: list[_Slice]) -> Volume:
    first = slices[0]
    ref = first.ds
    rows, cols = int(ref.Rows), int(ref.Columns)
    iop = np.array([float(v) for v in ref.ImageOrientationPatient])
    ps = [float(v) for v in ref.PixelSpacing]  # (row spacing, column spacing)
    for s in slices[1:]:
        ds = s.ds
        if int(ds.Rows) != rows or int(ds.Columns) != cols:
            raise E.InconsistentGeometry(s.path, f"{ds.Rows}x{ds.Columns} pixels, first slice has {rows}x{cols}")
        if not np.allclose([float(v) for v in ds.PixelSpacing], ps, atol=1e-4):
            raise E.InconsistentGeometry(s.path, "pixel spacing differs from the first slice")
        if not np.allclose([float(v) for v in ds.ImageOrientationPatient], iop, atol=1e-4):
            raise E.InconsistentGeometry(s.path, "orientation differs from the first slice")
        if str(ds.get("FrameOfReferenceUID", "")) != str(ref.get("FrameOfReferenceUID", "")):
            raise E.MixedSeries(s.path, "frame of reference differs from the first slice")
    row_dir, col_dir = iop[:3], iop[3:]
    if abs(np.linalg.norm(row_dir) - 1) > 1e-3 or abs(np.linalg.norm(col_dir) - 1) > 1e-3 \
            or abs(float(row_dir @ col_dir)) > 1e-3:
        raise E.UnsupportedInstance(first.path, "ImageOrientationPatient is not two orthonormal vectors")
    tol = np.cos(np.deg2rad(ORIENTATION_TOL_DEG))
    if max(np.abs(row_dir)) < tol or max(np.abs(col_dir)) < tol:
        raise E.ObliqueStack(first.path, "oblique slice orientation (more than 1 degree off the patient "
                                         "axes); refused, not resampled: export axial slices")
    normal = np.cross(row_dir, col_dir)
    pos = np.array([[float(v) for v in s.ds.ImagePositionPatient] for s in slices])
    along = pos @ normal
    order = np.argsort(along, kind="stable")
    slices = [slices[i] for i in order]
    pos, along = pos[order], along[order]
    if len(slices) < 2:
        raise E.EmptySeries(first.path, "a single slice is not a volume")
    steps = np.diff(along)
    for n, d in enumerate(steps):
        if d < 1e-3:
            raise E.DuplicateSlices(slices[n + 1].path, f"same position as {slices[n].path.name}")
    # shear: positions must move along the normal only (gantry tilt shows up as a sideways drift)
    drift = (pos - pos[0]) - np.outer(along - along[0], normal)
    worst = int(np.argmax(np.linalg.norm(drift, axis=1)))
    if np.linalg.norm(drift[worst]) > SHEAR_TOL_MM * max(1, worst):
        raise E.ObliqueStack(slices[worst].path, "tilted (sheared) stack: slice positions drift off the "
                                                 "slice normal; refused, not resampled")
    step = float(np.median(steps))
    for n, d in enumerate(steps):
        if abs(d - step) <= max(SPACING_REL_TOL * step, 1e-3):
            continue
        ratio = d / step
        if ratio > 1.5 and abs(ratio - round(ratio)) < 0.1:
            raise E.MissingSlices(slices[n + 1].path, f"{round(ratio) - 1} slice(s) missing between "
                                                      f"{slices[n].path.name} and this file")
        raise E.UnevenSpacing(slices[n + 1].path, f"slice step {d:.3f} mm where the series uses {step:.3f} mm")
    array = np.stack([_pixels(s) for s in slices])
    aff = make_affine(tuple(pos[0]), tuple(row_dir), tuple(col_dir), (step, ps[0], ps[1]))
    ids = SourceIds(
        study_instance_uid=str(ref.get("StudyInstanceUID", "")),
        series_instance_uid=str(ref.get("SeriesInstanceUID", "")),
        frame_of_reference_uid=str(ref.get("FrameOfReferenceUID", "")),
        sop_instance_uids=tuple(str(s.ds.SOPInstanceUID) for s in slices),
        sop_class_uid=str(ref.get("SOPClassUID", "")),
        patient_id=str(ref.get("PatientID", "")),
        patient_name=str(ref.get("PatientName", "")),
        modality=str(ref.get("Modality", "")),
    )
    vol = canonical(Volume(array, (step, ps[0], ps[1]), aff, ids, tuple(str(s.path) for s in slices)))
    log.info("read a CT volume: shape %s spacing %s mm", vol.shape, tuple(round(s, 3) for s in vol.spacing))
    return vol


def canonical(vol: Volume) -> Volume:
    """Reorient an axis-aligned volume so k runs superior, i posterior, j left (identity LPS directions)."""
    dirs = vol.affine[:3, :3] / np.array(vol.spacing)
    axis_of = [int(np.argmax(np.abs(dirs[:, a]))) for a in range(3)]  # LPS axis each array axis follows
    if sorted(axis_of) != [0, 1, 2] or axis_of[0] != 2:
        raise E.ObliqueStack(vol.files[0] if vol.files else None,
                             "non-axial (sagittal or coronal) slices; refused, not resampled: export axial slices")
    want = [2, 1, 0]  # k -> z (S), i -> y (P), j -> x (L)
    perm = [axis_of.index(w) for w in want]
    arr = vol.array.transpose(perm)
    spacing = tuple(vol.spacing[p] for p in perm)
    aff = np.eye(4)
    aff[:3, 3] = vol.affine[:3, 3]
    flips = []
    for new_axis, old_axis in enumerate(perm):
        col = vol.affine[:3, old_axis]
        if col[want[new_axis]] < 0:
            flips.append(new_axis)
            aff[:3, 3] = aff[:3, 3] + col * (vol.array.shape[old_axis] - 1)
        aff[:3, new_axis] = np.abs(col)
    if not flips and perm == [0, 1, 2]:
        return vol
    arr = np.flip(arr, axis=tuple(flips)) if flips else arr
    files, ids = vol.files, vol.ids
    if 0 in flips:  # slice order reversed: keep file and instance lists in step with k
        files = tuple(reversed(files))
        if ids is not None:
            ids = replace(ids, sop_instance_uids=tuple(reversed(ids.sop_instance_uids)))
    return Volume(np.ascontiguousarray(arr), spacing, aff, ids, files)  # type: ignore[arg-type]


def quarantine(set_aside: Iterable[SetAside], dest: Path | str) -> Path | None:
    """Copy set-aside files to `dest` with `reasons.json` (file name, reason, detail). Nothing is lost."""
    items = list(set_aside)
    if not items:
        return None
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n, b in enumerate(items):
        target = out / f"{n:04d}-{b.path.name}"
        shutil.copy2(b.path, target)
        rows.append({"file": str(b.path), "copied_to": target.name, "reason": b.reason, "detail": b.detail})
    (out / "reasons.json").write_text(json.dumps(rows, indent=1))
    return out


def inspect(directory: Path | str, series_uid: str | None = None) -> dict[str, object]:
    """Summary of a series for the CLI: shape, spacing (column, row, slice), HU range, lossy flag, notes."""
    ing = read_series(directory, series_uid=series_uid)
    vol = ing.volume
    ids = vol.ids
    return {
        "series_instance_uid": ids.series_instance_uid if ids else "",
        "modality": ids.modality if ids else "",
        "slices": vol.shape[0],
        "rows": vol.shape[1],
        "columns": vol.shape[2],
        "spacing_mm": [round(v, 4) for v in vol.spacing_xyz],
        "hu_range": [float(vol.array.min()), float(vol.array.max())],
        "lossy_compression": ing.lossy is not None,
        "warnings": [f"lossy compression: {ing.lossy}; measurements on lossy images are less reliable"]
        if ing.lossy else [],
        "notes": list(ing.notes),
    }

"""Write a `Volume` as a DICOM CT series (one file per slice, uncompressed little endian).

Used for phantoms and test fixtures; stored values are unsigned with RescaleIntercept -1024, as many
CBCT scanners export them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

from golive.tasks.imaging.volume import Volume

_PREFIX = "1.2.826.0.1.3680043.8.498."  # pydicom's documented example root for generated UIDs


def _uid(seed: int | str, *parts: object) -> str:
    return generate_uid(_PREFIX, entropy_srcs=["golive-phantom", str(seed), *map(str, parts)])


def _key(seed: int, volume: Volume) -> str:
    """What the UIDs derive from: the seed and the voxel size, so that one seed at two spacings gives two
    studies (a PACS would otherwise merge them, or reject the second as a conflicting duplicate)."""
    return f"{seed}@" + "x".join(f"{s:g}" for s in volume.spacing)


def base_dataset(volume: Volume, seed: int, description: str) -> Dataset:
    """Patient/study/series attributes shared by every slice (synthetic identifiers only)."""
    key = _key(seed, volume)
    ds = Dataset()
    ds.PatientName = f"Phantom^{seed}"
    ds.PatientID = f"PHANTOM-{seed:06d}"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyInstanceUID = _uid(key, "study")
    ds.SeriesInstanceUID = _uid(key, "series")
    ds.FrameOfReferenceUID = _uid(key, "for")
    ds.StudyDate = dt.date(2026, 1, 1).strftime("%Y%m%d")
    ds.StudyTime = "090000"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 1
    ds.SeriesDescription = description
    ds.Modality = "CT"
    ds.Manufacturer = "golive"
    ds.ManufacturerModelName = "synthetic CBCT phantom"
    ds.BodyPartExamined = "JAW"
    ds.PositionReferenceIndicator = ""
    return ds


def write_series(volume: Volume, out_dir: Path | str, seed: int = 0,
                 description: str = "golive synthetic series") -> list[Path]:
    """Write one CT file per slice k; returns the paths in slice order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = base_dataset(volume, seed, description)
    aff = volume.affine
    ds_, dr, dc = volume.spacing
    row_dir = aff[:3, 2] / dc  # j grows along ImageOrientationPatient[:3]
    col_dir = aff[:3, 1] / dr
    stored = np.clip(np.round(volume.array + 1024), 0, 65535).astype(np.uint16)
    paths = []
    for k in range(volume.shape[0]):
        ds = Dataset()
        ds.update(base)
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = _uid(_key(seed, volume), "sop", k, description)
        ds.InstanceNumber = k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        pos = aff[:3, 3] + aff[:3, 0] * k
        ds.ImagePositionPatient = [round(float(v), 4) for v in pos]
        ds.ImageOrientationPatient = [round(float(v), 6) for v in (*row_dir, *col_dir)]
        ds.PixelSpacing = [round(dr, 6), round(dc, 6)]
        ds.SliceThickness = round(ds_, 6)
        ds.Rows, ds.Columns = int(volume.shape[1]), int(volume.shape[2])
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.KVP = 90
        ds.PixelData = stored[k].tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds.file_meta = meta
        path = out / f"CT{k + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths

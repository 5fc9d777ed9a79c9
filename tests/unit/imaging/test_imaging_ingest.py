from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import HTJ2KLossless, JPEG2000Lossless, JPEGLossless

from golive.tasks.foundation.errors import UserInputError
from golive.tasks.imaging import errors as E
from golive.tasks.imaging.ingest import inspect, quarantine, read_series
from golive.tasks.imaging.phantom import generate

DICOMDIR_TESTS = Path(get_testdata_file("DICOMDIR")).parent


def _files(d: Path) -> list[Path]:
    return sorted(d.glob("*.dcm"))


def test_phantom_round_trip(phantom_dir: Path) -> None:
    ing = read_series(phantom_dir / "series")
    vol = ing.volume
    ph = generate(7)
    assert vol.shape == ph.hu.shape and ing.set_aside == ()
    assert np.array_equal(vol.array, ph.hu.astype(np.float32))  # rescale to HU applied exactly
    assert vol.spacing == (1.0, 1.0, 1.0)
    assert np.allclose(vol.affine[:3, :3], np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]]))


def test_pydicom_real_ct_series_ct5n_ingests() -> None:
    vol = read_series(DICOMDIR_TESTS / "98892001" / "CT5N").volume
    assert vol.shape == (5, 16, 16)
    assert vol.spacing == pytest.approx((2.5, 0.488281, 0.488281))
    z = [vol.index_to_lps(np.array([k, 0, 0]))[2] for k in range(5)]
    assert np.all(np.diff(z) > 0)  # ordered inferior -> superior by position, not by file name


def test_pydicom_ct2_series_has_a_real_gap_named_by_file() -> None:
    # dicomdirtests/77654033/CT2 holds one slice 200 mm away from three contiguous ones
    with pytest.raises(E.MissingSlices, match="17136"):
        read_series(DICOMDIR_TESTS / "77654033" / "CT2")
    tail = [DICOMDIR_TESTS / "77654033" / "CT2" / n for n in ("17136", "17166", "17196")]
    assert read_series(tail).volume.spacing[0] == pytest.approx(1.25)


def test_inspect_reports_spacing_in_column_row_slice_order(phantom_dir: Path) -> None:
    info = inspect(phantom_dir / "series")
    assert info["slices"] == 60 and info["rows"] == 72 and info["columns"] == 80
    assert info["spacing_mm"] == [1.0, 1.0, 1.0] and info["modality"] == "CT"
    assert info["hu_range"][0] < -900 < 1000 < info["hu_range"][1]


def test_errors_are_user_input_errors_naming_the_file(series_copy: Path) -> None:
    f = _files(series_copy)[10]
    ds = pydicom.dcmread(f)
    ds.ImagePositionPatient = [float(v) for v in pydicom.dcmread(_files(series_copy)[9]).ImagePositionPatient]
    ds.save_as(f)
    with pytest.raises(UserInputError) as err:
        read_series(series_copy)
    assert isinstance(err.value, E.DuplicateSlices) and f.name in str(err.value)


def test_missing_slice(series_copy: Path) -> None:
    _files(series_copy)[20].unlink()
    with pytest.raises(E.MissingSlices, match="CT0022.dcm"):
        read_series(series_copy)


def test_uneven_spacing(series_copy: Path) -> None:
    f = _files(series_copy)[30]
    ds = pydicom.dcmread(f)
    ds.ImagePositionPatient[2] = float(ds.ImagePositionPatient[2]) + 0.4
    ds.save_as(f)
    with pytest.raises(E.UnevenSpacing):
        read_series(series_copy)


def test_tilted_stack_is_refused(series_copy: Path) -> None:
    for n, f in enumerate(_files(series_copy)):  # gantry tilt: each slice drifts 0.2 mm posterior
        ds = pydicom.dcmread(f)
        ds.ImagePositionPatient[1] = float(ds.ImagePositionPatient[1]) + 0.2 * n
        ds.save_as(f)
    with pytest.raises(E.ObliqueStack, match="refused"):
        read_series(series_copy)


def test_oblique_orientation_is_refused(series_copy: Path) -> None:
    c, s = np.cos(np.deg2rad(10)), np.sin(np.deg2rad(10))
    for f in _files(series_copy):
        ds = pydicom.dcmread(f)
        ds.ImageOrientationPatient = [c, s, 0.0, -s, c, 0.0]
        ds.save_as(f)
    with pytest.raises(E.ObliqueStack, match="oblique"):
        read_series(series_copy)


def test_flipped_rows_are_reoriented_to_lps(series_copy: Path, phantom_dir: Path) -> None:
    ref = read_series(phantom_dir / "series").volume
    for f in _files(series_copy):  # same anatomy stored with rows running anterior
        ds = pydicom.dcmread(f)
        arr = ds.pixel_array[::-1].copy()
        ds.PixelData = arr.tobytes()
        pos = [float(v) for v in ds.ImagePositionPatient]
        pos[1] = pos[1] + (ds.Rows - 1) * float(ds.PixelSpacing[0])
        ds.ImagePositionPatient = pos
        ds.ImageOrientationPatient = [1, 0, 0, 0, -1, 0]
        ds.save_as(f)
    vol = read_series(series_copy).volume
    assert np.array_equal(vol.array, ref.array)
    assert np.allclose(vol.affine, ref.affine)


def test_mixed_series_and_choosing_one(series_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(series_copy, other)
    for f in _files(other)[:5]:
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1"
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.save_as(series_copy / ("x" + f.name))
    with pytest.raises(E.MixedSeries):
        read_series(series_copy)
    uid = pydicom.dcmread(_files(series_copy)[0]).SeriesInstanceUID
    ing = read_series(series_copy, series_uid=uid)
    assert ing.volume.shape[0] == 60
    assert sum(s.reason == "other-series" for s in ing.set_aside) == 5


def test_non_dicom_files_are_set_aside_with_reasons(series_copy: Path, tmp_path: Path) -> None:
    (series_copy / "README.txt").write_text("exported by the scanner")
    ing = read_series(series_copy)
    assert [(s.path.name, s.reason) for s in ing.set_aside] == [("README.txt", "not-dicom")]
    q = quarantine(ing.set_aside, tmp_path / "aside")
    assert q is not None and (q / "reasons.json").is_file() and len(list(q.iterdir())) == 2


def test_truncated_member_fails_the_series(series_copy: Path) -> None:
    f = _files(series_copy)[5]
    f.write_bytes(f.read_bytes()[:4000])
    with pytest.raises(E.TruncatedFile, match=f.name):
        read_series(series_copy)


def test_missing_pixel_data(series_copy: Path) -> None:
    f = _files(series_copy)[3]
    ds = pydicom.dcmread(f)
    del ds.PixelData
    ds.save_as(f)
    with pytest.raises(E.MissingPixelData, match=f.name):
        read_series(series_copy)


def test_wrong_modality(tmp_path: Path) -> None:
    with pytest.raises(E.WrongModality, match="CR"):
        read_series(DICOMDIR_TESTS / "77654033" / "CR1")


def test_compressed_without_decoder(series_copy: Path) -> None:
    from pydicom.pixels import get_decoder

    missing = [t for t in (JPEGLossless, HTJ2KLossless, JPEG2000Lossless) if not get_decoder(t).is_available]
    if not missing:
        pytest.skip("every candidate decoder is installed here")
    f = _files(series_copy)[0]
    ds = pydicom.dcmread(f)
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 60])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = missing[0]
    ds.save_as(f, enforce_file_format=True)
    with pytest.raises(E.UnsupportedTransferSyntax, match=f.name):
        read_series(series_copy)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(E.EmptySeries):
        read_series(tmp_path)


def test_identifiers_never_reach_the_logs(series_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    (series_copy / "notes.txt").write_text("x")  # a set-aside file makes ingest log a warning too
    with caplog.at_level("DEBUG"):
        vol = read_series(series_copy).volume
    ids = vol.ids
    text = caplog.text + repr(vol)
    assert caplog.records  # it did log
    for secret in (ids.patient_id, ids.patient_name, ids.series_instance_uid, ids.study_instance_uid,
                   ids.sop_instance_uids[0]):
        assert secret not in text

"""Series golive did not write (issue 17): another exporter's plain CT, compressed and lossy exports,
duplicates, several series in one folder, and a body CT that must be refused. Every refusal under
`--json` is one JSON error object with exit code 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from imaging_support import write_foreign_series
from pydicom.uid import JPEG2000, RLELossless
from typer.testing import CliRunner

from golive.flows.cli.main import app
from golive.tasks.imaging.phantom import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def phantom7() -> np.ndarray:
    return generate(7, 1.0).hu


def _cli(*args: str):
    return runner.invoke(app, ["imaging", *args])


def _json_error(res) -> dict:
    assert res.exit_code == 2, res.output
    line = next(x for x in res.stdout.splitlines() if x.startswith("{"))
    return json.loads(line)["error"]


def body_ct(spacing: float = 2.0, fov_mm: float = 340.0, slices: int = 50) -> np.ndarray:
    """A body-CT-like volume: an elliptic trunk (fat rim, soft tissue), a vertebra with its canal, ribs."""
    n = int(fov_mm / spacing)
    y, x = np.mgrid[0:n, 0:n] * spacing - fov_mm / 2
    hu = np.full((slices, n, n), -1000, np.int16)
    trunk = (x / 160) ** 2 + (y / 110) ** 2 <= 1
    inner = (x / 150) ** 2 + (y / 100) ** 2 <= 1
    vert = (x / 22) ** 2 + ((y - 55) / 18) ** 2 <= 1
    canal = (x / 8) ** 2 + ((y - 80) / 8) ** 2 <= 1
    ring = np.abs(np.hypot(x / 140, y / 95) - 1) < 0.03
    sl = np.where(trunk, -100, -1000)
    sl = np.where(inner, 40, sl)
    sl = np.where(ring & inner, 900, sl)
    sl = np.where(vert, 350, sl)
    sl = np.where(vert & ~((x / 19) ** 2 + ((y - 55) / 15) ** 2 <= 1), 1200, sl)
    sl = np.where(canal, 20, sl)
    hu[:] = sl.astype(np.int16)
    return hu


def test_another_exporters_lossy_ct_is_analysed(phantom7: np.ndarray, tmp_path: Path) -> None:
    """Lossy JPEG 2000, no AccessionNumber, StudyID, StudyTime, ReferringPhysicianName (type 2) and no
    Frame of Reference: the pixels decode, SEG and SR are written with those attributes present-but-empty
    and a derived frame, with a note, and the lossy compression is flagged first among the warnings."""
    series = write_foreign_series(phantom7, (1.0, 1.0, 1.0), tmp_path / "foreign", frame_of_reference=False,
                                  syntax=JPEG2000)
    first = pydicom.dcmread(next(series.iterdir()))
    assert "AccessionNumber" not in first and "FrameOfReferenceUID" not in first
    out = tmp_path / "out"
    res = _cli("analyze", str(series), "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert any("Frame of Reference" in n for n in summary["notes"])
    assert summary["lossy_compression"] is True and summary["warnings"][0].startswith("lossy compression")
    seg = pydicom.dcmread(out / "segmentation.dcm")
    assert seg.AccessionNumber == "" and seg.StudyID == "" and seg.ReferringPhysicianName == ""
    sr = pydicom.dcmread(out / "measurements-sr.dcm")
    assert sr.FrameOfReferenceUID == seg.FrameOfReferenceUID if "FrameOfReferenceUID" in sr else True
    assert seg.FrameOfReferenceUID  # the derived frame
    assert len(summary["sites"]) >= 1 and summary["anatomy"]["arch_fit_share"] > 0.9


def test_inspect_flags_lossy_jpeg2000(phantom7: np.ndarray, tmp_path: Path) -> None:
    series = write_foreign_series(phantom7[20:28], (1.0, 1.0, 1.0), tmp_path / "j2k", syntax=JPEG2000)
    res = _cli("inspect", str(series), "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["lossy_compression"] is True and "JPEG 2000" in info["warnings"][0]
    plain = _cli("inspect", str(write_foreign_series(phantom7[20:28], (1.0, 1.0, 1.0), tmp_path / "p")), "--json")
    assert json.loads(plain.stdout)["lossy_compression"] is False


def test_phantom_uids_derive_from_seed_and_spacing() -> None:
    from golive.tasks.imaging.dicom_write import base_dataset
    from golive.tasks.imaging.volume import Volume, make_affine

    def uids(spacing: float) -> tuple[str, str, str]:
        sp = (spacing,) * 3
        ds = base_dataset(Volume(np.zeros((2, 2, 2)), sp, make_affine((0, 0, 0), (1, 0, 0), (0, 1, 0), sp)), 5, "x")
        return ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID

    assert uids(0.3) == uids(0.3)
    assert not set(uids(0.3)) & set(uids(1.0))


def test_rle_lossless_decodes_to_the_same_values(phantom7: np.ndarray, tmp_path: Path) -> None:
    small = phantom7[20:28]
    plain = write_foreign_series(small, (1.0, 1.0, 1.0), tmp_path / "plain")
    rle = write_foreign_series(small, (1.0, 1.0, 1.0), tmp_path / "rle", syntax=RLELossless)
    from golive.tasks.imaging.ingest import read_series

    a, b = read_series(plain), read_series(rle)
    assert np.array_equal(a.volume.array, b.volume.array) and b.lossy is None


def test_exact_duplicate_files_are_ignored_with_a_note(phantom7: np.ndarray, tmp_path: Path) -> None:
    series = write_foreign_series(phantom7[20:28], (1.0, 1.0, 1.0), tmp_path / "dup")
    first = sorted(series.iterdir())[0]
    shutil.copy(first, series / "copy-of-first")
    res = _cli("inspect", str(series), "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["slices"] == 8 and info["notes"] == ["1 exact duplicate file(s) ignored"]


def test_series_option_chooses_among_several(phantom7: np.ndarray, tmp_path: Path) -> None:
    folder = tmp_path / "two"
    write_foreign_series(phantom7[20:28], (1.0, 1.0, 1.0), folder / "a", series_uid="1.2.3.4.100")
    write_foreign_series(phantom7[30:40], (1.0, 1.0, 1.0), folder / "b", series_uid="1.2.3.4.200")
    err = _json_error(_cli("inspect", str(folder), "--json"))
    assert err["reason"] == "mixed-series" and "1.2.3.4.100" in err["message"] and "--series" in err["message"]
    res = _cli("inspect", str(folder), "--series", "1.2.3.4.200", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["slices"] == 10
    err = _json_error(_cli("inspect", str(folder), "--series", "1.2.3.4.999", "--json"))
    assert err["reason"] == "empty" and "1.2.3.4.999" in err["message"]


def test_every_refusal_prints_a_json_error(tmp_path: Path, series_copy: Path) -> None:
    bad = sorted(series_copy.glob("*.dcm"))[5]
    bad.write_bytes(bad.read_bytes()[:600])
    for args in (["inspect", str(series_copy)], ["analyze", str(series_copy), "--out", str(tmp_path / "o")],
                 ["inspect", str(tmp_path / "nowhere")]):
        err = _json_error(_cli(*args, "--json"))
        assert err["message"] and err["reason"] and err["exit_code"] == 2
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_a_body_ct_is_refused_by_its_field_of_view(tmp_path: Path) -> None:
    series = write_foreign_series(body_ct(), (2.0, 2.0, 2.0), tmp_path / "body")
    out = tmp_path / "out"
    err = _json_error(_cli("analyze", str(series), "--out", str(out), "--json"))
    assert err["reason"] == "not-dental-cbct"
    assert err["message"].split(": ", 1)[1].startswith("not a dental CBCT: field of view")
    assert not out.exists()


def test_a_body_ct_cropped_to_a_dental_field_is_refused_by_anatomy(tmp_path: Path) -> None:
    """A dental-sized crop (80 x 80 x 60 mm) of a body CT around the spine and ribs: the field of view
    passes, the anatomy gate does not."""
    hu = body_ct(spacing=1.0, fov_mm=340.0, slices=60)[:, 170 + 20:170 + 100, 170 - 40:170 + 40]
    series = write_foreign_series(hu, (1.0, 1.0, 1.0), tmp_path / "crop")
    res = _cli("analyze", str(series), "--out", str(tmp_path / "out"))
    assert res.exit_code == 2, res.output
    assert "not a dental CBCT: " in res.stderr

"""golive as the second reader of the platform's output (issue 17). The phantom's exact labels, perturbed
and written as a SEG by highdicom directly (other segment labels, order and codes than golive's writer),
stand in for a vendor's output: each perturbation must be flagged, the unperturbed truth must agree,
and nothing to compare is "not verified"."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian
from scipy import ndimage

from golive.tasks.context import StepContext
from golive.tasks.imaging import kinds
from golive.tasks.imaging import second_reader as sr
from golive.tasks.imaging.analysis import analyze
from golive.tasks.imaging.dicom_out import source_datasets
from golive.tasks.imaging.ingest import read_series

pytestmark = pytest.mark.integration

# a vendor's own naming: other labels, another order, SNOMED codes for the property types
VENDOR = (("Inferior alveolar nerve canal", 4, hd.sr.CodedConcept("IAN", "99VENDOR", "Mandibular canal")),
          ("Dentition", 3, codes.SCT.Tooth),
          ("Mandibular bone", 1, codes.SCT.Mandible),
          ("Upper jaw", 2, codes.SCT.Maxilla))


def vendor_seg(labels: np.ndarray, series: Path, out: Path) -> Path:
    vol = read_series(series).volume
    src = source_datasets(vol)
    masks = np.stack([labels == v for _, v, _ in VENDOR], axis=-1).astype(np.uint8)
    algo = hd.AlgorithmIdentificationSequence(name="VendorAI", version="7.1",
                                              family=codes.cid7162.ArtificialIntelligence)
    desc = [hd.seg.SegmentDescription(
        segment_number=n, segment_label=name, segmented_property_category=codes.SCT.AnatomicalStructure,
        segmented_property_type=code, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algo) for n, (name, _, code) in enumerate(VENDOR, start=1)]
    seg = hd.seg.Segmentation(
        source_images=src, pixel_array=masks, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=desc, series_instance_uid=hd.UID(), series_number=77, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="Vendor", manufacturer_model_name="VendorAI", software_versions="7.1",
        device_serial_number="1", transfer_syntax_uid=ExplicitVRLittleEndian)
    out.mkdir(parents=True, exist_ok=True)
    seg.save_as(out / "vendor-seg.dcm")
    return out


@pytest.fixture(scope="module")
def golive_reading(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("golive-reading")
    summary = analyze(phantom_dir / "series", out)
    vol = read_series(phantom_dir / "series").volume
    ours = sr._seg_labels(out / summary["files"]["seg"], vol)
    return vol, ours, summary


def _compare(labels: np.ndarray, phantom_dir: Path, tmp_path: Path, golive_reading) -> dict:
    vol, ours, summary = golive_reading
    folder = vendor_seg(labels, phantom_dir / "series", tmp_path / "vendor")
    return sr.compare(sr.read_platform(folder, vol), ours, summary["sites"], vol)


@pytest.mark.parametrize(("code", "expected"), [
    (hd.sr.CodedConcept("91609006", "SCT", "Mandible"), "mandible"),
    (hd.sr.CodedConcept("22457002", "SCT", "Maxilla"), "maxilla"),  # SlicerTotalSegmentator's maxilla
    (hd.sr.CodedConcept("55636003", "SCT", "Inferior alveolar nerve"), "canal"),
    (hd.sr.CodedConcept("CANAL", "99GOLIVE", "Inferior alveolar canal"), "canal"),  # golive's earlier SEGs
    (hd.sr.CodedConcept("12738006", "SCT", "Brain"), None)])
def test_segments_are_matched_by_property_type_code(code: hd.sr.CodedConcept, expected: str | None) -> None:
    """A segment whose label names no structure is matched by its code alone (or not at all)."""
    import pydicom

    desc = pydicom.Dataset()
    desc.SegmentLabel = "Segment 7"
    desc.SegmentedPropertyTypeCodeSequence = [code]
    assert sr._structure_of(desc) == expected


def test_the_unperturbed_truth_agrees(phantom_dir: Path, tmp_path: Path, golive_reading) -> None:
    truth = np.load(phantom_dir / "labels.npy")
    res = _compare(truth, phantom_dir, tmp_path, golive_reading)
    assert res["verdict"] == "agrees", res["review_items"]
    assert res["structures"]["mandible"]["dice"] > 0.9 and all(r["found_by"] == "both" for r in res["sites"])


def test_a_canal_shifted_by_1_5_mm_is_flagged(phantom_dir: Path, tmp_path: Path, golive_reading) -> None:
    truth = np.load(phantom_dir / "labels.npy")
    canal = ndimage.shift((truth == 4).astype(np.float32), (1.5, 0, 0), order=1) > 0.5  # 1.5 mm up (1 mm voxels)
    moved = np.where(truth == 4, 1, truth).astype(np.uint8)
    moved[canal] = 4
    res = _compare(moved, phantom_dir, tmp_path, golive_reading)
    assert res["verdict"] == "disagreements to review"
    kinds_ = {(i["kind"], i.get("structure")) for i in res["review_items"]}
    assert ("structure", "canal") in kinds_
    assert any(i["kind"] == "canal distance" for i in res["review_items"])
    assert all(i["assignee"] == "Clinical Lead" for i in res["review_items"])


def test_a_missed_tooth_is_flagged(phantom_dir: Path, tmp_path: Path, golive_reading) -> None:
    truth = np.load(phantom_dir / "labels.npy")
    teeth = truth == 3
    top_mandible = np.nonzero((truth == 1).any(axis=(1, 2)))[0].max()
    low_maxilla = np.nonzero((truth == 2).any(axis=(1, 2)))[0].min()
    split = (top_mandible + low_maxilla) // 2  # between the arches: lower teeth below
    lower = teeth.copy()
    lower[split:] = False
    ii, jj = np.nonzero(lower.any(axis=0))
    vol, _, summary = golive_reading
    crest = np.array([x["crest_lps"] for x in summary["sites"]])
    pts = vol.index_to_lps(np.column_stack([np.zeros(len(ii)), ii, jj]))
    far = np.min(np.linalg.norm(pts[:, None, :2] - crest[None, :, :2], axis=2), axis=1)
    # a tooth away from golive's sites, not an incisor at the midline nor the last molar
    ok = (ii <= np.quantile(ii, 0.7)) & (np.abs(jj - np.median(jj)) >= 12)
    k = int(np.argmax(np.where(ok, far, -1)))
    yy, xx = np.mgrid[0:truth.shape[1], 0:truth.shape[2]]
    near = np.hypot(yy - ii[k], xx - jj[k]) <= 5.0
    missed = truth.copy()
    missed[lower & near[None]] = 0  # the platform "misses" this tooth
    res = _compare(missed, phantom_dir, tmp_path, golive_reading)
    assert res["verdict"] == "disagreements to review"
    assert any(i["kind"] == "site" and i["site"].startswith("platform-") for i in res["review_items"]), \
        res["review_items"]


def test_a_swapped_label_is_flagged(phantom_dir: Path, tmp_path: Path, golive_reading) -> None:
    truth = np.load(phantom_dir / "labels.npy")
    swapped = truth.copy()
    swapped[truth == 1], swapped[truth == 2] = 2, 1  # mandible and maxilla swapped
    res = _compare(swapped, phantom_dir, tmp_path, golive_reading)
    flagged = {i.get("structure") for i in res["review_items"] if i["kind"] == "structure"}
    assert {"mandible", "maxilla"} <= flagged


def test_nothing_to_compare_is_not_verified_never_a_pass(phantom_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "platform"
    empty.mkdir()
    (empty / "readme.txt").write_text("the platform returned nothing")
    ctx = StepContext(run_id="r", run_key="k", runbook="iv", step_id="ai", step_key="ai", out_dir=tmp_path)
    with pytest.raises(kinds.AiValidationFailed, match="not verified"):
        kinds.run_validate_ai(ctx, {"series": str(phantom_dir / "series"), "platform_output": str(empty)})
    assert (tmp_path / "imaging" / "analysis-ai" / "second-reading.json").is_file()

"""Standard DICOM outputs any viewer can open: a Segmentation (SEG) and a TID 1500 measurement report.

Both reference the source CT instances and reuse its patient/study (the identifiers stay inside the
DICOM objects, which go back to the imaging system; they never reach logs or step outputs).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian

from golive.tasks.imaging.measure import Findings
from golive.tasks.imaging.volume import Volume

log = logging.getLogger(__name__)

# Coding. Structures: SNOMED CT as DICOM PS3.16 lists them (pydicom's codes.SCT is generated from PS3.16;
# CID 4016 "Anatomic Region for Intra-oral Radiography" gives Mandible 91609006 and Maxilla 70925003;
# Tooth is 38199008). Bone density: DCM 112031 "Attenuation Coefficient" (PS3.16 CID 218 quantitative
# image features) with derivation SCT 373098007 "Mean", in UCUM [hnsf'U] -- a mean CT number over the
# implant's bone, not "Mean" as the concept.
# The canal (issue 17, looked up in these files): PS3.16 has no mandibular/inferior alveolar canal (pydicom
# 3.0.2's SCT dictionary; Slicer/Slicer@583e9b37 Modules/Loadable/Terminologies/Resources/*.json, the DICOM
# master and general-anatomy terminologies; QIICR/dcmqi@b6137d9e; highdicom 0.28.2;
# bvdh/dicom-terminology-in-fhir@9f098270, PS3.16's CIDs as FHIR value sets), and neither does
# wasserth/TotalSegmentator@0e65a448 totalsegmentator/resources/totalsegmentator_snomed_mapping.csv (no
# rows for its `teeth` task). The one file that codes the structure is lassoan/SlicerTotalSegmentator@
# 6bad600b TotalSegmentator/Resources/totalsegmentator_snomed_mapping.csv (rows added in a1f8b4a4, also
# in its .term.json): left/right_inferior_alveolar_canal -> SCT 55636003 "Inferior alveolar nerve" with
# laterality, category SCT 123037004 "Anatomical Structure". We use that code: the concept is the nerve
# the canal carries (the structure the 2 mm rule protects), not the bony canal, and the same file also
# codes the incisive canals with it. Sources disagree on the maxilla: that file gives upper_jawbone SCT
# 22457002 "Maxilla", PS3.16 70925003; we write 70925003 and `second_reader` accepts both. The old
# private code (99GOLIVE CANAL) is still read. The candidate implant site has no looked-up code and
# stays in the private scheme 99GOLIVE (PS3.16 8.2 allows "99" prefixes):
#   IMPLSITE Candidate implant site (an SR finding type; its SCOORD3D POINT is the ridge crest)
#   plus the measurement names written by `_num` without a standard code (upper-cased, <= 16 chars).
_LOCAL = "99GOLIVE"
_STRUCTURES = {
    "mandible": codes.SCT.Mandible,
    "maxilla": codes.SCT.Maxilla,
    "teeth": codes.SCT.Tooth,
    "canal": hd.sr.CodedConcept("55636003", "SCT", "Inferior alveolar nerve"),
}
_DENSITY = hd.sr.CodedConcept("112031", "DCM", "Attenuation Coefficient")


def _algorithm(name: str, version: str) -> hd.AlgorithmIdentificationSequence:
    return hd.AlgorithmIdentificationSequence(
        name=name[:64], version=version or "0", family=codes.cid7162.ArtificialIntelligence)


# Type 2 attributes of the Patient, General Study and General Series modules (PS3.3 C.7.1.1, C.7.2.1,
# C.7.3.1) that highdicom copies from the sources into SEG and SR: real exports often leave them out.
TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                "StudyID", "AccessionNumber", "ReferringPhysicianName")


def source_datasets(volume: Volume) -> list[pydicom.Dataset]:
    """Headers of the source instances in slice order k (pixel data not loaded), made complete enough to
    derive from: absent type 2 attributes become present-but-empty (what type 2 allows), and a series
    without a Frame of Reference UID gets the one ingest derived for it (see `ingest.read_series`)."""
    if not volume.files:
        raise ValueError("the volume has no source files to reference")
    out: list[pydicom.Dataset] = []
    for f in volume.files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        for kw in TYPE2_COPIED:
            if kw not in ds:
                setattr(ds, kw, "")
        if ds.get("SliceThickness") in (None, ""):  # type 2 in the CT Image module; SEG's pixel measures need it
            ds.SliceThickness = round(float(volume.spacing[0]), 6)
        if not str(ds.get("FrameOfReferenceUID", "")) and volume.ids is not None:
            ds.FrameOfReferenceUID = volume.ids.frame_of_reference_uid
        out.append(ds)
    return out


def _to_source_layout(labels: np.ndarray, first: pydicom.Dataset) -> np.ndarray:
    """Undo the canonical in-plane flips so frames line up with the source pixel layout."""
    iop = [float(v) for v in first.ImageOrientationPatient]
    out = labels
    if iop[0] < 0:
        out = out[:, :, ::-1]
    if iop[4] < 0:
        out = out[:, ::-1, :]
    return np.ascontiguousarray(out)


def write_seg(volume: Volume, labels: np.ndarray, label_names: dict[int, str], out_path: Path,
              algorithm: tuple[str, str] = ("golive cbct-seg", "0.1.0"),
              sources: list[pydicom.Dataset] | None = None) -> Path:
    """Write a binary DICOM SEG (one segment per structure present) on the source grid."""
    src = sources or source_datasets(volume)
    lab = _to_source_layout(labels.astype(np.uint8), src[0])
    descriptions = []
    present = []
    for number, (value, name) in enumerate(sorted((v, n) for v, n in label_names.items() if v != 0), start=1):
        if name not in _STRUCTURES:
            continue
        present.append(value)
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=len(present), segment_label=name,
            segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=_STRUCTURES[name],
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=_algorithm(*algorithm)))
        del number
    # label map -> segment numbers 1..n in the order of `descriptions`
    remap = np.zeros(256, np.uint8)
    for seg_no, value in enumerate(present, start=1):
        remap[value] = seg_no
    mask = remap[lab]
    seg = hd.seg.Segmentation(
        source_images=src, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=900,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="golive",
        manufacturer_model_name="cbct-seg", software_versions=algorithm[1] or "0",
        device_serial_number="0", series_description="AI segmentation (phantom-trained model)",
        transfer_syntax_uid=ExplicitVRLittleEndian, omit_empty_frames=False)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(out_path)
    log.info("wrote a SEG with %d segment(s)", len(descriptions))
    return out_path


def _num(name: str, value: float, unit: hd.sr.CodedConcept, code: hd.sr.CodedConcept | None = None,
         derivation: hd.sr.CodedConcept | None = None) -> hd.sr.Measurement:
    concept = code or hd.sr.CodedConcept(name.upper().replace(" ", "-")[:16], _LOCAL, name)
    return hd.sr.Measurement(name=concept, value=float(value), unit=unit, derivation=derivation)


_MM = hd.sr.CodedConcept("mm", "UCUM", "millimeter")
_HU = hd.sr.CodedConcept("[hnsf'U]", "UCUM", "Hounsfield unit")
_RATIO = hd.sr.CodedConcept("1", "UCUM", "no units")


def write_sr(volume: Volume, seg_path: Path, findings: Findings, out_path: Path,
             algorithm: tuple[str, str] = ("golive cbct-seg", "0.1.0"),
             sources: list[pydicom.Dataset] | None = None) -> Path:
    """Write a Comprehensive 3D SR (TID 1500): one group per canal (referencing the SEG) and per site."""
    src = sources or source_datasets(volume)
    # the SR references the SEG's segments and UIDs only: its header, not its frames (highdicom's segread
    # decodes every frame; 1.7 s of a 0.2 mm series' analysis)
    seg = pydicom.dcmread(seg_path, stop_before_pixels=True)
    seg_numbers = {d.SegmentLabel: int(d.SegmentNumber) for d in seg.SegmentSequence}
    algo = hd.sr.AlgorithmIdentification(name=algorithm[0][:64], version=algorithm[1] or "0")
    groups: list = []
    for canal in findings.canals:
        ms = [_num("Canal length", canal.length_mm, _MM, codes.SCT.Length),
              _num("Canal radius", canal.radius_mm, _MM),
              _num("Canal confidence", canal.confidence, _RATIO)]
        if "canal" in seg_numbers and canal.found:
            groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(identifier=f"{canal.side} canal", uid=hd.UID()),
                referenced_segment=hd.sr.ReferencedSegment(
                    sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID,
                    segment_number=seg_numbers["canal"], source_series=hd.sr.SourceSeriesForSegmentation(
                        src[0].SeriesInstanceUID)),
                finding_type=_STRUCTURES["canal"], algorithm_id=algo, measurements=ms))
        else:
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(identifier=f"{canal.side} canal (not found)"),
                finding_type=_STRUCTURES["canal"], algorithm_id=algo, measurements=ms))
    for site in findings.sites:
        ms = [_num("Site confidence", site.confidence, _RATIO)]
        if site.density_hu is not None:
            ms.append(_num("Bone density estimate", site.density_hu, _HU, _DENSITY, codes.SCT.Mean))
        if site.reference_clearance_mm is not None:
            ms.append(_num("Reference implant canal clearance", site.reference_clearance_mm, _MM, codes.DCM.Distance))
        if site.bone_height_to_canal_mm is not None:
            ms.append(_num("Bone height to canal", site.bone_height_to_canal_mm, _MM))
        if site.recommended is not None:
            ms.append(_num("Implant diameter", site.recommended.diameter_mm, _MM, codes.SCT.Diameter))
            ms.append(_num("Implant length", site.recommended.length_mm, _MM))
        tracking = hd.sr.TrackingIdentifier(identifier=f"implant {site.name} ({site.side})", uid=hd.UID())
        site_type = hd.sr.CodedConcept("IMPLSITE", _LOCAL, "Candidate implant site")
        if any(site.crest_lps):  # the ridge crest in patient coordinates (SCOORD3D POINT, LPS mm)
            groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, finding_type=site_type, algorithm_id=algo, measurements=ms,
                referenced_region=hd.sr.ImageRegion3D(
                    graphic_type=hd.sr.GraphicTypeValues3D.POINT,
                    graphic_data=np.array([site.crest_lps], dtype=float),
                    frame_of_reference_uid=str(src[0].FrameOfReferenceUID))))
        else:
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, finding_type=site_type, algorithm_id=algo, measurements=ms))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_device_context=hd.sr.ObserverContext(
                observer_type=codes.DCM.Device,
                observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                    uid=hd.UID(), name=algorithm[0][:64]))),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion if hasattr(codes.LN, "CTUnspecifiedBodyRegion")
        else hd.sr.CodedConcept("25045-6", "LN", "CT unspecified body region"),
        imaging_measurements=groups, title=codes.cid7021.ImagingMeasurementReport)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[*src, seg], content=report, series_instance_uid=hd.UID(), series_number=901,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="golive",
        series_description="AI measurements (phantom-trained model)", is_complete=True, is_final=False,
        is_verified=False)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sr.save_as(out_path)
    log.info("wrote an SR with %d measurement group(s)", len(groups))
    return out_path


def read_sr_measurements(path: Path) -> dict[str, dict[str, float]]:
    """Read back a TID 1500 SR written here: tracking identifier -> {measurement name: value}."""
    sr = hd.sr.srread(path)
    out: dict[str, dict[str, float]] = {}
    groups = sr.content.get_observation_groups() if hasattr(sr.content, "get_observation_groups") else []
    del groups
    report: Any = sr.content  # a MeasurementReport when written here
    for grp in report.get_volumetric_roi_measurement_groups() + report.get_planar_roi_measurement_groups() \
            + _plain_groups(report):
        key = str(grp.tracking_identifier)
        out[key] = {m.name.meaning: float(m.value) for m in grp.get_measurements()}
    return out


def _plain_groups(report) -> list:
    try:
        return list(report.get_image_measurement_groups())
    except Exception:
        return []

"""The SEG of the reviewed nodules: valid, on the source grid, tracking UIDs shared with the SR."""

from __future__ import annotations

import highdicom as hd
import numpy as np
import pydicom
import pytest
from export_helpers import ADDED_CENTER, NODULE_CENTER, dciodvfy_errors

from viewer.export.errors import MissingAnalysis
from viewer.export.exporter import ExportInputs, export_study
from viewer.export.identity import tracking_uid
from viewer.export.masks import analysis_masks
from viewer.export.plan import build_plan
from viewer.export.seg import build_seg
from viewer.export.source import load_source


def _mask_at(seg: hd.seg.Segmentation, volume, segment: int, world) -> int:
    """The SEG's value at the source voxel nearest to a world point (via the source SOP UID)."""
    z, y, x = (int(v) for v in np.rint(volume.world_to_index(world)))
    sop = volume.info.sop_instance_uids[z]
    shared = seg.SharedFunctionalGroupsSequence[0]
    for i, frame in enumerate(seg.PerFrameFunctionalGroupsSequence):
        src = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        ident = frame if "SegmentIdentificationSequence" in frame else shared
        number = ident.SegmentIdentificationSequence[0].ReferencedSegmentNumber
        if src == sop and number == segment:
            return int(seg.pixel_array[i][y, x]) if seg.NumberOfFrames > 1 else int(seg.pixel_array[y, x])
    return 0


def test_seg_passes_dciodvfy_without_errors(exported) -> None:
    assert dciodvfy_errors(exported["seg"]) == []


def test_segments_match_the_sr_tracking_uids(exported, study) -> None:
    seg = hd.seg.segread(exported["seg"])
    assert seg.number_of_segments == 2
    got = {seg.get_segment_description(n).tracking_id: seg.get_segment_description(n).tracking_uid
           for n in (1, 2)}
    assert got == {"Nodule 1 (f1)": tracking_uid(study, "f1"), "Nodule 2 (r1)": tracking_uid(study, "r1")}
    first = seg.get_segment_description(1)
    assert first.segmented_property_type.value == "27925004"  # SCT Nodule
    assert first.algorithm_type == hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC
    assert first.algorithm_identification[0].AlgorithmName == "NoduleLens detector"
    second = seg.get_segment_description(2)  # reviewer-added: drawn by the reviewer, no algorithm
    assert second.algorithm_type == hd.seg.SegmentAlgorithmTypeValues.MANUAL
    assert "SegmentAlgorithmName" not in second and "SegmentationAlgorithmIdentificationSequence" not in second
    sr = hd.sr.srread(exported["sr"])
    sr_uids = {g.tracking_uid for g in sr.content.get_volumetric_roi_measurement_groups()}
    assert sr_uids == set(got.values())


def test_seg_references_the_source_series(exported, lidc1_volume) -> None:
    seg = pydicom.dcmread(exported["seg"], stop_before_pixels=True)
    (series,) = seg.ReferencedSeriesSequence
    assert series.SeriesInstanceUID == lidc1_volume.info.series_instance_uid
    assert seg.FrameOfReferenceUID == lidc1_volume.info.frame_of_reference_uid
    assert seg.StudyInstanceUID == lidc1_volume.info.study_instance_uid
    refs = {r.ReferencedSOPInstanceUID for r in series.ReferencedInstanceSequence}
    assert refs <= set(lidc1_volume.info.sop_instance_uids)
    assert 5 <= len(refs) < 40  # only the slices the nodules span


def test_mask_voxels_sit_at_the_finding_centres(exported, lidc1_volume) -> None:
    seg = pydicom.dcmread(exported["seg"])
    assert _mask_at(seg, lidc1_volume, 1, NODULE_CENTER) == 1
    assert _mask_at(seg, lidc1_volume, 2, ADDED_CENTER) == 1
    far = (NODULE_CENTER[0] + 30.0, NODULE_CENTER[1], NODULE_CENTER[2])  # 30 mm away, > radius
    assert _mask_at(seg, lidc1_volume, 1, far) == 0


def test_frame_positions_are_the_source_slice_positions(exported, lidc1_volume) -> None:
    seg = pydicom.dcmread(exported["seg"], stop_before_pixels=True)
    by_uid = dict(zip(lidc1_volume.info.sop_instance_uids, lidc1_volume.info.source_files, strict=True))
    for frame in seg.PerFrameFunctionalGroupsSequence[:3]:
        src = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        ct = pydicom.dcmread(by_uid[src], stop_before_pixels=True)
        pos = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        assert pos == pytest.approx([float(v) for v in ct.ImagePositionPatient], abs=1e-3)


def test_seg_from_the_real_nodule_analysis(tmp_path, study, lidc1_volume) -> None:
    only_f1 = type(study)(**{**{f: getattr(study, f) for f in study.__slots__},
                             "findings": study.findings[:2]})
    masks = analysis_masks(only_f1, lidc1_volume)
    assert set(masks) == {"f1"}
    result = export_study(ExportInputs(only_f1, lidc1_volume, masks), "seg", tmp_path / "n.dcm")
    assert result.files == (tmp_path / "n.dcm",)
    assert dciodvfy_errors(result.files[0]) == []
    seg = pydicom.dcmread(result.files[0])
    assert _mask_at(seg, lidc1_volume, 1, NODULE_CENTER) == 1
    segmented_mm3 = float(seg.pixel_array.sum()) * np.prod(lidc1_volume.spacing_xyz)
    reference_mm3 = np.pi / 6 * 23.35 ** 3  # LUNA16 diameter of this nodule
    assert 0.3 * reference_mm3 < segmented_mm3 < 3 * reference_mm3


def test_seg_without_a_mask_names_the_finding(study, lidc1_volume, masks) -> None:
    source = load_source(lidc1_volume)
    with pytest.raises(MissingAnalysis, match="r1"):
        build_seg(build_plan(study), source, {"f1": masks["f1"]})

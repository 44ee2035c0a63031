"""DICOM SEG of the reported nodules: one binary segment per nodule on the source slices.

Frames are full source-size slices (only those a nodule spans), so the SEG overlays the source
series directly; each segment carries the nodule's tracking id and UID (the same as in the SR), a
label with its Lung-RADS category and a distinct recommended display colour (CIELab).
"""

from __future__ import annotations

from collections.abc import Mapping

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from inference.imaging.volume import Volume
from viewer.export import identity
from viewer.export.errors import MissingAnalysis
from viewer.export.grid import frames_of
from viewer.export.source import SourceSeries
from viewer.export.palette import rgb_to_lab
from viewer.export.plan import ExportPlan, PlannedNodule
from viewer.review.model import ReviewedStudy


def build_seg(plan: ExportPlan, source: SourceSeries, masks: Mapping[str, Volume]) -> Dataset:
    """The SEG dataset; ``masks`` maps finding id → uint8 crop Volume on the scan's grid."""
    study = plan.study
    if not plan.nodules:
        raise MissingAnalysis(study.study_instance_uid, "has no accepted or added nodule to segment",
                              "Accept or add a finding before exporting a SEG")
    missing = [n.finding_id for n in plan.nodules if n.finding_id not in masks]
    if missing:
        raise MissingAnalysis(study.study_instance_uid,
                              f"no nodule mask for finding(s) {', '.join(missing)}",
                              "Re-measure those findings (nodule analysis) and export again")
    scan = source.volume
    per_segment: list[tuple[list[int], np.ndarray]] = [
        frames_of(masks[n.finding_id], scan, f"mask of finding {n.finding_id}") for n in plan.nodules]
    z_all = sorted({z for zs, _ in per_segment for z in zs})
    row = {z: i for i, z in enumerate(z_all)}
    pixels = np.zeros((len(z_all), scan.shape[1], scan.shape[2], len(plan.nodules)), dtype=bool)
    for s, (zs, frames) in enumerate(per_segment):
        for z, frame in zip(zs, frames, strict=True):
            pixels[row[z], :, :, s] = frame != 0
    seg = hd.seg.Segmentation(
        source_images=source.slices(z_all),
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_describe(study, n) for n in plan.nodules],
        series_instance_uid=hd.UID(),
        series_number=identity.SEG_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=identity.MANUFACTURER,
        manufacturer_model_name=identity.MODEL_NAME,
        software_versions=identity.software_version(),
        device_serial_number=identity.device_serial(study),
        content_description="Reviewed lung nodules",
        content_creator_name=identity.person_name(study.signed_off_by or study.reviewer) or None,
        content_label="NODULES",
        omit_empty_frames=True,
    )
    seg.SeriesDescription = "NoduleLens lung nodules (SEG)"
    return seg


def _describe(study: ReviewedStudy, n: PlannedNodule) -> hd.seg.SegmentDescription:
    """AI findings: AUTOMATIC, by the detector; reviewer-added: MANUAL, no algorithm."""
    algorithm = None
    kind = hd.seg.SegmentAlgorithmTypeValues.MANUAL
    if not n.added_by_reviewer:
        kind = hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC
        name = (study.model.name or study.model.model_id) if study.model else "NoduleLens nodule analysis"
        version = study.model.version if study.model else identity.software_version()
        algorithm = hd.AlgorithmIdentificationSequence(
            name=name[:64], family=codes.cid7162.ArtificialIntelligence, version=version[:64])
    return hd.seg.SegmentDescription(
        segment_number=n.segment_number,
        segment_label=n.label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule,
        algorithm_type=kind,
        algorithm_identification=algorithm,
        tracking_uid=n.tracking_uid,
        tracking_id=n.tracking_id,
        anatomic_regions=[codes.SCT.Lung],
        display_color=hd.color.CIELabColor(*rgb_to_lab(n.colour_rgb)),
    )

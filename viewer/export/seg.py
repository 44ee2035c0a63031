"""DICOM SEG of the reported nodules: one binary segment per nodule on the source slices.

Frames are full source-size slices (only those a nodule spans), so the SEG overlays the source
series directly; each segment carries the nodule's tracking id and UID, the same as in the SR.
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
from viewer.review.model import ReviewedStudy


def build_seg(study: ReviewedStudy, source: SourceSeries, masks: Mapping[str, Volume]) -> Dataset:
    """The SEG dataset; ``masks`` maps finding id → uint8 crop Volume on the scan's grid."""
    reported = identity.reported_findings(study)
    if not reported:
        raise MissingAnalysis(study.study_instance_uid, "has no accepted or added nodule to segment",
                              "Accept or add a finding before exporting a SEG")
    missing = [r.finding_id for r in reported if r.finding_id not in masks]
    if missing:
        raise MissingAnalysis(study.study_instance_uid,
                              f"no nodule mask for finding(s) {', '.join(missing)}",
                              "Re-measure those findings (nodule analysis) and export again")
    scan = source.volume
    per_segment: list[tuple[list[int], np.ndarray]] = [
        frames_of(masks[r.finding_id], scan, f"mask of finding {r.finding_id}") for r in reported]
    z_all = sorted({z for zs, _ in per_segment for z in zs})
    row = {z: i for i, z in enumerate(z_all)}
    pixels = np.zeros((len(z_all), scan.shape[1], scan.shape[2], len(reported)), dtype=bool)
    for s, (zs, frames) in enumerate(per_segment):
        for z, frame in zip(zs, frames, strict=True):
            pixels[row[z], :, :, s] = frame != 0
    descriptions = [_describe(study, r) for r in reported]
    return hd.seg.Segmentation(
        source_images=source.slices(z_all),
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=identity.SEG_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=identity.MANUFACTURER,
        manufacturer_model_name=identity.MODEL_NAME,
        software_versions=identity.software_version(),
        device_serial_number=identity.device_serial(study),
        content_description="Reviewed lung nodules",
        content_creator_name=study.signed_off_by or study.reviewer or None,
        content_label="NODULES",
        omit_empty_frames=True,
    )


def _describe(study: ReviewedStudy, r: identity.Reported) -> hd.seg.SegmentDescription:
    algorithm = None
    if study.model is not None:
        algorithm = hd.AlgorithmIdentificationSequence(
            name=(study.model.name or study.model.model_id)[:64],
            family=codes.cid7162.ArtificialIntelligence,
            version=study.model.version[:64],
        )
    kind = (hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC
            if r.added_by_reviewer or algorithm is None
            else hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC)
    if algorithm is None:
        algorithm = hd.AlgorithmIdentificationSequence(
            name="NoduleLens nodule analysis", family=codes.cid7162.ArtificialIntelligence,
            version=identity.software_version())
    return hd.seg.SegmentDescription(
        segment_number=r.number,
        segment_label=identity.tracking_id(r.number, r.state),
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule,
        algorithm_type=kind,
        algorithm_identification=algorithm,
        tracking_uid=identity.tracking_uid(study, r.finding_id),
        tracking_id=identity.tracking_id(r.number, r.state),
        anatomic_regions=[codes.SCT.Lung],
    )

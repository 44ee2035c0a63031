"""One TID 1411 volumetric measurement group per reported nodule of the SR.

Each group holds: tracking identifier and UID (the same as the SEG segment's), finding = nodule,
finding site = lung zone with laterality, the region (a reference to the SEG segment, or else an
SCOORD3D ellipsoid around the finding), measurements in UCUM units, qualitative evaluations
(type, Lung-RADS, reviewer decision) and the algorithm that found it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from viewer.export import codes as nl
from viewer.export import identity
from viewer.export.source import SourceSeries
from viewer.review.model import ReviewedStudy


@dataclass(frozen=True, slots=True, eq=False)
class SegmentRef:
    """Where a nodule's segment lives: the SEG and the source slices of its frames."""

    seg: Dataset
    segment_number: int
    source_sop_uids: tuple[str, ...]


def segment_refs(seg: Dataset) -> dict[int, SegmentRef]:
    """segment number → reference, read from the SEG's per-frame source image references.

    (``ReferencedSegment.from_segmentation`` of highdicom 0.28 fails on one-segment SEGs.)
    """
    found: dict[int, list[str]] = {}
    shared = seg.SharedFunctionalGroupsSequence[0]
    for frame in seg.PerFrameFunctionalGroupsSequence:
        # a one-segment SEG names its segment once, in the shared functional groups
        ident = frame if "SegmentIdentificationSequence" in frame else shared
        number = int(ident.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        for d in frame.DerivationImageSequence:
            for s in d.SourceImageSequence:
                found.setdefault(number, []).append(str(s.ReferencedSOPInstanceUID))
    return {n: SegmentRef(seg, n, tuple(dict.fromkeys(uids))) for n, uids in found.items()}


def measurement_group(study: ReviewedStudy, source: SourceSeries, reported: identity.Reported,
                      segment: SegmentRef | None, saliency_map: Dataset | None, edited: bool = False
                      ) -> hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations:
    state = reported.state
    finding = state.finding
    analysis = finding.analysis
    algorithm = _algorithm(study)
    region: dict[str, Any] = {}
    if segment is not None:
        ct_class = str(source.datasets[0].SOPClassUID)
        region["referenced_segment"] = hd.sr.ReferencedSegment(
            sop_class_uid=str(segment.seg.SOPClassUID),
            sop_instance_uid=str(segment.seg.SOPInstanceUID),
            segment_number=segment.segment_number,
            source_images=[hd.sr.SourceImageForSegmentation(ct_class, uid)
                           for uid in segment.source_sop_uids],
        )
    else:
        region["referenced_volume_surface"] = hd.sr.VolumeSurface(
            graphic_type=hd.sr.GraphicTypeValues3D.ELLIPSOID,
            graphic_data=_ellipsoid(finding),
            frame_of_reference_uid=source.frame_of_reference_uid,
            source_series=hd.sr.SourceSeriesForSegmentation(source.series_instance_uid),
        )
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=identity.tracking_uid(study, finding.finding_id),
            identifier=identity.tracking_id(reported.number, state)),
        finding_type=nl.NODULE,
        finding_category=codes.SCT.MorphologicallyAbnormalStructure,
        algorithm_id=algorithm,
        finding_sites=[_site(analysis)],
        measurements=_measurements(reported, analysis, saliency_map),
        qualitative_evaluations=_evaluations(reported, analysis, edited),
        **region,
    )


def exam_group(study: ReviewedStudy) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    """The exam summary (TID 1501): nodules reported, AI findings reviewed and rejected, and the
    exam's Lung-RADS category (its most suspicious reported nodule; 1 when none is reported).
    It also makes a report with no nodule a valid TID 1500 document."""
    from inference.domain.finding import FindingSource
    from inference.nodules.lungrads import exam_lung_rads
    from viewer.review.model import FindingStatus

    reported = identity.reported_findings(study)
    ai = [s for s in study.findings if s.finding.source is FindingSource.AI]
    rejected = [s for s in ai if s.status is FindingStatus.REJECTED]
    measurements = [
        hd.sr.Measurement(nl.NODULES_REPORTED, len(reported), nl.COUNT_NODULES),
        hd.sr.Measurement(nl.AI_FINDINGS_REVIEWED, len(ai), nl.COUNT_FINDINGS),
        hd.sr.Measurement(nl.AI_FINDINGS_REJECTED, len(rejected), nl.COUNT_FINDINGS),
    ]
    evaluations = []
    analyses = [r.state.finding.analysis for r in reported]
    if all(getattr(a, "lung_rads", None) is not None for a in analyses):
        category, _ = exam_lung_rads(analyses)
        evaluations.append(hd.sr.QualitativeEvaluation(nl.LUNG_RADS, nl.LUNG_RADS_VALUE[category]))
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=identity.tracking_uid(study, "exam summary"), identifier="Exam summary"),
        finding_sites=[hd.sr.FindingSite(anatomic_location=nl.LUNG)],
        algorithm_id=_algorithm(study),
        measurements=measurements,
        qualitative_evaluations=evaluations or None,
    )


def _algorithm(study: ReviewedStudy) -> hd.sr.AlgorithmIdentification | None:
    m = study.model
    if m is None:
        return None
    params = [f"model_id={m.model_id}", f"manifest_sha256={m.manifest_sha256}"]
    if m.operating_threshold is not None:
        params.append(f"operating_threshold={m.operating_threshold:g}")
    return hd.sr.AlgorithmIdentification(name=m.name or m.model_id, version=m.version,
                                         parameters=params, manufacturer=identity.MANUFACTURER)


def _site(analysis: Any) -> hd.sr.FindingSite:
    zone = getattr(analysis, "zone", None)
    side = getattr(analysis, "side", None)
    location = nl.ZONE_SITE.get(zone, nl.LUNG)
    return hd.sr.FindingSite(anatomic_location=location, laterality=nl.LATERALITY.get(side))


def _measurements(reported: identity.Reported, analysis: Any, saliency_map: Dataset | None
                  ) -> list[hd.sr.Measurement]:
    finding = reported.state.finding
    out: list[hd.sr.Measurement] = []
    m = getattr(analysis, "measurement", None)
    if m is not None:
        out += [hd.sr.Measurement(nl.LONG_AXIS, m.long_axis_mm, nl.MM),
                hd.sr.Measurement(nl.SHORT_AXIS, m.short_axis_mm, nl.MM),
                hd.sr.Measurement(nl.MEAN_DIAMETER, m.mean_diameter_mm, nl.MM),
                hd.sr.Measurement(nl.VOLUME, m.volume_mm3, nl.MM3)]
        if m.solid_component_mm is not None:
            out.append(hd.sr.Measurement(nl.SOLID_DIAMETER, m.solid_component_mm, nl.MM))
    elif finding.diameter_mm is not None:
        out.append(hd.sr.Measurement(nl.DIAMETER, finding.diameter_mm, nl.MM))
    risk = getattr(analysis, "malignancy_risk", None)
    if risk is not None:
        out.append(hd.sr.Measurement(nl.MALIGNANCY_RISK, round(100.0 * risk, 2), nl.PERCENT))
    if reported.added_by_reviewer:
        return out  # no AI score: the detector did not find it
    images = None
    if saliency_map is not None:  # the Grad-CAM map that explains this score
        images = [hd.sr.SourceImageForMeasurement(str(saliency_map.SOPClassUID),
                                                  str(saliency_map.SOPInstanceUID))]
    out.append(hd.sr.Measurement(nl.AI_SCORE, finding.score, nl.NO_UNIT, referenced_images=images))
    return out


def _evaluations(reported: identity.Reported, analysis: Any, edited: bool
                 ) -> list[hd.sr.QualitativeEvaluation]:
    out = []
    kind = getattr(analysis, "nodule_type", None)
    if kind is not None:
        out.append(hd.sr.QualitativeEvaluation(nl.NODULE_TYPE, nl.NODULE_TYPE_VALUE[kind]))
    rads = getattr(analysis, "lung_rads", None)
    if rads is not None:
        out.append(hd.sr.QualitativeEvaluation(nl.LUNG_RADS, nl.LUNG_RADS_VALUE[rads]))
    if reported.added_by_reviewer:
        decision = nl.DECISION_ADDED
    elif edited:
        decision = nl.DECISION_EDITED
    else:
        decision = nl.DECISION_ACCEPTED
    out.append(hd.sr.QualitativeEvaluation(nl.REVIEW_DECISION, decision))
    return out


def _ellipsoid(finding: Any) -> np.ndarray:
    """Six SCOORD3D points: the ends of the three axes of the ellipsoid inscribed in the box
    (a sphere of the finding's diameter when it has one)."""
    c = np.asarray(finding.center, float)
    if finding.diameter_mm:
        half = np.full(3, finding.diameter_mm / 2)
    else:
        half = np.maximum(np.asarray(finding.box.size, float) / 2, 0.5)
    pts = []
    for axis in np.argsort(-half, kind="stable"):  # major axis first, as SCOORD3D requires
        d = np.zeros(3)
        d[axis] = half[axis]
        pts += [c - d, c + d]
    return np.asarray(pts, dtype=np.float64)

"""One TID 1411 volumetric measurement group per reported nodule of the SR, and the exam-level
qualitative evaluations.

Each nodule group holds, in this order (the same list for every nodule, so readers that build
table columns from the first group keep their columns):

- tracking identifier and UID (the UID is the SEG segment's); the identifier starts with OHIF's
  bidirectional tool tag (``Cornerstone3DTools@^0.1.0:Bidirectional``) so that OHIF restores the
  long/short axes as a bidirectional measurement, followed by the nodule's name;
- finding = nodule, finding site = lung zone with laterality, the region = the SEG segment (or an
  SCOORD3D ellipsoid when no mask exists);
- Long axis and Short axis, each INFERRED FROM an SCOORD POLYLINE (two points) on the nodule's
  key axial slice (see ``_draw_axes``); mean diameter; volume; solid component (as Lung-RADS
  reads it: the mean diameter of a solid nodule, 0 for ground-glass); probability of cancer; AI
  score (its source is the finding's saliency Parametric Map). The items that can be missing come
  last (a reviewer-added nodule has no AI score; a nodule without clinical inputs may have no
  risk): 3D Slicer fills its table by position, so a missing last item leaves an empty cell
  instead of shifting the columns. An empty NUM with a numeric value qualifier would keep the
  positions, but highdicom (which Slicer's loader uses) cannot read one back;
- qualitative evaluations: nodule type, Lung-RADS (with comparison on a follow-up), reviewer
  decision;
- on a follow-up exam (the plan's ``comparison``), after all of the above: the prior's mean
  diameter and volume, the interval, the changes and the volume doubling time, and the comparison
  (new, growing, stable, slow growth) as an evaluation (``followup_sr``); the group's tracking UID is
  then the one the nodule had on its first exam. These come after the fixed list, so Slicer's columns
  of the fixed list stay in place; a NEW nodule has none of them.

AI findings name the detector as their algorithm; reviewer-added nodules name none (the reviewer
drew them; the decision item says "Added by reviewer").
"""

from __future__ import annotations

from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from viewer.export import codes as nl
from viewer.export.followup_sr import COMPARISON, followup_evaluations, followup_measurements
from viewer.export.plan import ExportPlan, PlannedNodule
from viewer.export.source import SourceSeries
from viewer.review.model import ReviewedStudy

#: OHIF (Cornerstone3D) restores a measurement group whose tracking identifier starts with this
CORNERSTONE_BIDIRECTIONAL = "Cornerstone3DTools@^0.1.0:Bidirectional"


def sr_tracking_identifier(nodule: PlannedNodule) -> str:
    return f"{CORNERSTONE_BIDIRECTIONAL}:{nodule.tracking_id}"


def segment_source_uids(seg: Dataset) -> dict[int, tuple[str, ...]]:
    """segment number → source SOPInstanceUIDs of its frames, read from the SEG.

    (``ReferencedSegment.from_segmentation`` of highdicom 0.28 fails on one-segment SEGs.)
    """
    found: dict[int, list[str]] = {}
    shared = seg.SharedFunctionalGroupsSequence[0]
    for frame in seg.PerFrameFunctionalGroupsSequence:
        ident = frame if "SegmentIdentificationSequence" in frame else shared
        number = int(ident.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        for d in frame.DerivationImageSequence:
            for s in d.SourceImageSequence:
                found.setdefault(number, []).append(str(s.ReferencedSOPInstanceUID))
    return {n: tuple(dict.fromkeys(uids)) for n, uids in found.items()}


def measurement_group(plan: ExportPlan, source: SourceSeries, nodule: PlannedNodule,
                      seg: Dataset | None, seg_sources: tuple[str, ...],
                      saliency_map: Dataset | None
                      ) -> hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations:
    study = plan.study
    finding = nodule.state.finding
    region: dict[str, Any] = {}
    if seg is not None:
        ct_class = str(source.datasets[0].SOPClassUID)
        region["referenced_segment"] = hd.sr.ReferencedSegment(
            sop_class_uid=str(seg.SOPClassUID), sop_instance_uid=str(seg.SOPInstanceUID),
            segment_number=nodule.segment_number,
            source_images=[hd.sr.SourceImageForSegmentation(ct_class, uid) for uid in seg_sources])
    else:
        region["referenced_volume_surface"] = hd.sr.VolumeSurface(
            graphic_type=hd.sr.GraphicTypeValues3D.ELLIPSOID,
            graphic_data=_ellipsoid(finding),
            frame_of_reference_uid=source.frame_of_reference_uid,
            source_series=hd.sr.SourceSeriesForSegmentation(source.series_instance_uid),
        )
    group = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=nodule.tracking_uid,
                                                     identifier=sr_tracking_identifier(nodule)),
        finding_type=nl.NODULE,
        finding_category=codes.SCT.MorphologicallyAbnormalStructure,
        algorithm_id=None if nodule.added_by_reviewer else algorithm(study),
        finding_sites=[_site(nodule.analysis)],
        measurements=_measurements(nodule, saliency_map),
        qualitative_evaluations=_evaluations(nodule, nodule.finding_id in plan.edited),
        **region,
    )
    _draw_axes(group, source, nodule)
    return group


def exam_evaluations(plan: ExportPlan) -> hd.sr.ContainerContentItem:
    """TID 1500's "Qualitative Evaluations" container: the exam's Lung-RADS category, its
    management, and the counts (nodules reported, AI findings reviewed and rejected). Outside the
    measurement groups, so that no reader takes the exam for a nodule."""
    items: list[Any] = []
    if not plan.nodules:
        items.append(hd.sr.CodeContentItem(nl.FINDING, nl.NO_NODULE,
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    if plan.exam_lung_rads is not None:
        items.append(hd.sr.CodeContentItem(nl.LUNG_RADS, nl.LUNG_RADS_VALUE[plan.exam_lung_rads],
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    if plan.management:
        items.append(hd.sr.TextContentItem(nl.MANAGEMENT, plan.management[:1024],
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    if plan.followup is not None:
        items.append(hd.sr.TextContentItem(COMPARISON, comparison_text(plan)[:1024],
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    for concept, value, unit in ((nl.NODULES_REPORTED, len(plan.nodules), nl.COUNT_NODULES),
                                 (nl.AI_FINDINGS_REVIEWED, plan.ai_reviewed, nl.COUNT_FINDINGS),
                                 (nl.AI_FINDINGS_REJECTED, plan.ai_rejected, nl.COUNT_FINDINGS)):
        items.append(hd.sr.NumContentItem(concept, value, unit,
                                          relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    container = hd.sr.ContainerContentItem(hd.sr.CodedConcept("C0034375", "UMLS", "Qualitative Evaluations"),
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)
    container.ContentSequence = hd.sr.ContentSequence(items)
    return container


def comparison_text(plan: ExportPlan) -> str:
    """The exam's comparison in words: the prior's date, the category's basis, resolved nodules."""
    f = plan.followup
    if f is None:
        return ""
    d = f.prior_study_date
    text = f"Compared with the prior CT of {d[:4]}-{d[4:6]}-{d[6:]}"
    if plan.exam_lung_rads_reason:
        text += f"; {plan.exam_lung_rads_reason}"
    if f.resolved:
        gone = ", ".join(f"{r.prior_key} ({r.prior.mean_diameter_mm:.1f} mm)" if r.prior is not None
                         else str(r.prior_key) for r in f.resolved)
        text += f"; not found now (resolved): {gone}"
    return text + "."


def algorithm(study: ReviewedStudy) -> hd.sr.AlgorithmIdentification | None:
    m = study.model
    if m is None:
        return None
    params = [f"model_id={m.model_id}", f"manifest_sha256={m.manifest_sha256}"]
    if m.operating_threshold is not None:
        params.append(f"operating_threshold={m.operating_threshold:g}")
    return hd.sr.AlgorithmIdentification(name=m.name or m.model_id, version=m.version,
                                         parameters=params)


def _site(analysis: Any) -> hd.sr.FindingSite:
    zone: Any = getattr(analysis, "zone", None)
    side: Any = getattr(analysis, "side", None)
    location = nl.ZONE_SITE.get(zone, nl.LUNG)
    return hd.sr.FindingSite(anatomic_location=location, laterality=nl.LATERALITY.get(side))


def _draw_axes(group: Any, source: SourceSeries, nodule: PlannedNodule) -> None:
    """Attach to the Long axis and Short axis NUMs an INFERRED FROM SCOORD POLYLINE (two points,
    image coordinates of the key slice), as TID 300 does and OHIF's bidirectional reader expects.

    TID 1419 (the measurements of a TID 1411 group) lists no coordinates, so highdicom refuses
    them at construction; they are added here instead. The alternative (a separate TID 1501 group
    per nodule for the axes) makes 3D Slicer pair SR groups with SEG segments by position and
    fail, so the axes stay in the nodule's one group.
    """
    ref = source.datasets[nodule.key.z]
    wanted = {nl.LONG_AXIS.value: nodule.key.long_axis, nl.SHORT_AXIS.value: nodule.key.short_axis}
    for item in group[0].ContentSequence:
        code = item.ConceptNameCodeSequence[0].CodeValue
        if item.ValueType != "NUM" or code not in wanted or not item.MeasuredValueSequence:
            continue
        pixels = [source.volume.world_to_index(tuple(p)) for p in wanted[code]]
        # SCOORD (column, row), (0, 0) the outer corner of the first pixel: pixel centres at +0.5
        data = np.asarray([[float(p[2]) + 0.5, float(p[1]) + 0.5] for p in pixels], dtype=np.float32)
        coords = hd.sr.CoordinatesForMeasurement(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=data,
            source_image=hd.sr.SourceImageForRegion(str(ref.SOPClassUID), str(ref.SOPInstanceUID)))
        if "ContentSequence" not in item:
            item.ContentSequence = hd.sr.ContentSequence([])
        item.ContentSequence.append(coords)


def nodule_values(nodule: PlannedNodule) -> dict[str, float | None]:
    """The fixed measurement list of a nodule (None: does not apply); shared with the JSON/PDF."""
    finding = nodule.state.finding
    a = nodule.analysis
    m = getattr(a, "measurement", None)
    risk = getattr(a, "malignancy_risk", None)
    d = finding.diameter_mm
    return {
        "long_axis_mm": m.long_axis_mm if m is not None else d,
        "short_axis_mm": m.short_axis_mm if m is not None else d,
        "mean_diameter_mm": m.mean_diameter_mm if m is not None else d,
        "volume_mm3": m.volume_mm3 if m is not None else _sphere_volume(d),
        "solid_component_mm": _solid_component(a, m, d),
        "malignancy_risk_percent": None if risk is None else round(100.0 * risk, 2),
        "ai_score": None if nodule.added_by_reviewer else float(finding.score),
    }


def _sphere_volume(d: float | None) -> float | None:
    return None if d is None else round(float(np.pi / 6 * d ** 3), 1)


def _solid_component(a: Any, m: Any, d: float | None) -> float | None:
    """Solid component diameter as Lung-RADS uses it: measured for part-solid nodules, the whole
    nodule's mean diameter for solid ones, 0 for ground-glass ones."""
    from inference.domain.nodule import NoduleType

    kind = getattr(a, "nodule_type", None)
    mean = m.mean_diameter_mm if m is not None else d
    if kind is NoduleType.PART_SOLID:
        return m.solid_component_mm if m is not None else None
    if kind is NoduleType.GROUND_GLASS:
        return 0.0
    return mean


def _measurements(nodule: PlannedNodule, saliency_map: Dataset | None) -> list[hd.sr.Measurement]:
    return _fixed_measurements(nodule, saliency_map) + followup_measurements_of(nodule)


def followup_measurements_of(nodule: PlannedNodule) -> list[hd.sr.Measurement]:
    c = nodule.comparison
    return [] if c is None or c.result is None else followup_measurements(c.result)


def _fixed_measurements(nodule: PlannedNodule, saliency_map: Dataset | None) -> list[hd.sr.Measurement]:
    v = nodule_values(nodule)
    out: list[hd.sr.Measurement] = []
    for concept, key, unit in ((nl.LONG_AXIS, "long_axis_mm", nl.MM),
                               (nl.SHORT_AXIS, "short_axis_mm", nl.MM),
                               (nl.MEAN_DIAMETER, "mean_diameter_mm", nl.MM),
                               (nl.VOLUME, "volume_mm3", nl.MM3),
                               (nl.SOLID_DIAMETER, "solid_component_mm", nl.MM),
                               (nl.MALIGNANCY_RISK, "malignancy_risk_percent", nl.PERCENT)):
        value = v[key]
        if value is not None:
            out.append(hd.sr.Measurement(concept, round(float(value), 3), unit))
    if v["ai_score"] is not None:
        images = None
        if saliency_map is not None:  # the saliency map (its method in its labels) that explains this score
            images = [hd.sr.SourceImageForMeasurement(str(saliency_map.SOPClassUID),
                                                      str(saliency_map.SOPInstanceUID))]
        out.append(hd.sr.Measurement(nl.AI_SCORE, v["ai_score"], nl.NO_UNIT, referenced_images=images))
    return out


def _evaluations(nodule: PlannedNodule, edited: bool) -> list[hd.sr.QualitativeEvaluation]:
    out = []
    kind = getattr(nodule.analysis, "nodule_type", None)
    if kind is not None:
        out.append(hd.sr.QualitativeEvaluation(nl.NODULE_TYPE, nl.NODULE_TYPE_VALUE[kind]))
    if nodule.lung_rads is not None:
        out.append(hd.sr.QualitativeEvaluation(nl.LUNG_RADS, nl.LUNG_RADS_VALUE[nodule.lung_rads]))
    if nodule.added_by_reviewer:
        decision = nl.DECISION_ADDED
    elif edited:
        decision = nl.DECISION_EDITED
    else:
        decision = nl.DECISION_ACCEPTED
    out.append(hd.sr.QualitativeEvaluation(nl.REVIEW_DECISION, decision))
    c = nodule.comparison
    if c is not None and c.result is not None:  # Lung-RADS is already there, with comparison
        out += [e for e in followup_evaluations(c.result) if e[0].name != nl.LUNG_RADS]
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


"""DICOM Comprehensive 3D SR, TID 1500 Measurement Report, of a reviewed study.

- Observer context: the person (the reviewer who signed off, else the reviewer) and the device
  (the model: name, id and version as model name, manifest sha256 as serial number).
- Procedure reported: LOINC 24627-2 "CT Chest" and 99NDLNS LDCT "Low dose CT of chest".
- One TID 1411 group per accepted AI finding and per reviewer-added finding, with its long and
  short axes drawn on its key slice (sr_groups.py); the exam's Lung-RADS category, management
  and counts (nodules reported, AI findings reviewed and rejected) as the report's qualitative
  evaluations, outside the measurement groups. A study without nodules says so there.
- Image library: the key slice of every nodule.
- Evidence: every source CT instance of the reviewed series, plus the SEG and the Parametric Maps
  the SR references.
- Flags follow the real state (:func:`viewer.review.sign_off.report_state`): a signed-off study
  whose every reported finding is decided gives COMPLETE / FINAL / VERIFIED with the verifying
  observer's name, organisation and the sign-off time; any other study (not signed off, or new
  findings undecided) gives PARTIAL / PRELIMINARY / UNVERIFIED, and :class:`UnsignedExportWarning`
  is issued. The qualitative evaluations carry the read state in words (99NDLNS READSTATE),
  including a read without AI and its reason.

Rejected AI findings are not written as measurement groups. A TID 1500 measurement group states
that a finding is present, and PACS viewers, registries and research pipelines that read SRs show
or count every group as a nodule: a rejected false positive written there would be read as a
nodule. The SR counts them (qualitative evaluations: AI findings reviewed / rejected); each rejection with its
reason, reviewer and time is in the JSON export and the store's audit trail, which keep the AI's
full output for audit and evaluation without asserting it clinically.
Pending (undecided) AI findings are left out for the same reason.
"""

from __future__ import annotations

import warnings
from datetime import timezone
from collections.abc import Mapping

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from viewer.export import codes as nl
from viewer.export import identity
from viewer.export.plan import ExportPlan
from viewer.export.sr_groups import exam_evaluations, measurement_group, segment_source_uids
from viewer.export.source import SourceSeries
from viewer.review.model import ReviewedStudy
from viewer.review.sign_off import ReportState, is_signed, report_state, status_line


__all__ = ["UnsignedExportWarning", "build_sr", "is_signed"]


class UnsignedExportWarning(UserWarning):
    """The study is not signed off, or has undecided findings: the SR is written as PARTIAL,
    PRELIMINARY and UNVERIFIED."""


def build_sr(plan: ExportPlan, source: SourceSeries, seg: Dataset | None = None,
             saliency_maps: Mapping[str, Dataset] | None = None) -> Dataset:
    """The SR dataset of ``plan``. ``seg`` (from :func:`viewer.export.seg.build_seg`) and
    ``saliency_maps`` (finding id → Parametric Map) are referenced and put into the evidence."""
    study = plan.study
    saliency_maps = dict(saliency_maps or {})
    signed = report_state(study) is ReportState.FINAL
    if not signed:
        warnings.warn(f"study {study.study_instance_uid}: {status_line(study)}; the SR is marked "
                      "PARTIAL, PRELIMINARY and UNVERIFIED", UnsignedExportWarning, stacklevel=2)
    sources = segment_source_uids(seg) if seg is not None else {}
    groups: list = [measurement_group(plan, source, n, seg, sources.get(n.segment_number, ()),
                                      saliency_maps.get(n.finding_id)) for n in plan.nodules]
    placeholder = not groups  # highdicom needs a group; a report without nodules keeps none
    if placeholder:
        groups = [hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="none"))]
    report = hd.sr.MeasurementReport(
        observation_context=_observation_context(study),
        procedure_reported=[nl.CT_CHEST, nl.LOW_DOSE_CT_CHEST],
        imaging_measurements=groups,
        title=codes.cid7021.ImagingMeasurementReport,
        referenced_images=[source.datasets[n.key.z] for n in plan.nodules] or None,
    )
    root = report[0]
    evaluations = exam_evaluations(plan)
    evaluations.ContentSequence.append(hd.sr.TextContentItem(
        nl.READ_STATE, status_line(study, names=False)[:1024], relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    root.ContentSequence.append(evaluations)
    evidence = list(source.datasets)
    if seg is not None:
        evidence.append(seg)
    evidence += [saliency_maps[n.finding_id] for n in plan.nodules if n.finding_id in saliency_maps]
    person = identity.person_name(study.signed_off_by or study.reviewer)
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=root,
        series_instance_uid=hd.UID(),
        series_number=identity.SR_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=identity.MANUFACTURER,
        is_complete=signed,
        is_final=signed,
        is_verified=signed,
        institution_name=study.institution or None,
        verifying_observer_name=person if signed else None,
        verifying_organization=(study.institution or "Unknown") if signed else None,
    )
    if placeholder:  # TID 1500: Imaging Measurements may be absent when Qualitative Evaluations is there
        sr.ContentSequence = [i for i in sr.ContentSequence
                              if i.ConceptNameCodeSequence[0].CodeValue != "126010"]
    sr.SeriesDescription = "NoduleLens reviewed lung nodules"
    sr.CodingSchemeIdentificationSequence = [nl.coding_scheme_identification()]
    if signed and study.signed_off_at is not None:
        at = study.signed_off_at.astimezone(timezone.utc)
        sr.VerifyingObserverSequence[0].VerificationDateTime = at.strftime("%Y%m%d%H%M%S+0000")
    return sr


def _observation_context(study: ReviewedStudy) -> hd.sr.ObservationContext:
    person = identity.person_name(study.signed_off_by or study.reviewer) or "Unknown"
    person_ctx = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=person, organization_name=study.institution or None))
    device_ctx = None
    m = study.model
    if m is not None:
        device_ctx = hd.sr.ObserverContext(
            observer_type=codes.DCM.Device,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=identity.device_uid(m),
                name=(m.name or m.model_id)[:64],
                manufacturer_name=identity.MANUFACTURER,
                model_name=f"{m.model_id} {m.version}"[:64],
                serial_number=m.manifest_sha256[:64],
            ))
    return hd.sr.ObservationContext(observer_person_context=person_ctx,
                                    observer_device_context=device_ctx)

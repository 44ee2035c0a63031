"""The SR (TID 1500) of a reviewed LIDC-IDRI-0001 study: validity, dump, round trip per field."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import warnings

import highdicom as hd
import pydicom
import pytest
from export_helpers import NODULE_DIAMETER, dciodvfy_errors, make_study

from viewer.export import codes as nl
from viewer.export.exporter import ExportInputs, export_study
from viewer.export.identity import tracking_uid
from viewer.export.sr import UnsignedExportWarning
from viewer.export.sr_groups import CORNERSTONE_BIDIRECTIONAL


def _groups(path):
    sr = hd.sr.srread(path)
    # identifiers carry OHIF's bidirectional tool tag before the nodule's name
    groups = sr.content.get_volumetric_roi_measurement_groups()
    assert all(g.tracking_identifier.startswith(CORNERSTONE_BIDIRECTIONAL + ":") for g in groups)
    return sr, {g.tracking_identifier[len(CORNERSTONE_BIDIRECTIONAL) + 1:]: g for g in groups}


def _num(group, concept) -> tuple[float, str]:
    (m,) = group.get_measurements(name=concept)
    return float(m.value), m.unit.value


def _qual(group, concept) -> str:
    (q,) = [q for q in group.get_qualitative_evaluations() if q.name == concept]
    return q.value.value


def test_sr_passes_dciodvfy_without_errors(exported) -> None:
    assert dciodvfy_errors(exported["sr"]) == []


def test_dsrdump_dumps_the_report(exported) -> None:
    exe = shutil.which("dsrdump")
    if exe is None:
        pytest.skip("dsrdump (Debian dcmtk) is not installed; run scripts/setup.sh")
    out = subprocess.run([exe, str(exported["sr"])], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Comprehensive 3D SR" in out.stdout
    assert '"Imaging Measurement Report"' in out.stdout
    assert "Verification Flag   : VERIFIED" in out.stdout
    assert '(LR4B,99NDLNS,"Lung-RADS 4B")' in out.stdout


def test_only_accepted_and_added_findings_are_groups(exported, study) -> None:
    _, groups = _groups(exported["sr"])
    assert sorted(groups) == ["Nodule 1 (f1)", "Nodule 2 (r1)"]  # f2 was rejected
    assert {g.tracking_uid for g in groups.values()} == {tracking_uid(study, "f1"),
                                                         tracking_uid(study, "r1")}


def test_measurements_round_trip_with_ucum_units(exported, study) -> None:
    _, groups = _groups(exported["sr"])
    f1 = study.findings[0].finding.analysis.measurement
    g = groups["Nodule 1 (f1)"]
    assert _num(g, nl.LONG_AXIS) == (pytest.approx(f1.long_axis_mm), "mm")
    assert _num(g, nl.SHORT_AXIS) == (pytest.approx(f1.short_axis_mm), "mm")
    assert _num(g, nl.MEAN_DIAMETER) == (pytest.approx(f1.mean_diameter_mm), "mm")
    assert _num(g, nl.VOLUME) == (pytest.approx(f1.volume_mm3), "mm3")
    assert _num(g, nl.MALIGNANCY_RISK) == (pytest.approx(42.0), "%")
    assert _num(g, nl.AI_SCORE) == (pytest.approx(0.93), "1")
    # a solid nodule's solid component is the nodule (Lung-RADS): same list for every nodule
    assert _num(g, nl.SOLID_DIAMETER) == (pytest.approx(f1.mean_diameter_mm), "mm")
    r1 = groups["Nodule 2 (r1)"]
    solid = study.findings[2].finding.analysis.measurement.solid_component_mm
    assert _num(r1, nl.SOLID_DIAMETER) == (pytest.approx(solid), "mm")
    assert r1.get_measurements(name=nl.AI_SCORE) == []  # added by the reviewer: no AI score
    assert f1.long_axis_mm == NODULE_DIAMETER


def test_qualitative_evaluations_and_site_round_trip(exported) -> None:
    _, groups = _groups(exported["sr"])
    g, r = groups["Nodule 1 (f1)"], groups["Nodule 2 (r1)"]
    assert _qual(g, nl.NODULE_TYPE) == "SOLID" and _qual(r, nl.NODULE_TYPE) == "PARTSOLID"
    assert _qual(g, nl.LUNG_RADS) == "LR4B" and _qual(r, nl.LUNG_RADS) == "LR3"
    assert _qual(g, nl.REVIEW_DECISION) == "ACCEPTED" and _qual(r, nl.REVIEW_DECISION) == "ADDED"
    assert g.finding_type.value == "27925004"  # SCT Nodule
    site = g.finding_sites[0]
    assert site.value.value == "281393007"  # middle zone of lung
    assert site.laterality.value == "7771000"  # left
    assert r.finding_sites[0].value.value == "281394001" and r.finding_sites[0].laterality.value == "24028007"


def test_observer_context_procedure_and_scheme(exported, study) -> None:
    sr, _ = _groups(exported["sr"])
    ds = pydicom.dcmread(exported["sr"])
    items = {(i.ConceptNameCodeSequence[0].CodeMeaning): i for i in ds.ContentSequence}
    assert items["Person Observer Name"].PersonName == "Doe^Jane"
    assert items["Device Observer Name"].TextValue == "NoduleLens detector"
    assert items["Device Observer Model Name"].TextValue == "nodule-det-small 1.2.0"
    assert items["Device Observer Serial Number"].TextValue == study.model.manifest_sha256
    procedures = {i.ConceptCodeSequence[0].CodeValue for i in ds.ContentSequence
                  if i.ConceptNameCodeSequence[0].CodeMeaning == "Procedure reported"}
    assert procedures == {"24627-2", "LDCT"}
    assert [s.CodingSchemeDesignator for s in ds.CodingSchemeIdentificationSequence] == ["99NDLNS"]


def test_flags_follow_sign_off(exported) -> None:
    ds = pydicom.dcmread(exported["sr"])
    assert (ds.CompletionFlag, ds.PreliminaryFlag, ds.VerificationFlag) == ("COMPLETE", "FINAL", "VERIFIED")
    v = ds.VerifyingObserverSequence[0]
    assert v.VerifyingObserverName == "Doe^Jane" and v.VerifyingOrganization == "Test Hospital"
    assert v.VerificationDateTime.startswith("20261124103000")


def test_evidence_is_the_real_source_slices_and_the_seg_and_maps(exported, lidc1_volume) -> None:
    ds = pydicom.dcmread(exported["sr"])
    referenced = {}
    for study_item in ds.CurrentRequestedProcedureEvidenceSequence:
        for series in study_item.ReferencedSeriesSequence:
            for sop in series.ReferencedSOPSequence:
                referenced[sop.ReferencedSOPInstanceUID] = series.SeriesInstanceUID
    ct = set(lidc1_volume.info.sop_instance_uids)
    assert len(ct) == 133 and ct <= set(referenced)
    on_disk = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID
               for f in lidc1_volume.info.source_files[::20]}
    assert on_disk <= set(referenced)
    seg = pydicom.dcmread(exported["seg"], stop_before_pixels=True)
    pm = pydicom.dcmread(exported["pm_f1"], stop_before_pixels=True)
    assert referenced[seg.SOPInstanceUID] == seg.SeriesInstanceUID
    assert referenced[pm.SOPInstanceUID] == pm.SeriesInstanceUID
    # only the maps the report references are part of it: not the rejected finding's
    assert sorted(n for n in exported if n.startswith("pm_")) == ["pm_f1"]


def test_groups_reference_their_seg_segment_and_saliency_map(exported) -> None:
    _, groups = _groups(exported["sr"])
    seg = pydicom.dcmread(exported["seg"], stop_before_pixels=True)
    pm = pydicom.dcmread(exported["pm_f1"], stop_before_pixels=True)
    g = groups["Nodule 1 (f1)"]
    ref = g.referenced_segment
    assert ref.referenced_sop_instance_uid == seg.SOPInstanceUID
    assert ref.referenced_segment_numbers == [1]
    seg_frames = {f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
                  for f in seg.PerFrameFunctionalGroupsSequence
                  if f.SegmentIdentificationSequence[0].ReferencedSegmentNumber == 1}
    assert {s.referenced_sop_instance_uid for s in ref.source_images_for_segmentation} == seg_frames
    (score,) = g.get_measurements(name=nl.AI_SCORE)
    assert score.referenced_images[0].referenced_sop_instance_uid == pm.SOPInstanceUID


def test_unsigned_study_warns_and_is_not_verified(tmp_path, lidc1_volume, masks) -> None:
    unsigned = make_study(lidc1_volume, signed=False)
    with pytest.warns(UnsignedExportWarning, match="not signed off"):
        result = export_study(ExportInputs(unsigned, lidc1_volume, masks), "sr", tmp_path / "out")
    assert result.warnings and "PARTIAL" in result.warnings[0]
    ds = pydicom.dcmread(tmp_path / "out" / "sr.dcm")
    assert (ds.CompletionFlag, ds.PreliminaryFlag, ds.VerificationFlag) == ("PARTIAL", "PRELIMINARY", "UNVERIFIED")
    assert "VerifyingObserverSequence" not in ds
    assert dciodvfy_errors(tmp_path / "out" / "sr.dcm") == []


def test_without_masks_the_region_is_an_scoord3d_ellipsoid(tmp_path, study, lidc1_volume) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # signed study: no warning expected
        result = export_study(ExportInputs(study, lidc1_volume), "sr", tmp_path / "out")
    assert [p.name for p in result.files] == ["sr.dcm"]
    assert result.warnings == ("no SEG: no nodule mask for finding(s) f1, r1; the SR gives each "
                               "nodule's region as 3D coordinates",)
    path = result.files[0]
    assert dciodvfy_errors(path) == []
    _, groups = _groups(path)
    surface = groups["Nodule 1 (f1)"].roi
    assert surface.graphic_type == hd.sr.GraphicTypeValues3D.ELLIPSOID
    pts = surface.graphic_data if not isinstance(surface.graphic_data, list) else surface.graphic_data[0]
    centre = pts.reshape(-1, 3).mean(axis=0)
    assert centre == pytest.approx(study.findings[0].finding.center, abs=0.01)
    major = float(((pts[0] - pts[1]) ** 2).sum() ** 0.5)
    assert major == pytest.approx(NODULE_DIAMETER, abs=0.01)


def test_an_edited_then_accepted_finding_says_so_unless_the_edit_was_undone(tmp_path, study, lidc1_volume) -> None:
    from viewer.review.model import Decision, DecisionRecord

    t = study.signed_off_at
    edit = DecisionRecord("f1", Decision.EDITED, "Doe^Jane", t, seq=5)
    accept = DecisionRecord("f1", Decision.ACCEPTED, "Doe^Jane", t, seq=6)
    undo = DecisionRecord("f1", Decision.RESET, "Doe^Jane", t, seq=7, undoes=5)
    for decisions, expected in (([edit, accept], "EDITED"), ([edit, accept, undo], "ACCEPTED")):
        out = tmp_path / expected
        export_study(ExportInputs(study, lidc1_volume, decisions=decisions), "sr", out)
        _, groups = _groups(out / "sr.dcm")
        assert _qual(groups["Nodule 1 (f1)"], nl.REVIEW_DECISION) == expected


def _exam_items(path) -> dict[str, object]:
    """The report's Qualitative Evaluations container: concept meaning → value."""
    ds = pydicom.dcmread(path)
    (container,) = [i for i in ds.ContentSequence
                    if i.ConceptNameCodeSequence[0].CodeMeaning == "Qualitative Evaluations"]
    out: dict[str, object] = {}
    for item in container.ContentSequence:
        name = item.ConceptNameCodeSequence[0].CodeMeaning
        if item.ValueType == "NUM":
            out[name] = float(item.MeasuredValueSequence[0].NumericValue)
        elif item.ValueType == "CODE":
            out[name] = item.ConceptCodeSequence[0].CodeValue
        else:
            out[name] = item.TextValue
    return out


def test_exam_items_are_qualitative_evaluations_outside_the_groups(exported) -> None:
    sr = hd.sr.srread(exported["sr"])
    assert sr.content.get_image_measurement_groups() == []  # no exam "group" taken for a nodule
    items = _exam_items(exported["sr"])
    assert items["Nodules reported"] == 2.0
    assert items["AI findings reviewed"] == 2.0
    assert items["AI findings rejected by the reviewer"] == 1.0
    assert items["Lung-RADS v2022 category"] == "LR4B"  # the most suspicious reported nodule
    assert "Finding" not in items  # the "no nodule" finding is for empty reports only


def test_a_study_without_model_information_still_validates(tmp_path, study, lidc1_volume, masks) -> None:
    no_model = dataclasses.replace(study, model=None, institution="")
    result = export_study(ExportInputs(no_model, lidc1_volume, masks), "sr", tmp_path / "o")
    for path in result.files:
        assert dciodvfy_errors(path) == [], path.name
    ds = pydicom.dcmread(tmp_path / "o" / "sr.dcm")
    meanings = [i.ConceptNameCodeSequence[0].CodeMeaning for i in ds.ContentSequence]
    assert "Device Observer UID" not in meanings and "Person Observer Name" in meanings
    assert ds.VerifyingObserverSequence[0].VerifyingOrganization == "Unknown"

"""The export plan (computed once, read by every builder), reviewer names as DICOM person names,
and the optional per-nodule comparison with a prior that the JSON and the PDF show."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pydicom
import pytest
from export_helpers import ADDED_CENTER, NODULE_CENTER
from test_export_report import _text

from viewer.export.exporter import ExportInputs, export_study
from viewer.export.identity import person_name
from viewer.export.plan import ChangeCategory, Comparison, build_plan


@pytest.mark.parametrize(("typed", "dicom"), [
    ("Jane Doe", "Doe^Jane"), ("Doe, Jane", "Doe^Jane"), ("Dr. Jane A. Doe", "Doe^Jane^A.^Dr."),
    ("Doe^Jane", "Doe^Jane"), ("jdoe", "jdoe"), ("  Jane   Doe ", "Doe^Jane"), ("", "")])
def test_reviewer_names_become_dicom_person_names(typed, dicom) -> None:
    assert person_name(typed) == dicom


def test_plan_numbers_colours_and_key_slices(study, lidc1_volume, masks) -> None:
    plan = build_plan(study, lidc1_volume, masks)
    assert [(n.number, n.finding_id, n.added_by_reviewer) for n in plan.nodules] == [(1, "f1", False),
                                                                                     (2, "r1", True)]
    assert (plan.ai_reviewed, plan.ai_rejected, plan.exam_lung_rads.value) == (2, 1, "4B")
    assert len({n.colour_rgb for n in plan.nodules}) == 2 and len({n.tracking_uid for n in plan.nodules}) == 2
    for n, centre in zip(plan.nodules, (NODULE_CENTER, ADDED_CENTER), strict=True):
        long_axis = np.asarray(n.key.long_axis)
        assert np.linalg.norm(long_axis[0] - long_axis[1]) == pytest.approx(n.analysis.measurement.long_axis_mm)
        mid = long_axis.mean(axis=0)
        assert np.linalg.norm(mid[:2] - np.asarray(centre[:2])) < 1.5  # centred on the nodule
        z_world = lidc1_volume.index_to_world((n.key.z, 0, 0))[2]
        assert abs(z_world - centre[2]) <= 2.5  # the slice through the nodule (its largest section)
        assert n.comparison is None


def test_names_are_person_names_in_dicom_and_display_names_in_the_pdf(tmp_path, study, lidc1_volume, masks):
    typed = dataclasses.replace(study, reviewer="Jane Doe", signed_off_by="Jane Doe")
    sr_out = export_study(ExportInputs(typed, lidc1_volume, masks), "sr", tmp_path / "sr")
    sr = pydicom.dcmread(tmp_path / "sr" / "sr.dcm")
    observer = [i for i in sr.ContentSequence if i.ConceptNameCodeSequence[0].CodeMeaning == "Person Observer Name"]
    assert observer[0].PersonName == "Doe^Jane"
    assert sr.VerifyingObserverSequence[0].VerifyingObserverName == "Doe^Jane"
    seg = pydicom.dcmread(tmp_path / "sr" / "seg.dcm", stop_before_pixels=True)
    assert seg.ContentCreatorName == "Doe^Jane"
    assert len(sr_out.files) == 2
    export_study(ExportInputs(typed, lidc1_volume, masks), "pdf", tmp_path / "pdf")
    text = _text(tmp_path / "pdf" / "report.pdf")
    assert "Jane Doe" in text and "Doe^Jane" not in text


def test_a_comparison_with_a_prior_reaches_the_json_and_the_pdf(tmp_path, study, lidc1_volume, masks) -> None:
    prior = Comparison(prior_study_date="20251120", prior_long_axis_mm=19.0, change_mm=4.35,
                       volume_doubling_days=210.0, category=ChangeCategory.GROWING)
    inputs = ExportInputs(study, lidc1_volume, masks, comparisons={"f1": prior})
    doc = json.loads(export_study(inputs, "json", tmp_path / "e.json").files[0].read_text())
    f1, r1 = doc["report"]["nodules"]
    given = {"prior_study_date": "20251120", "prior_long_axis_mm": 19.0, "change_mm": 4.35,
             "volume_doubling_days": 210.0, "category": "growing"}
    assert {k: f1["comparison"][k] for k in given} == given
    assert f1["comparison"]["prior_mean_diameter_mm"] is None  # no follow-up result passed through
    assert r1["comparison"] is None
    export_study(inputs, "pdf", tmp_path / "pdf")
    text = " ".join(_text(tmp_path / "pdf" / "report.pdf").split())
    assert "prior of 2025-11-20" in text  # the comparison line of the exam block
    for token in ("growing,", "+4.3 mm,", "VDT 210 d"):  # the Change cell (wrapped in its column)
        assert token in text

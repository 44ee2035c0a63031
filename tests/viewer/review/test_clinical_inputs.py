"""Clinical inputs: stored with the study (append-only, audited), and the risk they give."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from review_fixtures import MODEL, SERIES, STUDY

from inference.domain.finding import Box3D, Finding
from inference.nodules.risk_models import BrockModel
from inference.domain.nodule import LungRads, Measurement, NoduleAnalysis, NoduleType, Side, Zone
from viewer.review.clinical import (
    InputSource, PatientInputs, Sex, SmokingStatus, input_history, load_inputs, save_inputs,
)
from viewer.review.clinical_risk import clinical_export, study_risks
from viewer.review.errors import ReviewError
from viewer.review.store import Store


def _analysis(size: float, ntype: NoduleType, zone: Zone) -> NoduleAnalysis:
    m = Measurement(size + 1, size - 1, size, size + 2, 4.19 * (size / 2) ** 3, -50.0, 80.0)
    return NoduleAnalysis(m, ntype, False, False, Side.RIGHT, zone, "", 0.05, (), LungRads.CAT_4A, "", "")


@pytest.fixture
def measured(store: Store) -> str:
    store.add_series(STUDY, SERIES, "/data/scan1", actor="screening")
    fs = [Finding("f1", (10.0, -20.0, -100.0), Box3D.around((10.0, -20.0, -100.0), 14.0), 0.95,
                  diameter_mm=12.0, analysis=_analysis(12.0, NoduleType.SOLID, Zone.UPPER)),
          Finding("f2", (40.0, -20.0, -90.0), Box3D.around((40.0, -20.0, -90.0), 8.0), 0.85,
                  diameter_mm=6.0, analysis=_analysis(6.0, NoduleType.PART_SOLID, Zone.LOWER)),
          Finding("f3", (60.0, -20.0, -90.0), Box3D.around((60.0, -20.0, -90.0), 8.0), 0.82)]
    store.record_screening(SERIES, fs, MODEL, flagged=True, highest_lung_rads=LungRads("4A"), highest_risk=0.1)
    return SERIES


def test_age_70_and_pack_years_change_the_risk_and_are_stored(store: Store, measured: str):
    study = store.reviewed_study(measured)
    before = study_risks(study.findings, PatientInputs())
    assert set(before) == {"f1", "f2"}  # f3 has no measurement: no risk
    assert before["f1"].estimate.model is BrockModel.FULL_WITHOUT_SPICULATION
    assert before["f1"].defaults_used == ("age_years", "sex", "family_history", "emphysema")

    inputs = PatientInputs(age_years=70, smoking=SmokingStatus.FORMER, pack_years=40,
                           family_history=False, emphysema_laa_percent=7.5).with_spiculation("f1", True)
    save_inputs(store, measured, inputs, actor="dr.a")

    stored = load_inputs(store, measured)
    assert stored is not None and stored.actor == "dr.a"
    assert stored.inputs == inputs and stored.inputs.pack_years == 40 and stored.inputs.age_years == 70
    assert stored.inputs.emphysema is True  # 7.5 % >= 5 %

    after = study_risks(store.reviewed_study(measured).findings, stored.inputs)
    assert after["f1"].probability > before["f1"].probability
    assert after["f1"].estimate.model is BrockModel.FULL_WITH_SPICULATION  # reader said spiculated
    assert after["f1"].defaults_used == ("sex",)
    src = dict(after["f1"].sources)
    assert src["age_years"] is InputSource.READER and src["emphysema"] is InputSource.MEASURED
    assert src["sex"] is InputSource.DEFAULT and src["spiculation"] is InputSource.READER
    assert after["f2"].estimate.model is BrockModel.FULL_WITHOUT_SPICULATION
    assert "2b; defaults: sex" in after["f1"].summary()

    audit = [a for a in store.audit_log(measured) if a.action == "clinical_inputs"]
    assert len(audit) == 1 and audit[0].actor == "dr.a"
    assert {"age_years", "pack_years", "smoking", "spiculation"} <= set(json.loads(audit[0].detail)["changed"])

    doc = clinical_export(store, store.reviewed_study(measured))
    assert doc is not None and doc["inputs"]["pack_years"] == 40 and doc["risks"]["f1"]["model"] == "2b"


def test_inputs_are_append_only_with_history(store: Store, measured: str):
    save_inputs(store, measured, PatientInputs(age_years=60), actor="dr.a")
    save_inputs(store, measured, PatientInputs(age_years=61, sex=Sex.FEMALE), actor="dr.b")
    hist = input_history(store, measured)
    assert [h.inputs.age_years for h in hist] == [60, 61]
    assert load_inputs(store, measured).inputs.sex is Sex.FEMALE
    with sqlite3.connect(store.path) as c, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        c.execute("UPDATE clinical_inputs SET inputs='{}'")


def test_header_values_and_reader_overrides_are_told_apart():
    class Info:
        patient_age_years = 64.0
        patient_sex = "M"
    p = PatientInputs.from_header(Info())
    assert p.sources()["age_years"] is InputSource.DICOM_HEADER and p.sources()["sex"] is InputSource.DICOM_HEADER
    from dataclasses import replace
    q = replace(p, age_years=70.0)
    assert q.sources()["age_years"] is InputSource.READER
    assert PatientInputs.from_dict(json.loads(json.dumps(q.to_dict()))) == q


@pytest.mark.parametrize("kwargs", [{"age_years": 0}, {"age_years": 150}, {"pack_years": -1},
                                    {"smoking": SmokingStatus.NEVER, "pack_years": 10},
                                    {"emphysema_laa_percent": 120.0}])
def test_bad_inputs_are_refused_with_a_fix(kwargs):
    with pytest.raises(ReviewError) as err:
        PatientInputs(**kwargs)
    assert err.value.fix


def test_reader_overrules_the_measured_emphysema():
    p = PatientInputs(emphysema_laa_percent=7.0, emphysema_reader=False)
    assert p.emphysema is False and p.sources()["emphysema"] is InputSource.READER
    assert PatientInputs(emphysema_laa_percent=4.9).emphysema is False
    assert PatientInputs().emphysema is None


def test_json_export_carries_the_inputs_and_risks(store: Store, measured: str, tmp_path):
    from viewer.export.from_store import export_from_store

    inputs = PatientInputs(age_years=70, smoking=SmokingStatus.CURRENT, pack_years=30).with_spiculation("f1", False)
    save_inputs(store, measured, inputs, actor="dr.a")
    export_from_store(store, measured, "json", tmp_path / "plain.json", actor="dr.a")
    doc = json.loads((tmp_path / "plain.json").read_text())
    clinical = doc["clinical"]
    assert clinical["inputs"]["age_years"] == 70 and clinical["inputs"]["pack_years"] == 30
    assert clinical["entered_by"] == "dr.a"
    assert clinical["risks"]["f1"]["model"] == "2b" and clinical["risks"]["f1"]["sources"]["age_years"] == "reader"
    assert "f3" not in clinical["risks"]  # unmeasured
    schema = json.loads((Path(__file__).resolve().parents[3] / "resources" / "schemas" / "export-v1.json").read_text())
    assert set(schema["properties"]["clinical"]["required"]) <= set(clinical)
    export_from_store(store, measured, "json", tmp_path / "deid.json", deidentify=True, actor="dr.a")
    deid = json.loads((tmp_path / "deid.json").read_text())["clinical"]
    assert deid["entered_by"].startswith("reviewer ") and deid["inputs"]["age_years"] == 70


def test_json_export_without_inputs_has_no_clinical_block(store: Store, measured: str, tmp_path):
    from viewer.export.from_store import export_from_store

    export_from_store(store, measured, "json", tmp_path / "plain.json", actor="dr.a")
    assert "clinical" not in json.loads((tmp_path / "plain.json").read_text())

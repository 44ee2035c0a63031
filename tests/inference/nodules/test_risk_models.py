"""Brock models 2b (with spiculation) and 2a (without): worked cases and the choice between them."""

import math

import pytest

from inference.nodules import ClinicalInputs, NoduleType, brock_probability
from inference.nodules.risk_models import BrockModel, choose_model, estimate_risk


def _p(logit):
    return 1.0 / (1.0 + math.exp(-logit))


def test_2b_is_the_existing_full_model():
    c = ClinicalInputs(65, "F", True, False, True)
    est = estimate_risk(size_mm=10.0, nodule_type=NoduleType.PART_SOLID, upper_lobe=True,
                        nodule_count=2, clinical=c)
    p, _ = brock_probability(size_mm=10.0, nodule_type=NoduleType.PART_SOLID, upper_lobe=True,
                             nodule_count=2, clinical=c)
    assert est.model is BrockModel.FULL_WITH_SPICULATION
    assert est.probability == pytest.approx(p, rel=1e-12)
    assert est.defaults_used == ()


def test_worked_case_2a_when_spiculation_not_assessed():
    # model 2a: 70 y: 0.0321*8 = 0.2568; male 0; family history 0.3013; emphysema 0
    # 10 mm: (1)^-0.5 - 1.58113883 = -0.58113883; * -5.6693 = +3.29465037
    # upper lobe 0.7116; solid 0; 1 nodule: -0.0803*(1-4) = +0.2409
    # -6.8071 + 0.2568 + 0.3013 + 3.29465037 + 0.7116 + 0.2409 = -2.00184963
    c = ClinicalInputs(70, "M", True, False, None)
    est = estimate_risk(size_mm=10.0, nodule_type=NoduleType.SOLID, upper_lobe=True, nodule_count=1,
                        clinical=c)
    assert est.model is BrockModel.FULL_WITHOUT_SPICULATION
    assert est.probability == pytest.approx(_p(-2.00184963), rel=1e-7)
    assert est.defaults_used == ()  # spiculation is not an input of 2a, so it is no default
    d = est.to_dict()
    assert d["model"] == "2a" and "spiculation" not in d["inputs"] and "2a" in d["model_label"]


def test_model_choice_and_defaults_named():
    assert choose_model(ClinicalInputs()) is BrockModel.FULL_WITHOUT_SPICULATION
    assert choose_model(ClinicalInputs(spiculation=False)) is BrockModel.FULL_WITH_SPICULATION
    est = estimate_risk(size_mm=8.0, nodule_type=NoduleType.GROUND_GLASS, upper_lobe=False,
                        clinical=ClinicalInputs(age_years=70))
    assert est.defaults_used == ("sex", "family_history", "emphysema")
    forced = estimate_risk(size_mm=8.0, nodule_type=NoduleType.GROUND_GLASS, upper_lobe=False,
                           clinical=ClinicalInputs(age_years=70), model=BrockModel.FULL_WITH_SPICULATION)
    assert "spiculation" in forced.defaults_used


def test_age_raises_the_risk_in_both_models():
    for spic in (None, False):
        young = estimate_risk(size_mm=12.0, nodule_type=NoduleType.SOLID, upper_lobe=False,
                              clinical=ClinicalInputs(age_years=50, spiculation=spic))
        old = estimate_risk(size_mm=12.0, nodule_type=NoduleType.SOLID, upper_lobe=False,
                            clinical=ClinicalInputs(age_years=70, spiculation=spic))
        assert old.probability > young.probability


@pytest.mark.parametrize("size", [0.0, -1.0])
def test_bad_size_refused(size):
    with pytest.raises(ValueError):
        estimate_risk(size_mm=size, nodule_type=NoduleType.SOLID, upper_lobe=False)

"""Brock (PanCan) full model: worked cases computed by hand from the published equation."""

import math

import pytest

from inference.nodules import ClinicalInputs, InvalidClinicalInput, NoduleType, brock_probability
from inference.imaging.volume import SeriesInfo


def _p(logit):
    return 1.0 / (1.0 + math.exp(-logit))


def test_reference_person_with_a_4_mm_nodule_gives_the_intercept_alone():
    # 62 y (age term 0), male (0), no family history/emphysema/spiculation, 4 mm: the size term
    # (4/10)^-0.5 - 1.58113883 = 1.58113883 - 1.58113883 = 0, solid (0), not upper lobe (0),
    # 4 nodules (count term 0) → logit = -6.7892 → p = 1/(1+e^6.7892) ≈ 0.001124
    c = ClinicalInputs(62, "M", False, False, False)
    p, used = brock_probability(size_mm=4.0, nodule_type=NoduleType.SOLID, upper_lobe=False,
                                nodule_count=4, clinical=c)
    assert used == ()
    assert p == pytest.approx(_p(-6.7892), rel=1e-9)
    assert p == pytest.approx(0.001124, abs=2e-6)


def test_worked_case_part_solid_upper_lobe_spiculated_woman():
    # 65 y: 0.0287*3 = 0.0861; female 0.6011; family history 0.2961; emphysema 0
    # 10 mm: (10/10)^-0.5 - 1.58113883 = -0.58113883; * -5.3854 = +3.12966506
    # upper lobe 0.6581; part-solid 0.377; 2 nodules: -0.0824*(2-4) = +0.1648; spiculation 0.7729
    # sum of terms = 6.08576506; logit = 6.08576506 - 6.7892 = -0.70343494 → p ≈ 0.3311
    c = ClinicalInputs(65, "F", True, False, True)
    p, _ = brock_probability(size_mm=10.0, nodule_type=NoduleType.PART_SOLID, upper_lobe=True,
                             nodule_count=2, clinical=c)
    assert p == pytest.approx(_p(-0.70343494), rel=1e-6)
    assert p == pytest.approx(0.3311, abs=1e-4)


def test_worked_case_large_ground_glass_man_with_emphysema():
    # 70 y: 0.0287*8 = 0.2296; male 0; family history 0; emphysema 0.2953
    # 25 mm: (2.5)^-0.5 = 0.63245553; - 1.58113883 = -0.94868330; * -5.3854 = +5.10903904
    # lower lobe 0; non-solid -0.1276; 1 nodule: -0.0824*(1-4) = +0.2472; no spiculation 0
    # -6.7892 + 0.2296 = -6.5596; + 0.2953 = -6.2643; + 5.10903904 = -1.15526096;
    # - 0.1276 = -1.28286096; + 0.2472 → logit = -1.03566096
    c = ClinicalInputs(70, "M", False, True, False)
    p, _ = brock_probability(size_mm=25.0, nodule_type=NoduleType.GROUND_GLASS, upper_lobe=False,
                             nodule_count=1, clinical=c)
    assert p == pytest.approx(_p(-1.03566096), rel=1e-6)


def test_unknown_inputs_use_the_documented_defaults_and_say_so():
    p_default, used = brock_probability(size_mm=8.0, nodule_type=NoduleType.SOLID,
                                        upper_lobe=False, clinical=ClinicalInputs())
    assert used == ("age_years", "sex", "family_history", "emphysema", "spiculation")
    p_explicit, used2 = brock_probability(size_mm=8.0, nodule_type=NoduleType.SOLID,
                                          upper_lobe=False,
                                          clinical=ClinicalInputs(62, "F", False, False, False))
    assert used2 == () and p_default == pytest.approx(p_explicit)
    _, used3 = brock_probability(size_mm=8.0, nodule_type=NoduleType.SOLID, upper_lobe=False,
                                 clinical=ClinicalInputs(age_years=70))
    assert "age_years" not in used3 and "sex" in used3


@pytest.mark.parametrize("small,large", [(3, 5), (5, 8), (8, 12), (12, 20), (20, 30)])
def test_larger_is_riskier(small, large):
    kw = dict(nodule_type=NoduleType.SOLID, upper_lobe=False, clinical=ClinicalInputs(60, "M"))
    assert brock_probability(size_mm=large, **kw)[0] > brock_probability(size_mm=small, **kw)[0]


def test_spiculated_upper_lobe_older_female_are_each_riskier():
    base = dict(size_mm=9.0, nodule_type=NoduleType.SOLID, upper_lobe=False, nodule_count=1)
    ref = brock_probability(**base, clinical=ClinicalInputs(60, "M", False, False, False))[0]
    assert brock_probability(**base, clinical=ClinicalInputs(60, "M", False, False, True))[0] > ref
    assert brock_probability(**{**base, "upper_lobe": True},
                             clinical=ClinicalInputs(60, "M", False, False, False))[0] > ref
    assert brock_probability(**base, clinical=ClinicalInputs(70, "M", False, False, False))[0] > ref
    assert brock_probability(**base, clinical=ClinicalInputs(60, "F", False, False, False))[0] > ref
    assert brock_probability(**{**base, "nodule_count": 6},
                             clinical=ClinicalInputs(60, "M", False, False, False))[0] < ref


def test_age_and_sex_come_from_the_dicom_header():
    c = ClinicalInputs.from_series_info(SeriesInfo(patient_age_years=71.0, patient_sex="F"),
                                        emphysema=True)
    assert (c.age_years, c.sex, c.emphysema, c.family_history) == (71.0, "F", True, None)
    assert ClinicalInputs.from_series_info(SeriesInfo(patient_sex="O")).sex is None


def test_bad_age_is_a_typed_error_that_says_what_to_do():
    with pytest.raises(InvalidClinicalInput, match="age 400"):
        ClinicalInputs(age_years=400)
    with pytest.raises(ValueError):
        brock_probability(size_mm=0.0, nodule_type=NoduleType.SOLID, upper_lobe=False)

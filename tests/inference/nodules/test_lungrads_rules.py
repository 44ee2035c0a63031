"""Lung-RADS v2022 rules: a table at and around every threshold, growth, stepped management."""

import pytest

from inference.nodules import (Growth, LungRads, NoduleType, PriorNodule, classify_nodule,
                               exam_lung_rads, growth_from_prior)
from inference.nodules.lungrads import MANAGEMENT

S, PS, GG = NoduleType.SOLID, NoduleType.PART_SOLID, NoduleType.GROUND_GLASS
B, N, G, ST = Growth.BASELINE, Growth.NEW, Growth.GROWING, Growth.STABLE
C1, C2, C3, C4A, C4B, C4X = (LungRads.CAT_1, LungRads.CAT_2, LungRads.CAT_3, LungRads.CAT_4A,
                             LungRads.CAT_4B, LungRads.CAT_4X)

# (type, mean diameter, solid component, growth, expected)
TABLE = [
    # solid, baseline: <6 → 2, 6-<8 → 3, 8-<15 → 4A, >=15 → 4B
    (S, 3.0, None, B, C2), (S, 5.9, None, B, C2), (S, 6.0, None, B, C3), (S, 7.9, None, B, C3),
    (S, 8.0, None, B, C4A), (S, 14.9, None, B, C4A), (S, 15.0, None, B, C4B), (S, 30.0, None, B, C4B),
    # solid, new: <4 → 2, 4-<6 → 3, 6-<8 → 4A, >=8 → 4B
    (S, 3.9, None, N, C2), (S, 4.0, None, N, C3), (S, 5.9, None, N, C3), (S, 6.0, None, N, C4A),
    (S, 7.9, None, N, C4A), (S, 8.0, None, N, C4B),
    # solid, growing: <8 → 4A, >=8 → 4B
    (S, 5.0, None, G, C4A), (S, 7.9, None, G, C4A), (S, 8.0, None, G, C4B),
    # part-solid, baseline: total <6 → 2; solid <6 → 3; 6-<8 → 4A; >=8 → 4B
    (PS, 5.9, 3.0, B, C2), (PS, 6.0, 2.0, B, C3), (PS, 12.0, 5.9, B, C3), (PS, 12.0, 6.0, B, C4A),
    (PS, 12.0, 7.9, B, C4A), (PS, 12.0, 8.0, B, C4B),
    # part-solid, new: total <6 → 3; solid component <4 → 4A, >=4 → 4B
    (PS, 5.9, 2.0, N, C3), (PS, 6.0, 3.9, N, C4A), (PS, 10.0, 4.0, N, C4B),
    # part-solid, growing solid component: <4 → 4A, >=4 → 4B
    (PS, 10.0, 3.9, G, C4A), (PS, 10.0, 4.0, G, C4B),
    # ground-glass: <30 → 2 (baseline, new, growing); >=30 → 3 at baseline / new, 2 when stable
    (GG, 10.0, None, B, C2), (GG, 29.9, None, B, C2), (GG, 30.0, None, B, C3),
    (GG, 29.9, None, N, C2), (GG, 30.0, None, N, C3), (GG, 25.0, None, G, C2),
    (GG, 35.0, None, ST, C2),
    # v2022 lists a >= 30 mm ground-glass nodule that is stable or slowly growing under 2
    (GG, 30.0, None, G, C2), (GG, 45.0, None, G, C2),
]


@pytest.mark.parametrize("ntype,d,solid,growth,expected", TABLE)
def test_size_thresholds(ntype, d, solid, growth, expected):
    cat, reason = classify_nodule(nodule_type=ntype, mean_diameter_mm=d,
                                  solid_component_mm=solid, growth=growth)
    assert cat is expected, reason
    assert reason


def test_table_covers_at_least_thirty_cases():
    assert len(TABLE) >= 30


def test_sizes_are_taken_to_one_decimal_as_lung_rads_reports_them():
    assert classify_nodule(nodule_type=S, mean_diameter_mm=5.96)[0] is C3  # reported 6.0
    assert classify_nodule(nodule_type=S, mean_diameter_mm=5.94)[0] is C2  # reported 5.9


@pytest.mark.parametrize("kw,expected", [
    (dict(calcified=True, nodule_type=S, mean_diameter_mm=20.0), C1),
    (dict(fat=True, nodule_type=S, mean_diameter_mm=12.0), C1),
    (dict(juxta_pleural=True, nodule_type=S, mean_diameter_mm=9.9), C2),
    (dict(juxta_pleural=True, nodule_type=S, mean_diameter_mm=10.0), C4A),
    (dict(juxta_pleural=True, nodule_type=S, mean_diameter_mm=9.0, smooth_margins=False), C4A),
    (dict(juxta_pleural=True, nodule_type=S, mean_diameter_mm=7.0, growth=G), C4A),
    (dict(juxta_pleural=True, nodule_type=PS, mean_diameter_mm=9.0, solid_component_mm=3.0), C3),
    (dict(suspicious_features=True, nodule_type=S, mean_diameter_mm=7.0), C4X),
    (dict(suspicious_features=True, nodule_type=S, mean_diameter_mm=12.0), C4X),
    (dict(suspicious_features=True, nodule_type=S, mean_diameter_mm=5.0), C2),
    (dict(growth=ST, prior_category=C3, nodule_type=S, mean_diameter_mm=7.0), C2),
    (dict(growth=ST, prior_category=C4A, nodule_type=S, mean_diameter_mm=10.0), C3),
    (dict(growth=ST, prior_category=C4B, nodule_type=S, mean_diameter_mm=16.0), C4B),
    (dict(growth=ST, nodule_type=S, mean_diameter_mm=7.0), C2),
    # v2022: a nodule that reaches a higher size category is reclassified by size, growth or not
    (dict(growth=ST, prior_category=C2, nodule_type=S, mean_diameter_mm=6.5), C3),
    (dict(growth=ST, prior_category=C2, nodule_type=S, mean_diameter_mm=5.9), C2),
    (dict(growth=ST, prior_category=C3, nodule_type=S, mean_diameter_mm=8.0), C4A),
    (dict(growth=ST, prior_category=C3, nodule_type=S, mean_diameter_mm=7.9), C2),
    (dict(growth=ST, prior_category=C4A, nodule_type=S, mean_diameter_mm=15.0), C4B),
    (dict(growth=ST, prior_category=C3, nodule_type=PS, mean_diameter_mm=12.0,
          solid_component_mm=6.0), C4A),
    (dict(growth=ST, prior_category=C3, nodule_type=PS, mean_diameter_mm=12.0,
          solid_component_mm=5.9), C2),
])
def test_benign_juxtapleural_suspicious_and_stepped_rules(kw, expected):
    cat, reason = classify_nodule(**kw)
    assert cat is expected, reason


@pytest.mark.parametrize("now,prior,expected", [
    (8.0, None, B),
    (8.0, PriorNodule(None), N),
    (8.0, PriorNodule(6.5), ST),  # +1.5 mm is not growth
    (8.1, PriorNodule(6.5), G),  # +1.6 mm is
    (6.0, PriorNodule(7.0), ST),
])
def test_growth_is_more_than_1_5_mm(now, prior, expected):
    assert growth_from_prior(now, prior) is expected


def test_growing_solid_component_of_a_part_solid_nodule():
    prior = PriorNodule(12.0, solid_component_mm=2.0)
    assert growth_from_prior(12.2, prior, solid_component_mm=4.0) is G
    assert growth_from_prior(12.2, prior, solid_component_mm=3.0) is ST


def test_exam_takes_the_most_suspicious_nodule():
    cat, reason = exam_lung_rads([(C2, "a"), (C4A, "b"), (C3, "c")])
    assert cat is C4A and "b" in reason
    assert exam_lung_rads([])[0] is C1
    assert exam_lung_rads([C2, LungRads.CAT_0])[0] is LungRads.CAT_0
    assert exam_lung_rads([C4B, C4X])[0] is C4X


def test_every_category_has_management_text():
    assert set(MANAGEMENT) == set(LungRads)
    assert "12 months" in MANAGEMENT[C2] and "6-month" in MANAGEMENT[C3]
    assert "3-month" in MANAGEMENT[C4A] and "PET/CT" in MANAGEMENT[C4B]
    assert "8 mm" in MANAGEMENT[C4A] and "tissue sampling" in MANAGEMENT[C4B]
    assert MANAGEMENT[LungRads.CAT_4X] == MANAGEMENT[C4B]
    assert "1-3 month" in MANAGEMENT[LungRads.CAT_0]


def test_negative_size_and_bad_prior_are_rejected():
    with pytest.raises(ValueError):
        classify_nodule(nodule_type=S, mean_diameter_mm=-1.0)
    with pytest.raises(ValueError):
        PriorNodule(5.0, months_ago=0)

"""Change measures and the Lung-RADS comparison rules (doubling time, noise, slow growth, stepped management)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from inference.longitudinal import TimePoint, doubling_time, slow_growth
from inference.nodules.lungrads import classify_nodule, growth_from_prior
from inference.domain.nodule import Growth, LungRads, NoduleType, PriorNodule


def test_schultz_doubling_time():
    vdt, note = doubling_time(100.0, 200.0, 365)
    assert vdt == pytest.approx(365.0)
    vdt, _ = doubling_time(100.0, 400.0, 300)
    assert vdt == pytest.approx(150.0)
    assert "Schultz" in note


@pytest.mark.parametrize("v2,word", [(110.0, "measurement noise"), (60.0, "shrank")])
def test_doubling_time_not_computable(v2, word):
    vdt, note = doubling_time(100.0, v2, 365)
    assert vdt is None and word in note and "not computable" in note
    if word == "measurement noise":
        assert "25 %" in note  # the noise it names


def test_growth_is_within_12_months():
    assert growth_from_prior(8.0, PriorNodule(6.0, months_ago=12)) is Growth.GROWING
    assert growth_from_prior(8.0, PriorNodule(6.0, months_ago=24)) is Growth.STABLE  # 1 mm a year
    assert growth_from_prior(10.0, PriorNodule(6.0, months_ago=24)) is Growth.GROWING


def test_slow_growth_over_the_timeline_is_4b():
    d = dt.date
    hist = [TimePoint(d(2022, 1, 1), 6.0), TimePoint(d(2023, 1, 1), 6.9)]
    now = TimePoint(d(2024, 1, 1), 7.8)
    assert slow_growth(hist, now)
    assert not slow_growth(hist[-1:], now)  # one interval: not "several screens"
    cat, reason = classify_nodule(nodule_type=NoduleType.SOLID, mean_diameter_mm=7.8, growth=Growth.STABLE,
                                  prior_category=LungRads.CAT_3, months_since_prior=12, slow_growth=True)
    assert cat is LungRads.CAT_4B and "slowly growing" in reason
    cat, _ = classify_nodule(nodule_type=NoduleType.GROUND_GLASS, mean_diameter_mm=12.0, growth=Growth.STABLE,
                             slow_growth=True)
    assert cat is LungRads.CAT_2  # a slowly growing ground-glass nodule stays 2


def test_stable_4a_steps_down_after_both_steps():
    kw = dict(nodule_type=NoduleType.SOLID, mean_diameter_mm=9.0, growth=Growth.STABLE,
              prior_category=LungRads.CAT_4A)
    assert classify_nodule(**kw, months_since_prior=3)[0] is LungRads.CAT_3
    assert classify_nodule(**kw, months_since_prior=24)[0] is LungRads.CAT_2
    assert classify_nodule(**kw)[0] is LungRads.CAT_3  # interval unknown: one step
    assert math.isclose(doubling_time(50.0, 100.0, 90)[0], 90.0)

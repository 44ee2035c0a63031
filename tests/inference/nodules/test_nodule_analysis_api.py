"""analyze(): typed errors, location from the lung mask, JSON form, clinical inputs from the header."""

import json

import numpy as np
import pytest
from nodule_synth import make_nodule_volume

from inference.domain import analysis_codec
from inference.imaging.volume import SeriesInfo, Volume
from inference.nodules import ClinicalInputs, NoNoduleAtSeed, PriorNodule, SeedOutsideScan, Side, Zone, analyze
from inference.imaging.lung_mask import lung_mask
from inference.nodules.location import locate


def test_point_outside_the_scan_is_a_typed_error_naming_the_scan():
    vol, c, _ = make_nodule_volume(8.0, seed=1)
    with pytest.raises(SeedOutsideScan, match="synthetic:solid:8.0.*outside the scan"):
        analyze(vol, (c[0] + 500.0, c[1], c[2]))


def test_point_on_empty_lung_is_a_typed_error_saying_what_to_do():
    vol, c, _ = make_nodule_volume(6.0, seed=1)
    with pytest.raises(NoNoduleAtSeed, match="Place the point on the nodule"):
        analyze(vol, (c[0] + 12.0, c[1] + 10.0, c[2]))


def _two_lung_body():
    """Air outside, a soft-tissue body, two lungs (x < 0: patient right) from z = 0 to 90 mm."""
    shape = (46, 60, 80)
    hu = np.full(shape, -1000.0)
    hu[:, 5:55, 5:75] = 40.0
    hu[1:45, 10:50, 10:36] = -850.0
    hu[1:45, 10:50, 44:70] = -850.0
    aff = Volume.make_affine((2.0, 2.0, 2.0), (-80.0, -60.0, 0.0))
    return Volume(hu.astype(np.int16), aff, SeriesInfo(source="body"))


def test_lung_mask_finds_both_lungs_but_not_the_outside_air():
    vol = _two_lung_body()
    lung = lung_mask(vol)
    assert lung[20, 30, 20] and lung[20, 30, 60]
    assert not lung[20, 2, 2] and not lung[20, 30, 40]


@pytest.mark.parametrize("x,z,side,zone", [(-50.0, 80.0, Side.RIGHT, Zone.UPPER),
                                           (30.0, 45.0, Side.LEFT, Zone.MIDDLE),
                                           (-50.0, 8.0, Side.RIGHT, Zone.LOWER)])
def test_side_and_zone_from_the_lung_mask(x, z, side, zone):
    vol = _two_lung_body()
    s, zn, note = locate(vol, (x, 0.0, z), lung_mask(vol))
    assert (s, zn) == (side, zone)
    assert "approximation of the lobe" in note


def test_json_names_units_and_round_trips():
    vol, c, _ = make_nodule_volume(9.0, seed=2, age=67.0, sex="M")
    a = analyze(vol, c, nodule_count=2).analysis
    d = analysis_codec.to_dict(a)
    for key in ("mean_diameter_mm", "volume_mm3", "malignancy_risk_percent", "long_axis_mm",
                "max_3d_diameter_mm", "mean_hu", "lung_rads_v2022_category", "management"):
        assert key in d
    assert d["malignancy_risk_percent"] == pytest.approx(100 * d["malignancy_risk_probability"], abs=0.01)
    assert analysis_codec.from_dict(json.loads(json.dumps(d))) == a
    # age and sex came from the header; the rest are defaults and say so
    assert "age_years" not in a.risk_defaults_used and "sex" not in a.risk_defaults_used
    assert "family_history" in a.risk_defaults_used and a.nodule_count == 2


def test_clinical_inputs_and_prior_change_risk_and_category():
    vol, c, _ = make_nodule_volume(9.0, seed=2)
    base = analyze(vol, c, clinical=ClinicalInputs(60, "M", False, False, False)).analysis
    spic = analyze(vol, c, clinical=ClinicalInputs(60, "M", False, False, True)).analysis
    assert spic.malignancy_risk > base.malignancy_risk
    assert base.lung_rads.value == "4A" and spic.lung_rads.value == "4X"
    grown = analyze(vol, c, prior=PriorNodule(6.0, months_ago=12)).analysis
    assert grown.growth.value == "growing" and grown.lung_rads.value == "4B"
    same = analyze(vol, c, prior=PriorNodule(9.0, months_ago=6)).analysis
    assert same.growth.value == "stable" and same.lung_rads.value == "2"

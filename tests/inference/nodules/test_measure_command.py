"""`nodulelens measure PATH --at X,Y,Z [--json]` on the real LIDC-IDRI-0001 scan."""

import json

import pytest

from viewer.cli import main

LIDC1_NODULE = "56.21,86.34,-115.87"


def test_measure_json_on_the_lidc_nodule(lidc1, capsys):
    assert main(["measure", str(lidc1), "--at", LIDC1_NODULE, "--json", "--age", "65"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["nodule_type"] == "solid"
    assert 20.0 < d["mean_diameter_mm"] < 35.0  # readers: 29.0-30.2 mm, LUNA16 23.35 mm
    assert d["lung_rads_v2022_category"] in ("4B", "4X")
    assert 0 < d["malignancy_risk_percent"] < 100
    assert "age_years" not in d["risk_defaults_used"]


def test_measure_text_and_bad_point(lidc1, capsys):
    assert main(["measure", str(lidc1), "--at", LIDC1_NODULE]) == 0
    out = capsys.readouterr().out
    assert "mean diameter" in out and "Lung-RADS v2022" in out
    with pytest.raises(SystemExit) as exc:
        main(["measure", str(lidc1), "--at", "1,2"])
    assert exc.value.code == 2
    assert "three numbers in world LPS mm" in capsys.readouterr().err


def test_measure_outside_the_scan_exits_2_with_the_fix(lidc1, capsys):
    assert main(["measure", str(lidc1), "--at", "900,0,0"]) == 2
    err = capsys.readouterr().err
    assert "outside the scan" in err and "inside the scan" in err

"""FROC/CPM under LUNA16 rules on hand-made cases whose figures are worked out by hand below."""

from __future__ import annotations

import numpy as np
import pytest

from inference.training.froc import Detection, FrocError, Reference, froc, plot, read_annotations, write_csv

REFS = {"A": [Reference((0.0, 0.0, 0.0), 10.0)], "B": [Reference((50.0, 0.0, 0.0), 6.0)]}
DETS = [
    Detection("A", (1.0, 0.0, 0.0), 0.9),   # hits A's nodule (1 mm <= 5 mm)
    Detection("A", (30.0, 0.0, 0.0), 0.8),  # FP
    Detection("A", (0.0, 2.0, 0.0), 0.3),   # second hit on A's nodule: neither TP nor FP
    Detection("B", (50.0, 0.0, 2.0), 0.6),  # hits B's nodule (2 mm <= 3 mm)
    Detection("B", (80.0, 0.0, 0.0), 0.7),  # FP
    Detection("B", (55.0, 0.0, 0.0), 0.5),  # 5 mm > 3 mm: FP
]


def test_cpm_by_hand_two_scans() -> None:
    # sorted entries: TP .9, FP .8, FP .7, TP .6, FP .5 ; 2 scans, 2 nodules
    # t=.9: sens .5, 0 FP/scan | t=.8: .5, .5 | t=.7: .5, 1.0 | t=.6: 1.0, 1.0 | t=.5: 1.0, 1.5
    # at 1/8, 1/4, 1/2: 0.5 ; at 1, 2, 4, 8: 1.0  -> CPM = (3*0.5 + 4*1.0) / 7 = 5.5/7
    r = froc(DETS, REFS, ["A", "B"])
    assert r.sens_at == (0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0)
    assert r.cpm == pytest.approx(5.5 / 7)
    assert r.n_nodules == 2 and r.n_scans == 2
    assert r.fps_at_threshold(0.6) == pytest.approx(1.0)
    assert r.sensitivity_at_threshold(0.65) == pytest.approx(0.5)


def test_excluded_findings_count_neither_way() -> None:
    # the FP at (80,0,0) lies in an excluded finding with diameter -1 (read as 10 mm): dropped.
    # entries: TP .9, FP .8, TP .6, FP .5 -> t=.9: .5, 0 | .8: .5, .5 | .6: 1.0, .5 | .5: 1.0, 1.0
    # at 1/8, 1/4: 0.5 ; at 1/2 .. 8: 1.0 -> CPM = (2*0.5 + 5*1.0) / 7 = 6/7
    excl = {"B": [Reference((82.0, 0.0, 0.0), -1.0)]}
    r = froc(DETS, REFS, ["A", "B"], excluded=excl)
    assert r.cpm == pytest.approx(6 / 7)


def test_a_scan_without_nodules_adds_to_the_fp_rate() -> None:
    # a third scan C with one FP at .95: entries FP .95, TP .9, FP .8, FP .7, TP .6, FP .5 over 3 scans
    # t=.95: 0, 1/3 | .9: .5, 1/3 | .8: .5, 2/3 | .7: .5, 1 | .6: 1.0, 1 | .5: 1.0, 4/3
    # at 1/8, 1/4: 0 ; 1/2: .5 ; 1, 2, 4, 8: 1.0 -> CPM = (0 + 0 + 0.5 + 4) / 7 = 4.5/7
    dets = DETS + [Detection("C", (0.0, 0.0, 0.0), 0.95)]
    r = froc(dets, REFS, ["A", "B", "C"])
    assert r.cpm == pytest.approx(4.5 / 7)


def test_missed_nodule_caps_sensitivity_and_perfect_is_one() -> None:
    r = froc([Detection("A", (0.0, 0.0, 0.0), 0.9)], REFS, ["A", "B"])
    assert r.cpm == pytest.approx(0.5)  # B's nodule never found: 0.5 at every rate
    perfect = froc([Detection("A", (0, 0, 0), 0.9), Detection("B", (50, 0, 0), 0.8)], REFS, ["A", "B"])
    assert perfect.cpm == pytest.approx(1.0)


def test_bootstrap_ci_brackets_the_estimate(tmp_path) -> None:
    r = froc(DETS, REFS, ["A", "B"], bootstrap=200, seed=1)
    lo, hi = r.cpm_ci
    assert 0.0 <= lo <= r.cpm <= hi <= 1.0
    write_csv({"m": r}, tmp_path / "froc.csv")
    plot({"m": r}, tmp_path / "froc.png")
    rows = (tmp_path / "froc.csv").read_text().splitlines()
    assert rows[-1].startswith("m,CPM,0.7857")
    assert (tmp_path / "froc.png").stat().st_size > 1000


def test_unknown_scan_and_bad_csv_raise_named_errors(tmp_path) -> None:
    with pytest.raises(FrocError, match="not among the evaluated scans"):
        froc([Detection("Z", (0, 0, 0), 0.5)], REFS, ["A"])
    bad = tmp_path / "ann.csv"
    bad.write_text("seriesuid,x,y\nA,1,2\n")
    with pytest.raises(FrocError, match="ann.csv.*LUNA16 columns"):
        read_annotations(bad)
    bad.write_text("seriesuid,coordX,coordY,coordZ,diameter_mm\nA,1,2,three,4\n")
    with pytest.raises(FrocError, match="line 2"):
        read_annotations(bad)


def test_reads_the_real_luna16_annotations(luna_annotations) -> None:
    ann = read_annotations(luna_annotations)
    assert sum(len(v) for v in ann.values()) == 1186
    uid = "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192"
    (ref,) = ann[uid]
    assert np.allclose(ref.center, (56.21, 86.34, -115.87), atol=0.01)

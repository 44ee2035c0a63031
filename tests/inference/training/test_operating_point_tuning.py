"""The blend-weight sweep used to choose an operating point on tuning scans."""

from __future__ import annotations

import numpy as np
import pytest

from inference.training.froc import Reference
from inference.training.tune import blend, main, sweep


def test_blend_is_the_weighted_geometric_mean() -> None:
    assert blend(np.array([0.64]), np.array([0.25]), 0.5)[0] == pytest.approx(0.4)
    assert blend(np.array([0.9]), np.array([0.1]), 0.0)[0] == pytest.approx(0.9)
    assert blend(np.array([0.9]), np.array([0.0]), 1.0)[0] == pytest.approx(1e-6)


def test_sweep_picks_up_what_each_score_ranks() -> None:
    # one nodule per scan at the origin; the CNN ranks it first, the blob score ranks a FP first
    refs = [Reference((0.0, 0.0, 0.0), 10.0)]
    c = np.array([[0.0, 0.0, 0.0], [50.0, 0.0, 0.0]])
    scored = [(f"s{k}", refs, c, np.array([0.9, 0.2]), np.array([0.3, 0.8])) for k in range(2)]
    t = sweep(scored, [0.0, 1.0], max_fps=0.0)
    # classical: at 1 FP/scan the nodule is found (the FP comes first), below it not
    assert t["classical"]["sens"] == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert t["classical"]["cpm"] == pytest.approx(4 / 7, abs=1e-4)
    assert t["w=0"]["cpm"] == 1.0 and t["w=0"]["threshold"] == pytest.approx(0.9)
    assert t["w=1"]["cpm"] == t["classical"]["cpm"]


def test_evaluation_seeds_are_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--model", "classical", "--phantoms", "5", "--first-seed", "0"])

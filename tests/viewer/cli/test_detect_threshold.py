"""``nodulelens detect --threshold / --floor``: a real worker on a small phantom; the findings
file records the point used and keeps the candidates down to the floor."""

from __future__ import annotations

import pytest

from inference.service.findings_file import read_findings
from viewer.cli import main
from viewer.cli.commands.detect import expected_at


def test_threshold_and_floor_reach_the_findings_file(phantom_file, tmp_path, capsys) -> None:
    phantom_file, _truth = phantom_file
    out = tmp_path / "f.json"
    code = main(["detect", str(phantom_file), "--out", str(out), "--model", "classical", "--device", "cpu",
                 "--threads", "1", "--no-analysis", "--threshold", "0.6", "--floor", "0.3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    scan = read_findings(out)
    assert scan.threshold == 0.6
    scores = [f.score for f in scan.findings]
    above = sum(s >= 0.6 for s in scores)
    assert above >= 1 and len(scores) > above and min(scores) >= 0.3
    assert f"{above} finding(s) at threshold 0.6 (+{len(scores) - above} below it, kept)" in captured.out
    assert "expected at 0.6: the model card has no operating-point table" in captured.out


def test_a_threshold_outside_0_1_is_refused(phantom_file, tmp_path, capsys) -> None:
    phantom_file, _truth = phantom_file
    with pytest.raises(SystemExit) as exc:
        main(["detect", str(phantom_file), "--out", str(tmp_path / "f.json"), "--threshold", "1.5"])
    assert exc.value.code == 2
    assert "1.5 is not a score in 0..1" in capsys.readouterr().err


def test_expected_figures_come_from_the_card() -> None:
    lines = expected_at("nodulelens-cnn-v2", 0.7)
    assert len(lines) == 2 and "sensitivity 83%" in lines[0] and "2.20 FP/scan" in lines[1]

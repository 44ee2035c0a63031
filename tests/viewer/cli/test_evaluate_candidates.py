"""`nodulelens evaluate --candidates`: an exported LUNA16 CSV scored against annotations.

Hand computation for the case below (one scan, one reference nodule): the false positive scores
0.95 and the hit 0.90. Above 0.95 nothing is kept (0 FP, sensitivity 0); at 0.95 one FP and no
hit; at 0.90 one FP and the hit. So sensitivity is 0 at 1/8, 1/4 and 1/2 FP/scan and 1 at 1, 2, 4
and 8: CPM = 4/7 = 0.571.
"""

from __future__ import annotations

from pathlib import Path

from inference.domain.finding import Box3D, Finding, ModelInfo
from viewer.cli import main
from viewer.export.luna_csv import candidate_rows, write_csv
from viewer.review.model import FindingState, FindingStatus, ReviewedStudy, StudyStatus

LIDC1_UID = "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192"
NODULE = (56.21, 86.34, -115.87)


def _exported_csv(tmp_path: Path) -> Path:
    far = (-80.0, 40.0, -150.0)
    findings = (FindingState(Finding("F1", far, Box3D.around(far, 8.0), 0.95), FindingStatus.REJECTED),
                FindingState(Finding("F2", NODULE, Box3D.around(NODULE, 24.0), 0.90), FindingStatus.ACCEPTED))
    study = ReviewedStudy("1.2.3", LIDC1_UID, "scan", StudyStatus.SIGNED_OFF, findings,
                          ModelInfo("m", "1", "ab" * 32))
    return write_csv(tmp_path / "candidates.csv", candidate_rows(study), reviewed=False)


def test_exported_candidates_load_and_score_by_luna16_rules(tmp_path, capsys, luna_annotations):
    csv_path = _exported_csv(tmp_path)
    excluded = luna_annotations.with_name("annotations_excluded.csv")
    code = main(["evaluate", "--candidates", str(csv_path), "--annotations", str(luna_annotations),
                 "--excluded", str(excluded), "--bootstrap", "0", "--out", str(tmp_path / "ev")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "candidates: 1 scans, 1 nodules, CPM 0.571" in out
    assert (tmp_path / "ev" / "froc.csv").read_text().count("candidates") == 8
    assert (tmp_path / "ev" / "froc.png").stat().st_size > 1000


def test_a_csv_without_the_luna16_columns_is_one_line_and_status_2(tmp_path, capsys, luna_annotations):
    bad = tmp_path / "bad.csv"
    bad.write_text("uid,x,y,z\n1,2,3,4\n")
    code = main(["evaluate", "--candidates", str(bad), "--annotations", str(luna_annotations)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(bad) in err and "probability" in err

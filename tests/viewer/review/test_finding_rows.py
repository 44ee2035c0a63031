"""The findings list's rows and the finding card, computed without a window."""

from __future__ import annotations

from review_fixtures import MODEL, SERIES, ai_findings

from inference.domain.finding import Box3D, Finding, FindingSource
from inference.domain.nodule import LungRads, Measurement, NoduleAnalysis, NoduleType, Zone
from viewer.review.finding_rows import COLUMNS, card_for, rows_for_findings, rows_for_study, sorted_rows
from viewer.review.model import FindingState, FindingStatus, RejectReason
from viewer.review.session import ReviewSession
from viewer.review.store import Store


def _analysis(diameter: float, rads: LungRads, risk: float) -> NoduleAnalysis:
    m = Measurement(long_axis_mm=diameter + 1, short_axis_mm=diameter - 1, mean_diameter_mm=diameter,
                    volume_mm3=500.0, max_3d_diameter_mm=diameter + 2, mean_hu=-20.0, max_hu=80.0)
    return NoduleAnalysis(measurement=m, nodule_type=NoduleType.SOLID, calcified=False, juxta_pleural=False,
                          side=None, zone=Zone.UPPER, location_note="right upper zone", malignancy_risk=risk,
                          risk_defaults_used=("age", "sex"), lung_rads=rads,
                          lung_rads_reason="solid nodule 8 to < 15 mm at baseline", management="3-month LDCT")


def test_rows_show_review_state_and_sort_numbers_as_numbers(store: Store, screened: str) -> None:
    s = ReviewSession(store, SERIES, "Dr Row")
    s.reject("f2", RejectReason.VESSEL, "branching")
    rows = rows_for_study(s.study, changes={"f1": "+2.0 mm"})
    assert [r.finding_id for r in rows] == ["f1", "f2", "f3"]  # AI findings by score
    assert len(rows[0].cells()) == len(COLUMNS) == 8
    assert rows[0].cells()[COLUMNS.index("Change")] == "+2.0 mm" and rows[1].change is None
    assert rows[1].status_text == "rejected" and rows[1].note == "vessel · branching"
    assert rows[2].cells()[COLUMNS.index("Size")] == "9.0 mm"
    by_size = sorted_rows(rows, COLUMNS.index("Size"), descending=True)
    assert [r.finding_id for r in by_size] == ["f3", "f2", "f1"]
    by_score = sorted_rows(rows, COLUMNS.index("Score"))
    assert [r.finding_id for r in by_score] == ["f3", "f2", "f1"]


def test_lung_rads_and_risk_sort_by_meaning_with_missing_values_first() -> None:
    a, b, c = ai_findings()
    findings = [a.evolve(analysis=_analysis(12.0, LungRads.CAT_4A, 0.2)),
                b.evolve(analysis=_analysis(6.0, LungRads.CAT_3, 0.05)), c]
    rows = rows_for_findings(findings)
    assert [r.lung_rads for r in rows] == ["4A", "3", None]
    assert [r.finding_id for r in sorted_rows(rows, COLUMNS.index("Lung-RADS"))] == ["f3", "f2", "f1"]
    assert [r.finding_id for r in sorted_rows(rows, COLUMNS.index("Risk"), True)] == ["f1", "f2", "f3"]
    assert rows[0].cells()[COLUMNS.index("Type")] == "solid"
    assert rows[0].cells()[COLUMNS.index("Risk")] == "20.0 %"


def test_card_names_reason_risk_inputs_score_and_operating_point() -> None:
    f = ai_findings()[0].evolve(analysis=_analysis(12.0, LungRads.CAT_4A, 0.2))
    card = dict(card_for(FindingState(f, FindingStatus.ACCEPTED), MODEL, change="new").lines)
    assert card["Size"].startswith("13.0 × 11.0 mm (mean 12.0 mm)") and "volume 500 mm³" in card["Size"]
    assert card["Type"] == "solid"
    assert card["Lung-RADS"] == "4A: solid nodule 8 to < 15 mm at baseline"
    assert "20.0 % (Brock)" in card["Risk"] and "upper lobe yes" in card["Risk"]
    assert card["Risk"].endswith("defaults used for age, sex")
    assert card["Score"] == "0.90 (operating point 0.50, model test-model 1.0)"
    assert card["Change"] == "new" and card["Location"] == "upper zone"
    added = Finding("reviewer-1", (0.0, 0.0, 0.0), Box3D.around((0.0, 0.0, 0.0), 10.0), 1.0, FindingSource.REVIEWER)
    lines = dict(card_for(FindingState(added, FindingStatus.ACCEPTED), MODEL).lines)
    assert lines["Score"] == "added by the reviewer" and lines["Size"].startswith("not measured")
    assert lines["Risk"] == "not computed"

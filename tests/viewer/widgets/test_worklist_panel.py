"""The worklist panel: rows from the store's worklist view, sorting, filters, next study."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from inference.domain.nodule import LungRads
from viewer.review.model import StudyStatus
from viewer.review.read_models import WorklistRow
from viewer.widgets.worklist_panel import WorklistPanel

pytestmark = pytest.mark.gui


def _row(uid: str, patient: str, flagged: bool, rads: str | None, risk: float | None,
         status: StudyStatus = StudyStatus.NEW, reviewer: str = "") -> WorklistRow:
    return WorklistRow(study_uid=f"1.{uid}", series_uid=f"1.{uid}.1", scan_path=f"/scans/{uid}",
                       patient_id=patient, description="", screen_state="screened", screen_error="",
                       flagged=flagged, highest_lung_rads=LungRads(rads) if rads else None,
                       highest_risk=risk, n_findings=2,
                       status=status, reviewer=reviewer)


ROWS = [_row("1", "P-ann", True, "4A", 0.20), _row("2", "P-bob", False, "2", 0.01),
        _row("3", "P-cyd", True, "3", 0.05, StudyStatus.SIGNED_OFF, "Dr Ada"),
        _row("4", "P-dee", False, None, None, StudyStatus.IN_REVIEW, "Dr Bea")]


def test_sort_filter_and_next_study(qtbot) -> None:
    panel = WorklistPanel()
    qtbot.addWidget(panel)
    panel.set_rows(ROWS)
    assert [r.patient_id for r in panel.visible_rows()] == ["P-ann", "P-bob", "P-cyd", "P-dee"]
    panel.view.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # highest risk first
    assert [r.patient_id for r in panel.visible_rows()] == ["P-ann", "P-cyd", "P-bob", "P-dee"]
    panel.view.sortByColumn(2, Qt.SortOrder.AscendingOrder)   # Lung-RADS, none first
    assert [r.patient_id for r in panel.visible_rows()] == ["P-dee", "P-bob", "P-cyd", "P-ann"]
    panel.flagged.setChecked(True)
    assert {r.patient_id for r in panel.visible_rows()} == {"P-ann", "P-cyd"}
    panel.flagged.setChecked(False)
    qtbot.keyClicks(panel.search, "bea")                      # matches the reviewer
    assert [r.patient_id for r in panel.visible_rows()] == ["P-dee"]
    panel.search.clear()
    panel.state.setCurrentIndex(panel.state.findData(StudyStatus.SIGNED_OFF))
    assert [r.patient_id for r in panel.visible_rows()] == ["P-cyd"]
    panel.state.setCurrentIndex(0)
    panel.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert panel.next_after("1.1.1").patient_id == "P-bob"
    assert panel.next_after("1.2.1").patient_id == "P-dee"   # P-cyd is signed off
    assert panel.next_after("1.4.1").patient_id == "P-ann"   # wraps around


def test_enter_on_a_row_asks_to_open_it(qtbot) -> None:
    panel = WorklistPanel()
    qtbot.addWidget(panel)
    panel.set_rows(ROWS)
    panel.show()
    qtbot.waitExposed(panel)
    panel.view.setFocus()
    panel.select("1.2.1")
    with qtbot.waitSignal(panel.open_requested) as sig:
        qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert sig.args[0].patient_id == "P-bob"

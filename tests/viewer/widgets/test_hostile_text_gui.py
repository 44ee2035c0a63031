"""Hostile text stays text (real Xvfb): markup in DICOM headers, folder names, reviewer names and
messages is shown literally by every label, dialog, tooltip and table of the viewer.

Each case checks the rendered result, not only the call: the label's format is plain and its text
holds the tags; a grab() of it has none of the red of ``<font color=red>`` and none of the magenta
of the PNG that ``<img src=...>`` would load; a tooltip is shown by Qt's own tooltip and read back.
The worst cases are saved as screenshots to ``$NODULELENS_SCREENS`` when that is set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QLabel, QToolTip, QWidget

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.nodule import LungRads
from viewer.messages import Source
from viewer.review.finding_rows import FindingCard
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_phantom_dicom import small_phantom, write_ct_series  # noqa: E402 (after the path it needs)
from qt_text import tip_text  # noqa: E402

pytestmark = pytest.mark.gui

H1 = "<h1><font color=red>XXXXXXXX</font></h1>"
LINK = "<a href=http://example.com/>click</a>"
#: a folder name cannot hold "/": markup that opens tags only
FOLDER = "<h1><font color=red>XXXXXXXX"
MAGENTA = (255, 0, 255)
MODEL = ModelInfo("classical", "1.0", "cd" * 32, operating_threshold=0.5)


@pytest.fixture()
def png(tmp_path) -> Path:
    """A real PNG of one distinctive colour: if any widget loads it, its pixels show up."""
    img = QImage(48, 48, QImage.Format.Format_RGB32)
    img.fill(QColor(*MAGENTA))
    path = tmp_path / "m.png"
    assert img.save(str(path))
    return path


def img_tag(png: Path) -> str:
    return f"<img src={png}>"


def pixels(widget: QWidget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    data = np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return data[:, : 3 * w].reshape(h, w, 3).astype(int)


def count_red(rgb: np.ndarray) -> int:
    return int(((rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)).sum())


def count_magenta(rgb: np.ndarray) -> int:
    return int(((rgb[..., 0] > 230) & (rgb[..., 1] < 40) & (rgb[..., 2] > 230)).sum())


def assert_literal(label: QLabel, *texts: str) -> None:
    """Plain format, the markup in the text, no red heading and no loaded image on screen."""
    assert label.textFormat() == Qt.TextFormat.PlainText
    for t in texts:
        assert t in label.text()
    label.adjustSize()
    rgb = pixels(label)
    assert count_red(rgb) == 0 and count_magenta(rgb) == 0


def shown_tip(qtbot, tip: str) -> QLabel:
    """Show ``tip`` with Qt's own tooltip and return the label it drew."""
    QToolTip.showText(QPoint(40, 40), tip)
    labels: list[QLabel] = []

    def found() -> bool:
        labels[:] = [w for w in QApplication.topLevelWidgets()
                     if w.metaObject().className() == "QTipLabel" and w.isVisible()]
        return bool(labels)

    qtbot.waitUntil(found, timeout=3000)
    return labels[0]


def assert_tip_literal(qtbot, tip: object, text: str) -> None:
    assert isinstance(tip, str)
    assert tip_text(tip) == text
    label = shown_tip(qtbot, tip)
    rgb = pixels(label)
    QToolTip.hideText()
    assert count_red(rgb) == 0 and count_magenta(rgb) == 0


def save_screen(widget: QWidget, name: str) -> None:
    folder = os.environ.get("NODULELENS_SCREENS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


def hostile_series(tmp_path: Path, png: Path) -> tuple[Path, str, str]:
    """A real DICOM CT series in a folder named with markup, its PatientName and SeriesDescription
    markup too."""
    folder = tmp_path / FOLDER
    study, series = write_ct_series(small_phantom().volume, folder, "P-HOSTILE")
    for f in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(f)
        ds.PatientName = f"<b>{img_tag(png)}"[:64]
        ds.SeriesDescription = H1
        ds.save_as(f, enforce_file_format=True)
    return folder, study, series


@pytest.mark.filterwarnings("ignore:The value length:UserWarning")  # a CS value that long is the point
@pytest.mark.parametrize("where", ["folder name", "modality"])
def test_error_dialog_shows_markup_from_a_folder_name_or_header_literally(window, qtbot, tmp_path, where):
    """The "Cannot open scan" dialog on a folder named with markup (the loader names the folder),
    and on a series whose Modality is markup (the loader names the modality)."""
    if where == "folder name":
        folder, shown = tmp_path / FOLDER, FOLDER
        folder.mkdir()
        (folder / "notes.txt").write_text("not a scan")
    else:
        folder, shown = tmp_path / "scan", "<H1><FONT COLOR=RED>MR"  # the loader upper-cases a CS value
        write_ct_series(small_phantom().volume, folder, "P-MOD")
        for f in folder.glob("*.dcm"):
            ds = pydicom.dcmread(f)
            ds.Modality = "<h1><font color=red>MR"
            ds.save_as(f)
    window.open_path(folder)
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=30000)
    box = window.error_dialog
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert shown in box.text()
    label = box.findChild(QLabel, "qt_msgbox_label")
    assert_literal(label, shown)
    save_screen(box, f"cannot-open-scan-{where.replace(' ', '-')}.png")
    box.close()


def test_main_window_review_and_worklist_keep_hostile_text_literal(window, qtbot, tmp_path, png):
    from viewer.controllers.review_setup import install_review

    folder, study, series = hostile_series(tmp_path, png)
    store = Store(tmp_path / "store.db")
    store.add_series(study, series, str(folder), actor="screening", patient_id=H1, patient_name=H1,
                     description=H1)
    center = (0.0, 0.0, 0.0)
    store.record_screening(series, [Finding("f1", center, Box3D.around(center, 10.0), 0.9)], MODEL,
                           flagged=True, highest_lung_rads=LungRads.CAT_4A, highest_risk=0.2)
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer(img_tag(png))
    try:
        c = install_review(window, store, settings)
        # the reviewer's name in the status bar: literal, the PNG is not loaded
        assert_literal(c.status_label, img_tag(png))
        # the worklist: scan path (a markup folder) as tooltip, patient id as a cell
        model = c.worklist.model
        assert model.data(model.index(0, 1)) == H1
        assert_tip_literal(qtbot, model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole), str(folder))
        with qtbot.waitSignal(window.volume_loaded, timeout=60000):
            c.open_series(str(folder), series)
        qtbot.waitUntil(lambda: c.session is not None)
        assert window.windowTitle() == f"NoduleLens — {H1}"
        # a notice naming the reviewer (the review panel) and the study line of the findings list
        c.notice(f"Signed off by {img_tag(png)}. {H1}")
        assert_literal(c.panel.notice, img_tag(png), H1)
        assert_literal(window.findings_list.study_label, "finding(s)")
        window.show()
        save_screen(window, "main-window-hostile.png")
        for part in (window.statusBar(), window.findings_list, c.worklist):  # the VTK views may draw magenta
            assert count_magenta(pixels(part)) == 0 and count_red(pixels(part)) == 0
    finally:
        store.close()


def test_messages_tab_lists_markup_literally_with_a_literal_tooltip(window, qtbot, png):
    text = f"{H1} {img_tag(png)} {LINK}"
    window.post_message(Source.LOADER, text, context=FOLDER)
    panel = window.messages_panel
    item = panel.item(panel.count() - 1)
    assert text in item.text() and FOLDER in item.text()
    assert_tip_literal(qtbot, item.toolTip(), text)


def test_finding_card_and_findings_list_tooltip(window, qtbot, png):
    card = FindingCard(title=H1, lines=(("Comment", img_tag(png)), (LINK, "x")))
    window.finding_card.show_card(card)
    assert_literal(window.finding_card.title, H1)
    assert_literal(window.finding_card.values["Comment"], img_tag(png))
    labels = [w for w in window.finding_card.findChildren(QLabel) if w.text() == LINK]
    assert labels and all(lb.textFormat() == Qt.TextFormat.PlainText for lb in labels)


def test_findings_list_note_tooltip_is_literal(qtbot, png):
    import dataclasses

    from viewer.review.finding_rows import rows_for_study
    from viewer.review.model import FindingState, FindingStatus, ReviewedStudy, StudyStatus
    from viewer.widgets.findings_list import FindingsList

    center = (0.0, 0.0, 0.0)
    state = FindingState(Finding("f1", center, Box3D.around(center, 8.0), 0.9), FindingStatus.PENDING)
    study = ReviewedStudy("1.2", "1.2.3", "/scan", StudyStatus.IN_REVIEW, (state,))
    rows = [dataclasses.replace(r, note=f"{H1}{img_tag(png)}") for r in rows_for_study(study)]
    widget = FindingsList()
    qtbot.addWidget(widget)
    widget.set_rows(rows)
    tip = widget.model.data(widget.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert_tip_literal(qtbot, tip, f"{H1}{img_tag(png)}")


def test_series_chooser_shows_folder_description_and_modality_literally(qtbot, png):
    from types import SimpleNamespace

    from viewer.widgets.series_chooser import SeriesChooser

    cands = [SimpleNamespace(uid="1", description=H1, slice_count=3, thickness_mm=1.0, orientation=None,
                             modality=LINK)]
    dialog = SeriesChooser(FOLDER, cands, "1", reason=f"{img_tag(png)} is the axial CT")
    qtbot.addWidget(dialog)
    dialog.show()
    labels = dialog.findChildren(QLabel)
    assert_literal(next(lb for lb in labels if FOLDER in lb.text()), FOLDER)
    assert_literal(next(lb for lb in labels if "Suggested" in lb.text()), img_tag(png))
    assert dialog.table.item(0, 0).text() == H1 and dialog.table.item(0, 4).text() == LINK
    assert count_red(pixels(dialog)) == 0 and count_magenta(pixels(dialog)) == 0


def test_followup_view_header_and_reason_tooltips(qtbot, png):
    import datetime as dt

    from inference.longitudinal.types import PairStatus
    from viewer.review.followup_rows import FollowupRow
    from viewer.widgets.followup_view import FollowupView

    vol = small_phantom().volume
    row = FollowupRow("f1", PairStatus.MATCHED, "8.0 mm", "6.0 mm", "+2.0 mm", "300 d", "4A",
                      f"{H1} {img_tag(png)}", tuple(float(v) for v in vol.index_to_world((20, 48, 48))),
                      (dt.date(2023, 1, 1), dt.date(2024, 1, 1)), (6.0, 8.0), (None, None))
    view = FollowupView(vol, vol, [row], f"Patient {H1}")
    qtbot.addWidget(view)
    view.show()
    assert_literal(view.header, H1)
    assert_tip_literal(qtbot, view.table.item(0, 0).toolTip(), row.reason)
    view.select(0)
    assert_literal(view.reason, H1, img_tag(png))


def test_pacs_dialog_results_and_message_are_literal(qtbot, tmp_path, png):
    from viewer.pacs.config import LocalAE, PacsConfig
    from viewer.pacs.query import SeriesHit, StudyHit
    from viewer.widgets.pacs_dialog import QueryPacsDialog

    config = PacsConfig(LocalAE(ae_title="NODULELENS", archive=str(tmp_path / "archive")), ())
    dialog = QueryPacsDialog(config, None)
    qtbot.addWidget(dialog)
    dialog.show()
    hit = StudyHit("1.2", H1, img_tag(png), "20240101", description=LINK, modalities="CT",
                   series=(SeriesHit("1.2.3", "CT", H1),))
    dialog.bridge.found.emit([hit])
    top = dialog.results.topLevelItem(0)
    assert [top.text(i) for i in (1, 2, 4)] == [H1, img_tag(png), LINK]
    dialog.bridge.found.emit(RuntimeError(f"association refused by {H1}"))
    assert_literal(dialog.message, H1)
    assert count_magenta(pixels(dialog)) == 0


def test_reviewer_dialog_and_patient_panel_labels_are_plain(qtbot):
    from viewer.widgets.patient_panel import PatientPanel
    from viewer.widgets.reviewer_dialog import ReviewerDialog

    dialog = ReviewerDialog(H1)
    qtbot.addWidget(dialog)
    assert dialog.problem.textFormat() == Qt.TextFormat.PlainText
    panel = PatientPanel()
    qtbot.addWidget(panel)
    panel.set_laa(None, f"not measured: {H1}")
    assert_literal(panel.emphysema_measured, H1)
    assert tip_text(panel.emphysema_measured.toolTip()) == f"not measured: {H1}"


def test_the_pixel_checks_see_markup_when_qt_renders_it(qtbot, png):
    """The checks above can fail: the same markup as rich text draws red and loads the PNG."""
    from viewer.widgets.plain_text import plain_tip, rich_label

    label = rich_label(f"{H1}{img_tag(png)}")
    qtbot.addWidget(label)
    label.adjustSize()
    rgb = pixels(label)
    assert count_red(rgb) > 0 and count_magenta(rgb) > 0
    assert tip_text(H1) != H1 and tip_text(plain_tip(H1)) == H1
    assert plain_tip("a < b, 2 > 1") == "a < b, 2 > 1"  # what Qt shows as plain stays unchanged

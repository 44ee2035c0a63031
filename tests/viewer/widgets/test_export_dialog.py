"""File ▸ Export… on a real window and store: the study on screen is exported off the GUI thread,
the export is audited, and a scan whose files moved gives a message naming them."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from inference.domain.finding import Box3D, Finding, ModelInfo
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store
from viewer.controllers.export import install_export
from viewer.widgets.export_dialog import ExportDialog
from viewer.controllers.review_setup import install_review

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_phantom_dicom import small_phantom, write_ct_series

pytestmark = pytest.mark.gui


@pytest.fixture()
def opened(window, qtbot, tmp_path):
    phantom = small_phantom()
    study, series = write_ct_series(phantom.volume, tmp_path / "scan", "PEXP")
    c = phantom.nodules[0].center
    store = Store(tmp_path / "store.db")
    store.add_series(study, series, str(tmp_path / "scan"), actor="screening", patient_id="PEXP")
    store.record_screening(series, [Finding("f1", c, Box3D.around(c, 12.0), 0.9)],
                           ModelInfo("classical", "1.0", "cd" * 32), flagged=True,
                           highest_lung_rads=None, highest_risk=None)
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Export")
    review = install_review(window, store, settings)
    exporter = install_export(window, review)
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        window.open_path(str(tmp_path / "scan"))
    qtbot.waitUntil(lambda: review.session is not None)
    yield exporter, store, series, tmp_path
    store.close()


def test_json_export_of_the_study_on_screen_is_written_and_audited(qtbot, opened):
    exporter, store, series, tmp_path = opened
    out = tmp_path / "out.json"
    with qtbot.waitSignal(exporter.done, timeout=60000):
        assert exporter.export("json", str(out))
    doc = json.loads(out.read_text())
    assert [f["id"] for f in doc["findings"]] == ["f1"]
    assert "Exported 1 file(s)" in exporter.window.statusBar().currentMessage()
    assert any(e.action == "export" and e.actor == "Dr Export" for e in store.audit_log(series))


def test_an_existing_export_is_kept_unless_replace_is_ticked(qtbot, opened):
    import os
    import stat

    from PySide6.QtCore import Qt

    exporter, store, series, tmp_path = opened
    out = tmp_path / "again.json"
    out.write_text("an earlier export")
    with qtbot.waitSignal(exporter.done, timeout=60000):
        assert exporter.export("json", str(out))
    qtbot.waitUntil(lambda: getattr(exporter, "last_message", None) is not None)
    message = exporter.last_message
    assert message.textFormat() == Qt.TextFormat.PlainText
    assert str(out) in message.text() and "already exists" in message.text()
    assert out.read_text() == "an earlier export"
    with qtbot.waitSignal(exporter.done, timeout=60000):
        assert exporter.export("json", str(out), force=True)  # the dialog's "Replace an existing export"
    assert json.loads(out.read_text())["findings"][0]["id"] == "f1"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_moved_source_files_are_named_in_a_message_and_the_app_keeps_running(qtbot, opened):
    exporter, store, series, tmp_path = opened
    shutil.move(str(tmp_path / "scan"), str(tmp_path / "moved"))
    with qtbot.waitSignal(exporter.done, timeout=60000):
        exporter.export("seg", str(tmp_path / "seg.dcm"))
    qtbot.waitUntil(lambda: getattr(exporter, "last_message", None) is not None)
    assert str(tmp_path / "scan") in exporter.last_message.text()
    assert exporter.window.isVisible() and not (tmp_path / "seg.dcm").exists()


def test_the_dialog_proposes_a_file_or_folder_per_format(qtbot, tmp_path):
    dialog = ExportDialog(tmp_path, "study")
    qtbot.addWidget(dialog)
    for fmt, expected in (("json", "study-json.json"), ("sr", "study-sr"), ("csv", "study-csv.csv")):
        dialog.format.setCurrentIndex(dialog.format.findData(fmt))
        assert Path(dialog.out.text()) == tmp_path / expected
        assert dialog.reviewed.isEnabled() == (fmt == "csv")
    assert not dialog.replace.isChecked()  # overwriting is never the default

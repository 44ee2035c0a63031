"""Sign-off on a real X server: Ctrl+Return refuses a scan the AI never screened (said in the panel
and in Messages), Review > Sign off without AI asks for the reason in a plain-text dialog."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from viewer.controllers.review_setup import install_review
from viewer.messages import Level
from viewer.review.model import ReadMode, StudyStatus
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_phantom_dicom import small_phantom, write_ct_series

pytestmark = pytest.mark.gui
REASON = "<img src=/etc/passwd> PACS down, <b>urgent</b>"


@pytest.fixture()
def unscreened(tmp_path):
    """A phantom CT registered in the store as the viewer does with `open --no-detect`: no detection."""
    study, series = write_ct_series(small_phantom().volume, tmp_path / "scan", "PNODET")
    store = Store(tmp_path / "store.db")
    store.add_series(study, series, str(tmp_path / "scan"), actor="Dr Key", patient_id="PNODET")
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Key")
    yield store, series, settings
    store.close()


def test_sign_off_without_detection_is_refused_then_signed_off_without_ai(window, qtbot, unscreened) -> None:
    store, series, settings = unscreened
    c = install_review(window, store, settings)
    c.current_model = "classical"
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        c.open_series(str(store.series_row(series)["scan_path"]), series)
    qtbot.waitUntil(lambda: c.session is not None)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)

    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Return
    assert c.session.status is not StudyStatus.SIGNED_OFF
    assert "has not been screened by the AI (model 'classical')" in c.panel.notice.text()
    warned = [m for m in window.messages.messages if m.level is Level.WARNING and "not been screened" in m.text]
    assert len(warned) == 1 and warned[0].context == series
    assert "sign_off" not in [a.action for a in store.audit_log(series)]

    c.actions["sign_off_without_ai"].trigger()
    qtbot.waitUntil(lambda: c.dialog is not None and c.dialog.isVisible())
    dialog = c.dialog
    assert dialog.explain.textFormat() is Qt.TextFormat.PlainText
    assert "has not been screened by the AI" in dialog.explain.text()
    assert not dialog.ok.isEnabled()  # no reason, no sign-off
    dialog.reason.setPlainText("   ")
    assert not dialog.ok.isEnabled()
    dialog.reason.setPlainText(REASON)
    assert dialog.ok.isEnabled() and dialog.reason.toPlainText() == REASON  # plain text: the markup is kept as typed
    dialog.ok.click()
    qtbot.waitUntil(lambda: c.session.status is StudyStatus.SIGNED_OFF)

    study = Store(store.path, read_only=True).reviewed_study(series)
    assert study.read_mode is ReadMode.WITHOUT_AI and study.read_without_ai_reason == REASON
    row = [a for a in store.audit_log(series) if a.action == "sign_off"][-1]
    assert row.actor == "Dr Key" and json.loads(row.detail)["reason"] == REASON
    assert json.loads(row.detail)["detection"] == "detection has not run"

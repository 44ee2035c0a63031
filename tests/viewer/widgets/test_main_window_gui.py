"""The main window on a real X server: loading, errors, findings, linked views, layouts."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.review.model import FindingStatus
from viewer.scene.capture import grab
from viewer.demo_truth import truth_findings

pytestmark = pytest.mark.gui


def test_bad_folder_shows_an_error_and_the_app_keeps_running(window, qtbot, tmp_path, small_demo):
    bad = tmp_path / "not-a-scan"
    bad.mkdir()
    (bad / "notes.txt").write_text("no DICOM here")
    window.open_path(bad)
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=20000)
    assert str(bad) in window.error_dialog.text()
    assert window.volume is None
    window.error_dialog.accept()
    window.set_volume(small_demo.volume)  # still alive and usable
    assert window.volume is small_demo.volume
    qtbot.waitUntil(lambda: not window.loader.busy)  # the thread has ended


def test_open_path_loads_off_the_gui_thread(window, qtbot, example_nifti):
    with qtbot.waitSignal(window.volume_loaded, timeout=60000) as sig:
        window.open_path(example_nifti)
        assert window.loader.busy  # returned at once; the thread is reading
    assert sig.args[0] is window.volume
    assert window.volume.shape == (112, 101, 122)


def test_findings_table_jumps_all_views(window, qtbot, small_demo):
    window.set_volume(small_demo.volume)
    findings = truth_findings(small_demo.nodules)
    statuses = {findings[0].finding_id: FindingStatus.ACCEPTED}
    window.set_findings(findings, statuses)
    assert window.findings_list.row_count() == len(findings)
    with qtbot.waitSignal(window.finding_selected) as sig:
        window.findings_list.select_row(2)
    assert sig.args == [findings[2].finding_id]
    for view in window.scene.views.values():
        assert abs(view.plane.to_plane(findings[2].center)[2]) <= view.step_mm / 2
    window.actions_by_name["next_finding"].trigger()
    assert window.scene.selected == findings[3].finding_id
    window.actions_by_name["previous_finding"].trigger()
    window.actions_by_name["previous_finding"].trigger()
    assert window.scene.selected == findings[1].finding_id
    with pytest.raises(KeyError, match="no finding"):
        window.select_finding("nope")


def test_click_in_a_view_moves_the_others_and_reports_the_point(window, qtbot, small_demo):
    from PySide6.QtCore import QPoint, Qt

    window.set_volume(small_demo.volume)
    target = small_demo.nodules[0].center
    window.scene.views["axial"].set_cursor(target)
    qtbot.wait(50)
    widget = window.view_widget("axial")
    x, y = window.scene.views["axial"].world_to_display(target)
    ratio = widget._getPixelRatio()
    pos = QPoint(int(round(x / ratio)), int(round(widget.height() - 1 - y / ratio)))
    with qtbot.waitSignal(window.world_point_clicked) as sig:
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    world = np.asarray(sig.args[0])
    assert np.allclose(world[:2], target[:2], atol=2.5)  # within a pixel or two of 2 mm
    for name in ("coronal", "sagittal"):
        view = window.scene.views[name]
        assert abs(view.plane.to_plane(world)[2]) <= view.step_mm / 2


def test_render_requests_are_coalesced(window, qtbot, small_demo):
    with qtbot.waitSignal(window.view_widget("3d")._still.timeout, timeout=20000):  # the 3D full-quality frame
        window.set_volume(small_demo.volume)
    qtbot.waitUntil(lambda: window.scheduler.idle)
    before = window.scheduler.render_count
    for _ in range(5):
        window.scene.scroll("axial", 1)  # each requests all three slice views
    assert window.scheduler.pending == 3
    qtbot.waitUntil(lambda: window.scheduler.pending == 0)
    assert window.scheduler.render_count - before == 3


def test_menus_are_not_duplicated_and_add_action_reuses_them(window):
    from PySide6.QtGui import QAction

    names = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert names == ["File", "View", "Window", "Navigate"]
    extra = QAction("Extra", window)
    window.add_action("File", extra)
    assert [a.text().replace("&", "") for a in window.menuBar().actions()] == names
    assert extra in window.menuBar().actions()[0].menu().actions()


def test_keys_and_layouts(window, qtbot, small_demo):
    from viewer.scene.presets import Preset

    window.set_volume(small_demo.volume)
    window.actions_by_name["preset_bone"].trigger()
    assert window.scene.window == Preset.BONE.window
    assert window.scene.views["axial"].image.GetProperty().GetColorWindow() == Preset.BONE.window.width
    window.actions_by_name["slab"].trigger()
    assert window.scene.views["coronal"].slab_mm == 10.0 and window.controls.slab_box.isChecked()
    idx0 = window.scene.views["axial"].slice_index()[0]
    window.actions_by_name["slice_up"].trigger()
    assert window.scene.views["axial"].slice_index()[0] == idx0 + 1
    window.set_layout("axial3d")
    assert window.view_widget("3d").isVisible() and not window.view_widget("coronal").isVisible()
    window.set_layout("single")
    assert [n for n in ("axial", "coronal", "sagittal", "3d") if window.view_widget(n).isVisible()] == ["axial"]
    with pytest.raises(ValueError, match="unknown layout"):
        window.set_layout("3x3")


def test_demo_toggle_draws_truth_boxes(window, qtbot, small_demo):
    window._loaded(small_demo)
    assert window.controls.demo_box.isEnabled() and window.controls.demo_box.text() == "Demo: phantom truth"
    window.controls.demo_box.setChecked(True)
    assert len(window.findings) == len(small_demo.nodules)
    assert window.scene.saliency is not None
    window.select_finding(window.findings[1].finding_id)
    qtbot.waitUntil(lambda: window.scheduler.pending == 0)
    img = grab(window.view_widget("axial").GetRenderWindow())
    r, g, b = (img[..., i].astype(int) for i in range(3))
    assert ((r > 230) & (g > 190) & (g < 240) & (b < 40)).sum() > 20  # yellow box pixels on screen
    window.controls.demo_box.setChecked(False)
    assert window.findings == () and window.scene.saliency is None

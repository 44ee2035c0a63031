"""The main window's menus and keyboard shortcuts. Each action calls one scene or window method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from viewer.scene.presets import Preset
from viewer.scene.scene import SLICE_NAMES

if TYPE_CHECKING:
    from viewer.main_window import MainWindow


def _action(win: "MainWindow", text: str, shortcut: str | QKeySequence | None, slot: Callable[[], None],
            tip: str = "") -> QAction:
    a = QAction(text, win)
    if shortcut:
        a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setStatusTip(tip)
    a.triggered.connect(lambda _checked=False: slot())
    return a


def _scroll(win: "MainWindow", steps: int) -> None:
    if win.volume is not None:
        name = win.active_view if win.active_view in SLICE_NAMES else "axial"
        win.scene.scroll(name, steps)


def _open_dialog(win: "MainWindow") -> None:
    path = QFileDialog.getExistingDirectory(win, "Open a DICOM folder")
    if path:
        win.open_path(path)


def _open_file_dialog(win: "MainWindow") -> None:
    path, _ = QFileDialog.getOpenFileName(win, "Open a scan file", "",
                                          "Scans (*.dcm *.nii *.nii.gz *.mhd *.mha);;All files (*)")
    if path:
        win.open_path(path)


def _toggle_saliency(win: "MainWindow") -> None:
    visible = not win.scene.saliency_visible
    win.scene.set_saliency_visible(visible)
    win.controls.show_saliency_visible(visible)


def _toggle_slab(win: "MainWindow") -> None:
    win.scene.toggle_slab()
    win.controls.show_slab(win.scene.slab_mm)


def _preset(win: "MainWindow", preset: Preset) -> None:
    win.scene.apply_preset(preset)
    win.controls.show_window(preset.window)


def install_actions(win: "MainWindow") -> dict[str, QAction]:
    """Create the menus and shortcuts and wire the display controls; returns actions by name."""
    acts: dict[str, QAction] = {}

    def add(menu: str, name: str, action: QAction) -> None:
        win.add_action(menu, action)
        acts[name] = action

    add("&File", "open_folder", _action(win, "Open folder…", QKeySequence.StandardKey.Open, lambda: _open_dialog(win)))
    add("&File", "open_file", _action(win, "Open file…", "Ctrl+Shift+O", lambda: _open_file_dialog(win)))
    add("&File", "open_demo", _action(win, "Open demo phantom", None, win.open_demo))
    add("&File", "quit", _action(win, "Quit", QKeySequence.StandardKey.Quit, win.close))
    for name, label, key in (("2x2", "2×2", "F5"), ("single", "Single view", "F6"), ("axial3d", "Axial + 3D", "F7")):
        add("&View", f"layout_{name}", _action(win, f"Layout: {label}", key, lambda n=name: win.set_layout(n)))
    add("&View", "fit", _action(win, "Fit to window", "F", win.scene.fit))
    add("&View", "reset_3d", _action(win, "Reset 3D camera", "R", lambda: (
        win.scene.view3d and win.scene.view3d.reset_camera(), win.scene.render(["3d"]))))
    for p in Preset:
        add("&Window", f"preset_{p.name.lower()}",
            _action(win, f"{p.label} (W {p.window.width:g} / L {p.window.level:g})", p.key,
                    lambda p=p: _preset(win, p)))
    add("&Window", "slab", _action(win, "Thick-slab MIP on/off", "M", lambda: _toggle_slab(win)))
    add("&Window", "saliency", _action(win, "Saliency on/off", "H", lambda: _toggle_saliency(win)))
    for name, key, steps in (("slice_up", "Up", 1), ("slice_down", "Down", -1),
                             ("page_up", "PgUp", 10), ("page_down", "PgDown", -10)):
        add("&Navigate", name, _action(win, f"Slice {name.replace('_', ' ')}", key, lambda s=steps: _scroll(win, s)))
    add("&Navigate", "next_finding", _action(win, "Next finding", "N", lambda: win.step_finding(1)))
    add("&Navigate", "previous_finding", _action(win, "Previous finding", "P", lambda: win.step_finding(-1)))

    c = win.controls
    c.preset_chosen.connect(lambda p: _preset(win, p))
    c.slab_changed.connect(win.scene.set_slab)
    c.saliency_visible_changed.connect(win.scene.set_saliency_visible)
    c.saliency_opacity_changed.connect(win.scene.set_saliency_opacity)
    c.saliency_all_changed.connect(win.scene.set_saliency_all)
    c.demo_toggled.connect(win.show_demo_truth)
    return acts

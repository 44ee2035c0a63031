"""The main window's menus: each action calls one method of an :class:`ActionTarget`.

The target is described here as a protocol (the main window satisfies it), so this module does
not import the window and the window imports it: the dependency points one way. Keys are not
set here: :class:`viewer.key_bindings.KeyBinder` binds them by action name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from viewer.scene.presets import Preset


class ActionTarget(Protocol):
    """What the window's menus act on."""

    def add_action(self, menu_name: str, action: QAction, name: str | None = None) -> None: ...
    def open_folder_dialog(self) -> None: ...
    def open_file_dialog(self) -> None: ...
    def open_demo(self) -> None: ...
    def close(self) -> bool: ...
    def set_layout(self, name: str) -> None: ...
    def fit_views(self) -> None: ...
    def zoom_to_finding(self) -> None: ...
    def reset_3d(self) -> None: ...
    def apply_preset(self, preset: Preset) -> None: ...
    def toggle_slab(self) -> None: ...
    def toggle_saliency(self) -> None: ...
    def scroll_active(self, steps: int) -> None: ...
    def step_finding(self, step: int) -> None: ...


def make_action(parent: QWidget, text: str, slot: Callable[[], object], tip: str = "") -> QAction:
    a = QAction(text, parent)
    if tip:
        a.setStatusTip(tip)
    a.triggered.connect(lambda _checked=False: slot())
    return a


def install_actions(win: ActionTarget, parent: QWidget) -> None:
    """Create the window's menus (File, View, Window, Navigate); keys come from the key map."""
    def add(menu: str, name: str, text: str, slot: Callable[[], object], tip: str = "") -> None:
        win.add_action(menu, make_action(parent, text, slot, tip), name)

    add("&File", "open_folder", "Open folder…", win.open_folder_dialog)
    add("&File", "open_file", "Open file…", win.open_file_dialog)
    add("&File", "open_demo", "Open demo phantom", win.open_demo)
    add("&File", "quit", "Quit", win.close)
    for name, label in (("2x2", "2×2"), ("single", "Single view"), ("axial3d", "Axial + 3D")):
        add("&View", f"layout_{name}", f"Layout: {label}", partial(win.set_layout, name))
    add("&View", "fit", "Fit to window", win.fit_views)
    add("&View", "zoom_to_finding", "Zoom to the selected finding", win.zoom_to_finding)
    add("&View", "reset_3d", "Reset 3D camera", win.reset_3d)
    for p in Preset:
        add("&Window", f"preset_{p.name.lower()}", f"{p.label} (W {p.window.width:g} / L {p.window.level:g})",
            partial(win.apply_preset, p))
    add("&Window", "slab", "Thick-slab MIP on/off", win.toggle_slab)
    add("&Window", "saliency", "Saliency on/off", win.toggle_saliency)
    for name, steps in (("slice_up", 1), ("slice_down", -1), ("page_up", 10), ("page_down", -10)):
        add("&Navigate", name, f"Slice {name.replace('_', ' ')}", partial(win.scroll_active, steps))
    add("&Navigate", "next_finding", "Next finding", lambda: win.step_finding(1))
    add("&Navigate", "previous_finding", "Previous finding", lambda: win.step_finding(-1))

"""What the window's View, Window and Navigate menus do to the display (part of
:class:`viewer.main_window.MainWindow`, which satisfies :class:`viewer.actions.ActionTarget`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QWidget

from viewer.scene.presets import Preset
from viewer.scene.scene import SLICE_NAMES, VIEW_3D

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar

    from inference.imaging.volume import Volume
    from viewer.scene.scene import Scene
    from viewer.widgets.display_controls import DisplayControls


class DisplayCommands:
    """Mixed into the main window: the menu commands that only touch the scene and the controls."""

    scene: Scene
    controls: DisplayControls
    active_view: str

    if TYPE_CHECKING:
        @property
        def volume(self) -> Volume | None: ...
        def open_path(self, path: str, series_uid: str | None = None) -> None: ...
        def statusBar(self) -> QStatusBar: ...
        def show_demo_truth(self, on: bool) -> None: ...

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self._parent(), "Open a DICOM folder")
        if path:
            self.open_path(path)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent(), "Open a scan file", "",
                                              "Scans (*.dcm *.nii *.nii.gz *.mhd *.mha);;All files (*)")
        if path:
            self.open_path(path)

    def fit_views(self) -> None:
        self.scene.fit()

    def reset_3d(self) -> None:
        if self.scene.view3d is not None:
            self.scene.view3d.reset_camera()
        self.scene.render([VIEW_3D])

    def apply_preset(self, preset: Preset) -> None:
        self.scene.apply_preset(preset)
        self.controls.show_window(preset.window)

    def toggle_slab(self) -> None:
        self.scene.toggle_slab()
        self.controls.show_slab(self.scene.slab_mm)

    def toggle_saliency(self) -> None:
        visible = not self.scene.saliency_visible
        self.scene.set_saliency_visible(visible)
        self.controls.show_saliency_visible(visible)

    def scroll_active(self, steps: int) -> None:
        if self.volume is not None:
            self.scene.scroll(self.active_view if self.active_view in SLICE_NAMES else "axial", steps)

    def _wire_controls(self) -> None:
        c = self.controls
        c.preset_chosen.connect(self.apply_preset)
        c.slab_changed.connect(self.scene.set_slab)
        c.saliency_visible_changed.connect(self.scene.set_saliency_visible)
        c.saliency_opacity_changed.connect(self.scene.set_saliency_opacity)
        c.saliency_all_changed.connect(self.scene.set_saliency_all)
        c.demo_toggled.connect(self.show_demo_truth)

    def zoom_to_finding(self) -> None:
        """Centre and zoom every slice view on the selected finding (F fits the whole slice again)."""
        box = next((b for b in self.scene.boxes if b.key == self.scene.selected), None)
        if box is None:
            self.statusBar().showMessage("Select a finding first (N / P), then zoom to it.", 5000)
            return
        self.scene.zoom_to(box.lo, box.hi)

    def _parent(self) -> QWidget | None:
        return self if isinstance(self, QWidget) else None

"""The main window: assembles the four views, the docks and the menus. Logic lives in the scene
(:mod:`viewer.scene`), the actions (:mod:`viewer.actions`) and the packages they call.

Public API (for the review, worklist and detection work):

- ``open_path(path, series_uid=None)`` — load a scan off the GUI thread (progress bar; a chooser
  when the folder holds several series; an error dialog on bad input, the app keeps running).
- ``open_demo()`` — load the built-in demo phantom (enables the "Demo: phantom truth" toggle).
- ``set_volume(volume)`` — show a loaded :class:`~inference.imaging.Volume`; emits ``volume_loaded``.
- ``volume`` — the scan on screen (or None).
- ``set_findings(findings, statuses=None)`` — boxes on every view and rows in the findings table;
  ``statuses`` maps finding id → :class:`~viewer.review.model.FindingStatus` (default PENDING).
- ``select_finding(finding_id)`` — highlight it and move every view to it; emits ``finding_selected``.
- ``set_saliency(volume | None)`` — a float32 0..1 Volume on any grid as a heat map.
- ``add_dock(widget, title, area)`` → QDockWidget; ``add_action(menu_name, action)``.
- ``set_layout(name)`` — '2x2', 'single' (the active view) or 'axial3d'.
- signals ``volume_loaded(object)``, ``finding_selected(str)``, ``world_point_clicked(object)``
  (an (x, y, z) LPS mm numpy array; for the add-nodule tool).
- box editing with the mouse, off until the review turns it on: with ``box_editing`` a left-drag
  on the selected finding's outline in a slice view moves it (inside) or resizes it (edges,
  corners) and emits ``box_edited(finding_id, Box3D)`` on release; with ``box_drawing`` (the
  add-nodule tool) a left-drag elsewhere draws a box and emits ``box_drawn(Box3D)``. The outline
  follows the mouse; Esc cancels. The slice views show the new box until the next
  ``set_findings``; ``cancel_box_preview()`` puts the stored boxes back. Geometry:
  :mod:`viewer.scene.box_edit`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QGridLayout, QMainWindow, QMessageBox, QProgressBar, QWidget

from inference.domain.finding import Finding
from inference.imaging.volume import Volume
from viewer.review.model import FindingStatus
from viewer.scene.overlays2d import BoxOverlay
from viewer.scene.scene import SLICE_NAMES, VIEW_3D, Scene
from viewer.scene.scheduler import RenderScheduler
from viewer.widgets.display_controls import DisplayControls
from viewer.widgets.findings_table import FindingsTable
from viewer.widgets.loader import Loader
from viewer.widgets.series_chooser import SeriesChooser
from viewer.widgets.vtk_view import BoxMouse, SliceWidget, VolumeWidget

#: grid cells (row, column) of each view in the 2x2 layout
GRID = {"axial": (0, 0), "coronal": (0, 1), "sagittal": (1, 0), VIEW_3D: (1, 1)}
LAYOUT_NAMES = ("2x2", "single", "axial3d")


class MainWindow(QMainWindow):
    volume_loaded = Signal(object)
    finding_selected = Signal(str)
    world_point_clicked = Signal(object)
    box_edited = Signal(str, object)  # finding id, new Box3D
    box_drawn = Signal(object)  # Box3D

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("NoduleLens")
        self.setAcceptDrops(True)
        self.scheduler = RenderScheduler(self)
        self._views: dict[str, SliceWidget | VolumeWidget] = {}
        central = QWidget()
        self._grid = QGridLayout(central)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        for name in SLICE_NAMES:
            w = SliceWidget(name, lambda: self.scene, central)
            w.on_click = self._clicked
            self._views[name] = w
        self._views[VIEW_3D] = VolumeWidget(lambda: self.scene, central)
        self.box_editing = False  # the review turns these on
        self.box_drawing = False
        self.box_mouse = BoxMouse(self)
        for name in SLICE_NAMES:
            self._views[name].box_tool = self.box_mouse
        for name, w in self._views.items():
            w.activated.connect(self._activate)
        self.setCentralWidget(central)
        self.scene = Scene({n: w.GetRenderWindow() for n, w in self._views.items()}, self.scheduler)
        self.active_view = "axial"
        self.layout_name = "2x2"
        self.set_layout("2x2")

        self.findings_table = FindingsTable()
        self.findings_table.finding_clicked.connect(self.select_finding)
        self.controls = DisplayControls()
        self.add_dock(self.findings_table, "Findings", Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_dock(self.controls, "Display", Qt.DockWidgetArea.RightDockWidgetArea)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)

        self.loader = Loader(self)
        self.loader.progress.connect(self._progress)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self.show_error)
        self.loader.several_series.connect(self._choose_series)
        self.loader.finished.connect(self.progress.hide)
        self._loading_path = ""
        self.error_dialog: QMessageBox | None = None
        self.series_dialog: SeriesChooser | None = None
        self.findings: tuple[Finding, ...] = ()
        self.statuses: dict[str, FindingStatus] = {}
        self.demo_nodules: tuple = ()

        from viewer.actions import install_actions

        self.actions_by_name: dict[str, QAction] = install_actions(self)
        self.controls.show_window(self.scene.window)
        self.resize(1500, 950)

    # -- public API ----------------------------------------------------------------------------
    @property
    def volume(self) -> Volume | None:
        return self.scene.volume

    def open_path(self, path: str | Path, series_uid: str | None = None) -> None:
        """Load a scan off the GUI thread; see the module docstring."""
        self._loading_path = str(path)
        self._start_progress(f"Opening {path}")
        self.loader.start(str(path), series_uid)

    def open_demo(self) -> None:
        """Load the built-in demo phantom off the GUI thread."""

        def job(progress):
            from inference.phantom import demo_phantom

            progress(0.1, "building the demo phantom")
            return demo_phantom()

        self._loading_path = "demo"
        self._start_progress("Building the demo phantom")
        self.loader.start_job(job)

    def set_volume(self, volume: Volume) -> None:
        self.demo_nodules = ()
        self.controls.demo_box.setChecked(False)
        self.controls.demo_box.setEnabled(False)
        self.findings, self.statuses = (), {}
        self.findings_table.set_findings(())
        self.scene.set_volume(volume, with_3d=False)  # slices first: on screen at the next frame
        QTimer.singleShot(0, lambda: self._show_3d(volume))
        info = volume.info
        title = info.series_description or info.source or "scan"
        self.setWindowTitle(f"NoduleLens — {title}")
        self.statusBar().showMessage(
            f"{volume.shape[2]}x{volume.shape[1]}x{volume.shape[0]} voxels, "
            "spacing {:.2f} x {:.2f} x {:.2f} mm".format(*volume.spacing_xyz), 8000)
        for warning in info.warnings:
            self.statusBar().showMessage(f"Warning: {warning}", 15000)
        self.volume_loaded.emit(volume)

    def set_findings(self, findings: Sequence[Finding], statuses: dict[str, FindingStatus] | None = None) -> None:
        self.findings = tuple(findings)
        self.statuses = dict(statuses or {})
        self.findings_table.set_findings(self.findings, self.statuses)
        self.scene.set_boxes(
            BoxOverlay(f.finding_id, f.box.lo, f.box.hi, self.statuses.get(f.finding_id, FindingStatus.PENDING))
            for f in self.findings
        )
        if self.scene.selected in {f.finding_id for f in self.findings}:
            self.scene.select(self.scene.selected)
            self.findings_table.show_selected(self.scene.selected)

    def select_finding(self, finding_id: str) -> None:
        if finding_id not in {f.finding_id for f in self.findings}:
            raise KeyError(f"no finding {finding_id!r} on screen")
        self.scene.select(finding_id)
        self.findings_table.show_selected(finding_id)
        self.finding_selected.emit(finding_id)

    def step_finding(self, step: int) -> None:
        """Next (+1) / previous (-1) finding in table order, wrapping around."""
        ids = self.findings_table.finding_ids
        if not ids:
            return
        cur = ids.index(self.scene.selected) if self.scene.selected in ids else (-1 if step > 0 else 0)
        self.select_finding(ids[(cur + step) % len(ids)])

    def set_saliency(self, volume: Volume | None) -> None:
        self.scene.set_saliency(volume)

    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def add_action(self, menu_name: str, action: QAction) -> None:
        """Add ``action`` to the menu called ``menu_name`` (created when missing)."""
        plain = menu_name.replace("&", "")
        menu = next((m.menu() for m in self.menuBar().actions() if m.text().replace("&", "") == plain), None)
        if menu is None:
            menu = self.menuBar().addMenu(menu_name)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work wherever the focus is

    def set_layout(self, name: str) -> None:
        if name not in LAYOUT_NAMES:
            raise ValueError(f"unknown layout {name!r}; choose one of {', '.join(LAYOUT_NAMES)}")
        self.layout_name = name
        shown = {"2x2": list(GRID), "single": [self.active_view], "axial3d": ["axial", VIEW_3D]}[name]
        for n, w in self._views.items():
            self._grid.removeWidget(w)
            w.setVisible(n in shown)
        for i, n in enumerate(shown):
            pos = GRID[n] if name == "2x2" else (0, i)
            self._grid.addWidget(self._views[n], *pos)
        self.scene.fit()

    def cancel_box_preview(self) -> None:
        """Show the stored boxes again in the slice views (after a drag nobody applied)."""
        self.box_mouse.show(self.scene.boxes)

    def view_widget(self, name: str) -> SliceWidget | VolumeWidget:
        return self._views[name]

    # -- demo ----------------------------------------------------------------------------------
    def show_demo_truth(self, on: bool) -> None:
        """Findings and a Gaussian-blob saliency from the demo phantom's true nodules."""
        from viewer.scene.demo_truth import gaussian_saliency, truth_findings

        if on and self.demo_nodules and self.volume is not None:
            self.set_findings(truth_findings(self.demo_nodules))
            self.set_saliency(gaussian_saliency(self.volume, self.demo_nodules))
        else:
            self.set_findings(())
            self.set_saliency(None)

    # -- internals -----------------------------------------------------------------------------
    def _activate(self, name: str) -> None:
        self.active_view = name

    def _show_3d(self, volume: Volume) -> None:
        """The 3D copy is built after the first slices are on screen."""
        if self.scene.volume is volume and self.scene.view3d is not None and not self.scheduler.stopped:
            self.scene.view3d.set_volume(volume)
            self.scene.view3d.set_boxes(self.scene.view3d_boxes())
            self.scene.render([VIEW_3D])  # a fast first frame at interactive quality ...
            self._views[VIEW_3D].refine_later()  # ... and full quality right after

    def _clicked(self, world: np.ndarray) -> None:
        self.world_point_clicked.emit(np.asarray(world, float))

    def _start_progress(self, message: str) -> None:
        self.progress.setValue(0)
        self.progress.show()
        self.statusBar().showMessage(message)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(100 * fraction)))
        if message:
            self.statusBar().showMessage(message)

    def _loaded(self, result: object) -> None:
        nodules = getattr(result, "nodules", None)
        volume = getattr(result, "volume", result)
        self.set_volume(volume)  # type: ignore[arg-type]
        if nodules is not None:
            self.demo_nodules = tuple(nodules)
            self.controls.demo_box.setEnabled(bool(nodules))

    def show_error(self, error: BaseException) -> None:
        """A non-blocking error dialog; the app keeps running."""
        self.progress.hide()
        self.statusBar().showMessage("Could not open the scan", 10000)
        box = QMessageBox(QMessageBox.Icon.Critical, "Cannot open scan", str(error), QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error-dialog")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.error_dialog = box
        box.open()

    def _choose_series(self, error) -> None:
        from inference.imaging import choose_series

        candidates = list(getattr(error, "series", ()) or ())
        if not candidates:
            self.show_error(error)
            return
        pick, reason = choose_series(candidates)
        dialog = SeriesChooser(self._loading_path, candidates, pick.uid, reason, self)
        self.series_dialog = dialog
        path = self._loading_path

        def done(result: int) -> None:
            chosen = dialog.chosen()
            if result and chosen is not None:
                self.open_path(path, chosen.uid)

        dialog.finished.connect(done)
        dialog.open()

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])

    def closeEvent(self, ev) -> None:  # noqa: N802
        self.loader.wait(10000)
        self.scheduler.stop()
        for w in self._views.values():
            w.Finalize()
        super().closeEvent(ev)

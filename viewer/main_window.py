"""The main window: assembles the four views, the docks and the menus. Logic lives in the scene
(:mod:`viewer.scene`), the actions (:mod:`viewer.actions`) and the packages they call.

Public API (for the review, worklist and detection work):

- ``open_path(path, series_uid=None)`` — load a scan off the GUI thread (progress bar; a chooser
  when the folder holds several series; an error dialog on bad input, the app keeps running).
- ``open_demo()`` — load the built-in demo phantom (enables the "Demo: phantom truth" toggle).
- ``set_volume(volume)`` — show a loaded :class:`~inference.imaging.Volume`; emits ``volume_loaded``.
- ``volume`` — the scan on screen (or None).
- ``set_findings(findings, statuses=None)`` — boxes on every view and rows in the findings list;
  ``statuses`` maps finding id → :class:`~viewer.review.model.FindingStatus` (default PENDING).
  ``findings_list`` (the one findings table; ``set_rows``, ``set_changes``) and ``finding_card``
  (``show_finding_card(state, model)``) are the docks a review or a follow-up fills in.
- ``set_operating_point(threshold | None, BelowPoint)`` — AI findings scoring below the reader's
  point are drawn dimmed or left out; ``shown_findings()`` / ``below_operating_point(finding)`` tell
  a findings list which rows to show and which to dim. ``findings_shown`` is emitted after each change.
- ``select_finding(finding_id)`` — highlight it and move every view to it; emits ``finding_selected``.
- ``zoom_to_finding()`` — centre and zoom every slice view on the selected finding's box.
- ``messages`` — the :class:`~viewer.messages.MessageLog` shown in the Messages dock;
  ``post_message(source, text, level)`` adds one (loader and worker warnings, review notices).
- ``keys`` — the :class:`~viewer.key_bindings.KeyBinder`; ``add_action(menu, action, name)``
  binds a named action's keys from the key map (``[keys]`` in the settings).
- ``set_saliency(volume | None)`` — a float32 0..1 Volume on any grid as a heat map.
- ``add_dock(widget, title, area)`` → QDockWidget; ``add_tab_dock(widget, title)`` tabs it beside
  Display; ``add_action(menu_name, action, name=None)``.
- ``set_saliency_maps({finding_id: volume})`` — every finding's map; the selected one is shown,
  or all of them when the reader ticks "All findings' maps".
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

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QGridLayout, QMainWindow, QMenu, QMessageBox, QProgressBar, QWidget

from inference.domain.finding import Finding, ModelInfo
from inference.imaging.volume import Volume
from viewer.actions import install_actions
from viewer.display_commands import DisplayCommands
from viewer.finding_display import FindingDisplay
from viewer.key_bindings import KeyBinder
from viewer.keymap import Keys
from viewer.messages import Level, MessageLog, Source
from viewer.review.finding_rows import FindingRow, card_for
from viewer.review.model import FindingState, FindingStatus
from viewer.scene.key_image import key_image
from viewer.review.operating_point import BelowPoint
from viewer.scene.scene import SLICE_NAMES, VIEW_3D, Scene
from viewer.scene.scheduler import RenderScheduler
from viewer.widgets.display_controls import DisplayControls
from viewer.widgets.finding_card import FindingCardView
from viewer.widgets.findings_list import FindingsList
from viewer.controllers.loader import Loader
from viewer.widgets.messages_panel import MessagesPanel
from viewer.widgets.plain_text import plain_message_box
from viewer.widgets.series_chooser import SeriesChooser
from viewer.widgets.vtk_view import BoxMouse, SliceWidget, VolumeWidget

#: grid cells (row, column) of each view in the 2x2 layout
GRID = {"axial": (0, 0), "coronal": (0, 1), "sagittal": (1, 0), VIEW_3D: (1, 1)}
LAYOUT_NAMES = ("2x2", "single", "axial3d")
FINDINGS_DOCK_WIDTH = 590
#: findings list (8+ rows and the review's buttons), finding card, display / messages
RIGHT_DOCK_HEIGHTS = (380, 290, 150)


class MainWindow(DisplayCommands, FindingDisplay, QMainWindow):
    volume_loaded = Signal(object)
    finding_selected = Signal(str)
    world_point_clicked = Signal(object)
    box_edited = Signal(str, object)  # finding id, new Box3D
    box_drawn = Signal(object)  # Box3D
    findings_shown = Signal()  # set_findings ran: the list on screen changed
    #: controllers installed on the window (install_detection, install_export), held as long as it lives
    detection: QObject | None = None
    exporter: QObject | None = None

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
        self.box_editing = False  # the review turns these on
        self.box_drawing = False
        self.box_mouse = BoxMouse(self)
        for name in SLICE_NAMES:
            slice_widget = SliceWidget(name, lambda: self.scene, central)
            slice_widget.on_click = self._clicked
            slice_widget.box_tool = self.box_mouse
            self._views[name] = slice_widget
        self._views[VIEW_3D] = VolumeWidget(lambda: self.scene, central)
        for w in self._views.values():
            w.activated.connect(self._activate)
        self.setCentralWidget(central)
        self.scene = Scene({n: w.GetRenderWindow() for n, w in self._views.items()}, self.scheduler)
        self.active_view = "axial"
        self.layout_name = "2x2"
        self.set_layout("2x2")

        self.operating_point: float | None = None
        self.below_point = BelowPoint.DIMMED
        self.findings_list = FindingsList()
        self.findings_list.finding_clicked.connect(self.select_finding)
        self.finding_card = FindingCardView()
        #: False while a review shows its own card (with decisions and the model's operating point)
        self.card_follows_selection = True
        self.controls = DisplayControls()
        self.messages = MessageLog()
        self.messages_panel = MessagesPanel(self.messages)
        findings = self.add_dock(self.findings_list, "Findings", Qt.DockWidgetArea.RightDockWidgetArea)
        card = self.add_dock(self.finding_card, "Finding", Qt.DockWidgetArea.RightDockWidgetArea)
        display = self.add_dock(self.controls, "Display", Qt.DockWidgetArea.RightDockWidgetArea)
        self._display_dock = display
        self.add_tab_dock(self.messages_panel, "Messages")
        display.raise_()
        self._docks_sized = False
        self._right_docks = (findings, card, display)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)

        self.loader = Loader(self)
        self.loader.progress.connect(self._progress)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self.show_error)
        self.loader.failed.connect(self._load_failed)
        self.loader.several_series.connect(self._choose_series)
        self.loader.finished.connect(self.progress.hide)
        self._loading_path = ""
        self.error_dialog: QMessageBox | None = None
        self.series_dialog: SeriesChooser | None = None
        self.findings: tuple[Finding, ...] = ()
        self.statuses: dict[str, FindingStatus] = {}
        self._listed_rows: list[FindingRow] = []  # the findings list's rows before the operating point
        self.demo_nodules: tuple = ()

        self.keys = KeyBinder()
        install_actions(self, self)
        self._wire_controls()
        self.controls.show_window(self.scene.window)
        self.resize(1500, 950)

    # -- public API ----------------------------------------------------------------------------
    @property
    def actions_by_name(self) -> dict[str, QAction]:
        return self.keys.actions

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
        self.findings, self.statuses, self._listed_rows = (), {}, []
        self.findings_list.set_rows(())
        self.show_finding_card(None)
        self.scene.set_volume(volume, with_3d=False)  # slices first: on screen at the next frame
        QTimer.singleShot(0, lambda: self._show_3d(volume))
        info = volume.info
        title = info.series_description or info.source or "scan"
        self.setWindowTitle(f"NoduleLens — {title}")
        self.statusBar().showMessage(
            f"{volume.shape[2]}x{volume.shape[1]}x{volume.shape[0]} voxels, "
            "spacing {:.2f} x {:.2f} x {:.2f} mm".format(*volume.spacing_xyz), 8000)
        for warning in info.warnings:
            self.post_message(Source.LOADER, warning, context=title)
        if info.warnings:
            self.statusBar().showMessage(f"{len(info.warnings)} warning(s) while loading: see Messages", 15000)
        self.volume_loaded.emit(volume)

    def select_finding(self, finding_id: str) -> None:
        if finding_id not in {f.finding_id for f in self.findings}:
            raise KeyError(f"no finding {finding_id!r} on screen")
        self.scene.select(finding_id)
        self.findings_list.show_selected(finding_id)
        if self.card_follows_selection:
            f = next(f for f in self.findings if f.finding_id == finding_id)
            self.show_finding_card(FindingState(f, self.statuses.get(finding_id, FindingStatus.PENDING)))
        self.finding_selected.emit(finding_id)

    def show_finding_card(self, state: FindingState | None, model: ModelInfo | None = None,
                          change: str | None = None) -> None:
        """The card of one finding: its key image (box, and the saliency on screen) and its numbers."""
        if state is None or self.volume is None:
            self.finding_card.show_card(None)
            return
        f = state.finding
        image = key_image(self.volume, f.center, f.box.lo, f.box.hi, self.scene.saliency,
                          window=self.scene.window)
        self.finding_card.show_card(card_for(state, model, change), image)

    def post_message(self, source: Source, text: str, level: Level = Level.WARNING, context: str = "") -> None:
        self.messages.post(source, text, level, context)

    def step_finding(self, step: int) -> None:
        """Next (+1) / previous (-1) finding in table order, wrapping around."""
        ids = self.findings_list.finding_ids
        if not ids:
            return
        cur = ids.index(self.scene.selected) if self.scene.selected in ids else (-1 if step > 0 else 0)
        self.select_finding(ids[(cur + step) % len(ids)])

    def set_saliency(self, volume: Volume | None) -> None:
        if not self.scene.saliency_all:  # "all findings' maps" keeps its merged map on selection
            self.scene.set_saliency(volume)

    def set_saliency_maps(self, maps: dict[str, Volume]) -> None:
        """Every finding's saliency map by finding id (the selected one is shown)."""
        self.scene.set_saliency_maps(maps)

    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def add_tab_dock(self, widget: QWidget, title: str) -> QDockWidget:
        """A dock tabbed beside Display (the right column is full: the findings list keeps its rows)."""
        dock = self.add_dock(widget, title)
        self.tabifyDockWidget(self._display_dock, dock)
        return dock

    def add_action(self, menu_name: str, action: QAction, name: str | None = None,
                   default_keys: Keys | None = None) -> None:
        """Add ``action`` to the menu called ``menu_name`` (created when missing). With a ``name``
        its keys come from the key map (``default_keys`` for a name the key map does not know)."""
        plain = menu_name.replace("&", "")
        found = next((m.menu() for m in self.menuBar().actions() if m.text().replace("&", "") == plain), None)
        menu = found if isinstance(found, QMenu) else self.menuBar().addMenu(menu_name)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work wherever the focus is
        if name is not None:
            self.keys.register(name, action, default_keys)

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
        from viewer.demo_truth import gaussian_saliency, truth_findings

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
        if not isinstance(volume, Volume):
            raise TypeError(f"the loader sent {type(volume).__name__}, not a Volume")
        self.set_volume(volume)
        if nodules is not None:
            self.demo_nodules = tuple(nodules)
            self.controls.demo_box.setEnabled(bool(nodules))

    def _load_failed(self, error: BaseException) -> None:
        self.post_message(Source.LOADER, str(error), Level.ERROR, self._loading_path)

    def show_error(self, error: BaseException) -> None:
        """A non-blocking error dialog; the app keeps running."""
        self.progress.hide()
        self.statusBar().showMessage("Could not open the scan", 10000)
        box = plain_message_box(QMessageBox.Icon.Critical, "Cannot open scan", str(error), self)
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

    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if not self._docks_sized:  # dock sizes only take once the window has its size
            self._docks_sized = True
            findings, card, display = self._right_docks
            self.resizeDocks([findings], [FINDINGS_DOCK_WIDTH], Qt.Orientation.Horizontal)  # all 8 columns
            self.resizeDocks([findings, card, display], list(RIGHT_DOCK_HEIGHTS), Qt.Orientation.Vertical)

    def closeEvent(self, ev) -> None:
        self.loader.wait(10000)
        self.scheduler.stop()
        for w in self._views.values():
            w.Finalize()
        super().closeEvent(ev)

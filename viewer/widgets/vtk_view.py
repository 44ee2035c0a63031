"""Thin Qt hosts for the scene's render windows. They translate mouse and wheel events into
scene calls and nothing else; the scene decides what they mean."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QWheelEvent
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera, vtkInteractorStyleUser

#: HU of window width / level per pixel of right-drag
WL_HU_PER_PIXEL = 4.0


class VtkView(QVTKRenderWindowInteractor):
    """A render window in a widget. The scene renders it through the scheduler only."""

    activated = Signal(str)

    def __init__(self, name: str, parent=None) -> None:
        super().__init__(parent)
        self.name = name
        # no multisampling: it multiplies the fragment work, and software GL pays for it in full
        self.GetRenderWindow().SetMultiSamples(0)
        self.setMinimumSize(120, 120)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window takes drops

    def vtk_xy(self, pos: QPoint) -> tuple[float, float]:
        """Qt widget position → VTK display pixel (origin bottom-left)."""
        ratio = self._getPixelRatio()
        return pos.x() * ratio, (self.height() - pos.y() - 1) * ratio

    def focusInEvent(self, ev) -> None:  # noqa: N802
        self.activated.emit(self.name)
        super().focusInEvent(ev)


class SliceWidget(VtkView):
    """A slice view: left click/drag moves the crosshair, wheel scrolls slices (Ctrl+wheel zooms),
    right-drag changes window/level, middle-drag pans; hovering updates the cursor readout."""

    def __init__(self, name: str, scene_getter, parent=None) -> None:
        super().__init__(name, parent)
        self._scene = scene_getter
        self._style = vtkInteractorStyleUser()  # keep VTK's own interaction out of the way
        self.GetRenderWindow().GetInteractor().SetInteractorStyle(self._style)
        self.setMouseTracking(True)
        self._drag: tuple[Qt.MouseButton, QPoint] | None = None
        self.on_click = None  # callable(world) set by the main window

    def mousePressEvent(self, ev: QMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        self._drag = (ev.button(), ev.position().toPoint())
        if ev.button() == Qt.MouseButton.LeftButton:
            self._click(ev.position().toPoint())

    def _click(self, pos: QPoint) -> None:
        scene = self._scene()
        if scene is None or scene.volume is None:
            return
        world = scene.click(self.name, *self.vtk_xy(pos))
        if self.on_click is not None:
            self.on_click(world)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:  # noqa: N802
        scene = self._scene()
        if scene is None or scene.volume is None:
            return
        pos = ev.position().toPoint()
        if self._drag is None:
            scene.show_readout(self.name, scene.readout(self.name, *self.vtk_xy(pos)))
            return
        button, last = self._drag
        dx, dy = pos.x() - last.x(), pos.y() - last.y()
        self._drag = (button, pos)
        if button == Qt.MouseButton.LeftButton:
            self._click(pos)
        elif button == Qt.MouseButton.RightButton:
            scene.adjust_window(dx * WL_HU_PER_PIXEL, -dy * WL_HU_PER_PIXEL)
        elif button == Qt.MouseButton.MiddleButton:
            scene.views[self.name].pan(dx, -dy)
            scene.render([self.name])

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:  # noqa: N802
        self._drag = None

    def wheelEvent(self, ev: QWheelEvent) -> None:  # noqa: N802
        scene = self._scene()
        if scene is None or scene.volume is None:
            return
        steps = 1 if ev.angleDelta().y() > 0 else -1 if ev.angleDelta().y() < 0 else 0
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            scene.views[self.name].zoom(1.15 if steps > 0 else 1 / 1.15)
            scene.render([self.name])
        elif steps:
            scene.scroll(self.name, steps)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()  # keys are the main window's actions

    def keyReleaseEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        scene = self._scene()
        if scene is not None and scene.volume is not None and self.name in scene.views:
            scene.views[self.name].fit()
            scene.render([self.name])


class VolumeWidget(VtkView):
    """The 3D view: VTK's trackball camera; coarse frames while moving, one full-quality frame
    after the mouse stops for ``still_delay_ms``."""

    def __init__(self, scene_getter, parent=None, still_delay_ms: int = 250) -> None:
        super().__init__("3d", parent)
        self._scene = scene_getter
        interactor = self.GetRenderWindow().GetInteractor()
        interactor.SetInteractorStyle(vtkInteractorStyleTrackballCamera())
        interactor.AddObserver("StartInteractionEvent", self._start)
        interactor.AddObserver("EndInteractionEvent", self._end)
        self._still = QTimer(self)
        self._still.setSingleShot(True)
        self._still.setInterval(still_delay_ms)
        self._still.timeout.connect(self._full_quality)

    def _start(self, *_args) -> None:
        scene = self._scene()
        if scene is not None and scene.view3d is not None:
            self._still.stop()
            scene.view3d.set_interactive(True)

    def _end(self, *_args) -> None:
        self._still.start()

    def refine_later(self) -> None:
        """One full-quality frame after ``still_delay_ms`` unless the camera moves again."""
        self._still.start()

    def _full_quality(self) -> None:
        scene = self._scene()
        if scene is not None and scene.view3d is not None:
            scene.view3d.set_interactive(False)
            scene.render(["3d"])

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()

    def keyReleaseEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()

"""Thin Qt hosts for the scene's render windows. They translate mouse and wheel events into
scene calls and nothing else; the scene decides what they mean. :class:`BoxMouse` does the same
for box gestures (pixels → world points for :mod:`viewer.scene.box_edit`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QWheelEvent
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera, vtkInteractorStyleUser

from inference.domain.finding import Box3D
from viewer.scene.box_edit import BoxEditError, BoxGesture, Handle, Outcome, hit_test
from viewer.scene.overlays2d import BoxOverlay
from viewer.scene.scene import SLICE_NAMES

#: HU of window width / level per pixel of right-drag
WL_HU_PER_PIXEL = 4.0
#: a press this many screen pixels from a box edge grabs the edge
GRIP_PX = 5
#: the pointer must move this many screen pixels before a press becomes a drag
CLICK_PX = 3
#: the key of a box being drawn (never a finding id)
DRAWING_KEY = "<drawing>"


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

    def focusInEvent(self, ev) -> None:
        self.activated.emit(self.name)
        super().focusInEvent(ev)


class SliceWidget(VtkView):
    """A slice view: left click/drag moves the crosshair, wheel scrolls slices (Ctrl+wheel zooms),
    right-drag changes window/level, middle-drag pans; hovering updates the cursor readout.

    ``box_tool`` (set by the main window) may claim a left press for a box gesture: then moves and
    the release go to it instead of the crosshair, Esc cancels it, and a release it does not take
    (no drag) is the ordinary click at the press position."""

    def __init__(self, name: str, scene_getter, parent=None) -> None:
        super().__init__(name, parent)
        self._scene = scene_getter
        self._style = vtkInteractorStyleUser()  # keep VTK's own interaction out of the way
        self.GetRenderWindow().GetInteractor().SetInteractorStyle(self._style)
        self.setMouseTracking(True)
        self._drag: tuple[Qt.MouseButton, QPoint] | None = None
        self.on_click: Callable[[np.ndarray], None] | None = None  # set by the main window
        self.box_tool: BoxMouse | None = None  # set by the main window
        self._box_press: QPoint | None = None

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        self.setFocus()
        pos = ev.position().toPoint()
        self._drag = (ev.button(), pos)
        if ev.button() == Qt.MouseButton.LeftButton:
            scene = self._scene()
            if self.box_tool is not None and scene is not None and scene.volume is not None \
                    and self.box_tool.press(self.name, *self.vtk_xy(pos)):
                self._box_press = pos
                return
            self._click(pos)

    def _click(self, pos: QPoint) -> None:
        scene = self._scene()
        if scene is None or scene.volume is None:
            return
        world = scene.click(self.name, *self.vtk_xy(pos))
        if self.on_click is not None:
            self.on_click(world)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        scene = self._scene()
        if scene is None or scene.volume is None:
            return
        pos = ev.position().toPoint()
        if self._box_press is not None and self.box_tool is not None:
            self.box_tool.move(self.name, *self.vtk_xy(pos))
            return
        if self._drag is None:
            scene.show_readout(self.name, scene.readout(self.name, *self.vtk_xy(pos)))
            if self.box_tool is not None:
                self.setCursor(self.box_tool.hover(self.name, *self.vtk_xy(pos)))
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

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        if self._box_press is not None and self.box_tool is not None and ev.button() == Qt.MouseButton.LeftButton:
            press, self._box_press = self._box_press, None
            if not self.box_tool.release(self.name, *self.vtk_xy(ev.position().toPoint())):
                self._click(press)
        self._drag = None

    def wheelEvent(self, ev: QWheelEvent) -> None:
        scene = self._scene()
        if scene is None or scene.volume is None:
            return
        steps = 1 if ev.angleDelta().y() > 0 else -1 if ev.angleDelta().y() < 0 else 0
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            scene.views[self.name].zoom(1.15 if steps > 0 else 1 / 1.15)
            scene.render([self.name])
        elif steps:
            scene.scroll(self.name, steps)

    def keyPressEvent(self, ev) -> None:
        if ev.key() == Qt.Key.Key_Escape and self._box_press is not None and self.box_tool is not None:
            self._box_press, self._drag = None, None
            self.box_tool.cancel()
            ev.accept()
            return
        ev.ignore()  # keys are the main window's actions

    def keyReleaseEvent(self, ev) -> None:
        ev.ignore()

    def resizeEvent(self, ev) -> None:
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

    def keyPressEvent(self, ev) -> None:
        ev.ignore()

    def keyReleaseEvent(self, ev) -> None:
        ev.ignore()


_CURSORS = {
    Handle.MOVE: Qt.CursorShape.SizeAllCursor,
    Handle.LEFT: Qt.CursorShape.SizeHorCursor, Handle.RIGHT: Qt.CursorShape.SizeHorCursor,
    Handle.TOP: Qt.CursorShape.SizeVerCursor, Handle.BOTTOM: Qt.CursorShape.SizeVerCursor,
    Handle.TOP_LEFT: Qt.CursorShape.SizeFDiagCursor, Handle.BOTTOM_RIGHT: Qt.CursorShape.SizeFDiagCursor,
    Handle.TOP_RIGHT: Qt.CursorShape.SizeBDiagCursor, Handle.BOTTOM_LEFT: Qt.CursorShape.SizeBDiagCursor,
}


class BoxMouse:
    """The slice widgets' ``box_tool`` for a main window (its ``scene``, ``box_editing``,
    ``box_drawing``, ``box_edited`` and ``box_drawn``): turns display pixels into world points for
    a :class:`~viewer.scene.box_edit.BoxGesture`, draws its live outline in the slice views (the 3D
    view follows at the window's next ``set_findings``) and emits the window's signals on release."""

    def __init__(self, window) -> None:
        self.window = window
        self.gesture: BoxGesture | None = None

    def _selected(self) -> tuple[str, Box3D] | None:
        scene = self.window.scene
        box = next((b for b in scene.boxes if b.key == scene.selected), None) if self.window.box_editing else None
        return None if box is None else (box.key, Box3D(box.lo, box.hi))

    def _frame(self, name: str, x: float, y: float) -> tuple:
        view = self.window.scene.views[name]
        mm_per_px = float(abs(view.display_to_plane(1.0, 0.0)[0] - view.display_to_plane(0.0, 0.0)[0]))
        return view, view.display_to_world(x, y), mm_per_px, (view.slab_mm or 0.0) / 2

    def hover(self, name: str, x: float, y: float) -> Qt.CursorShape:
        selected, handle = self._selected(), None
        if selected is not None:
            view, world, mm, slab = self._frame(name, x, y)
            try:
                handle = hit_test(view.plane, selected[1], world, GRIP_PX * mm, slab)
            except BoxEditError:
                handle = None
        if handle is None:
            return Qt.CursorShape.CrossCursor if self.window.box_drawing else Qt.CursorShape.ArrowCursor
        return _CURSORS[handle]

    def press(self, name: str, x: float, y: float) -> bool:
        """True when the press starts a box gesture (the widget then skips its click)."""
        if not (self.window.box_editing or self.window.box_drawing):
            return False
        view, world, mm, slab = self._frame(name, x, y)
        try:
            self.gesture = BoxGesture.start(view.plane, world, selected=self._selected(),
                                            drawing=self.window.box_drawing, grip_mm=GRIP_PX * mm,
                                            click_mm=CLICK_PX * mm, slab_half_mm=slab)
        except BoxEditError as exc:
            self.gesture = None
            self.window.statusBar().showMessage(str(exc), 8000)
        return self.gesture is not None

    def move(self, name: str, x: float, y: float) -> None:
        if self.gesture is not None:
            box = self.gesture.move(self.window.scene.views[name].display_to_world(x, y))
            if box is not None:
                self._preview(box)

    def release(self, name: str, x: float, y: float) -> bool:
        """False when the gesture was a click (the widget clicks at the press position)."""
        gesture, self.gesture = self.gesture, None
        if gesture is None:
            return False
        result = gesture.finish(self.window.scene.views[name].display_to_world(x, y))
        if result.outcome is Outcome.CLICK:
            return False
        if result.outcome is Outcome.EDITED and result.box is not None:
            self._preview(result.box, gesture)  # shown until the review stores it
            self.window.box_edited.emit(result.key, result.box)
        elif result.outcome is Outcome.DRAWN and result.box is not None:
            self._preview(result.box, gesture)
            self.window.box_drawn.emit(result.box)
        else:
            self.show(self.window.scene.boxes)
        return True

    def cancel(self) -> None:
        if self.gesture is not None:
            self.gesture = None
            self.show(self.window.scene.boxes)

    def _preview(self, box: Box3D, gesture: BoxGesture | None = None) -> None:
        g = gesture or self.gesture
        boxes = [BoxOverlay(b.key, box.lo, box.hi, b.status) if g is not None and b.key == g.key else b
                 for b in self.window.scene.boxes]
        if g is not None and not g.editing:
            boxes.append(BoxOverlay(DRAWING_KEY, box.lo, box.hi))
        self.show(boxes)

    def show(self, boxes) -> None:
        """Draw ``boxes`` in the slice views only: one render each at the next frame."""
        scene = self.window.scene
        marked = tuple(BoxOverlay(b.key, b.lo, b.hi, b.status, b.key == scene.selected) for b in boxes)
        for view in scene.views.values():
            view.boxes.boxes = marked
            view.refresh_overlays()
        scene.render(SLICE_NAMES)

"""The scene: three linked slice views and the 3D view over one scan, with the overlays that
apply to all of them. Widgets call these methods; every change ends in ``request_render``."""

from __future__ import annotations

from typing import Iterable, Protocol

import numpy as np
from vtkmodules.vtkRenderingCore import vtkRenderWindow

from inference.imaging.volume import Volume
from viewer.scene.convert import volume_image
from viewer.points import as_point
from viewer.scene.geometry import Orientation
from viewer.scene.heat import merge_maps
from viewer.scene.overlays2d import BoxOverlay
from viewer.scene.presets import DEFAULT_SLAB_MM, Preset, WindowLevel
from viewer.scene.slice_view import SliceView
from viewer.scene.volume_view import VolumeView

Point = tuple[float, float, float]
VIEW_3D = "3d"
SLICE_NAMES = tuple(o.value for o in Orientation)
VIEW_NAMES = (*SLICE_NAMES, VIEW_3D)


class Scheduler(Protocol):
    def request_render(self, render_window: vtkRenderWindow, lazy: bool = False) -> None: ...


class Scene:
    """Owns the VTK side of the viewer. ``windows`` maps view names ('axial', 'coronal',
    'sagittal', '3d') to the render windows that host them (Qt widgets or offscreen windows)."""

    def __init__(self, windows: dict[str, vtkRenderWindow], scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.views: dict[str, SliceView] = {
            name: SliceView(Orientation(name), windows[name]) for name in SLICE_NAMES if name in windows
        }
        self.view3d = VolumeView(windows[VIEW_3D]) if VIEW_3D in windows else None
        self.volume: Volume | None = None
        self.boxes: tuple[BoxOverlay, ...] = ()
        self.selected: str | None = None
        self.saliency: Volume | None = None
        self.saliency_visible = True
        #: every finding's map by finding id; the selected one is drawn, or all when ``saliency_all``
        self.saliency_maps: dict[str, Volume] = {}
        self.saliency_all = False
        self._merged_shown = False
        self.window = Preset.LUNG.window
        self.slab_mm: float | None = None
        self.last_slab_mm = DEFAULT_SLAB_MM
        self.cursor: Point = (0.0, 0.0, 0.0)

    # -- helpers -------------------------------------------------------------------------------
    def render(self, names: Iterable[str] | None = None, lazy: bool = False) -> None:
        """Ask the scheduler for one render of each named view (all by default); ``lazy`` for
        views that only follow the one the user is working in."""
        for name in names if names is not None else VIEW_NAMES:
            if name in self.views:
                self.scheduler.request_render(self.views[name].render_window, lazy)
            elif name == VIEW_3D and self.view3d is not None:
                self.scheduler.request_render(self.view3d.render_window, lazy)

    # -- data ----------------------------------------------------------------------------------
    def set_volume(self, volume: Volume, with_3d: bool = True) -> None:
        """Show a new scan: planes through its centre, overlays cleared."""
        self.volume = volume
        image = volume_image(volume)
        middle = np.floor((np.asarray(volume.shape) - 1) / 2)  # a voxel centre near the middle
        self.cursor = as_point(volume.index_to_world(middle))
        self.boxes, self.selected, self.saliency = (), None, None
        self.saliency_maps = {}
        if self.view3d is not None:
            self.view3d.saliency.set_volume(None)
        for view in self.views.values():
            view.saliency.set_volume(None)
            view.boxes.boxes = ()
            view.set_volume(volume, image, self.cursor)
            view.set_window(self.window)
            view.set_slab(self.slab_mm)
        if self.view3d is not None:
            self.view3d.set_boxes(())
            if with_3d:
                self.view3d.set_volume(volume)
        self.render()

    def set_boxes(self, boxes: Iterable[BoxOverlay]) -> None:
        """Finding boxes (world mm) on every view, coloured by review state."""
        self.boxes = tuple(boxes)
        self._push_boxes()

    def select(self, key: str | None) -> None:
        """Highlight one box and move every view to its centre."""
        self.selected = key
        self._push_boxes()
        box = next((b for b in self.boxes if b.key == key), None)
        if key in self.saliency_maps and not self.saliency_all:
            self.set_saliency(self.saliency_maps[key])
        if box is not None:
            self.set_cursor(tuple((np.asarray(box.lo) + box.hi) / 2))

    def view3d_boxes(self) -> tuple[BoxOverlay, ...]:
        """The boxes with the selection marked."""
        return tuple(BoxOverlay(b.key, b.lo, b.hi, b.status, b.key == self.selected, b.dimmed) for b in self.boxes)

    def _push_boxes(self) -> None:
        marked = self.view3d_boxes()
        for view in self.views.values():
            view.boxes.boxes = marked
            view.refresh_overlays()
        if self.view3d is not None:
            self.view3d.set_boxes(marked)
        self.render()

    def set_saliency(self, saliency: Volume | None) -> None:
        """A float 0..1 volume on any grid drawn as a heat map in every view (None removes it)."""
        if saliency is not None and saliency.voxels.dtype != np.float32:
            raise ValueError("saliency must be a float32 Volume with values in 0..1")
        self.saliency = saliency
        for view in self.views.values():
            view.saliency.set_volume(saliency)
            view.refresh_overlays()
        if self.view3d is not None:
            self.view3d.saliency.set_volume(saliency)
        self.render()

    def set_saliency_maps(self, maps: dict[str, Volume]) -> None:
        """Every finding's map: the selected finding's is shown (or all of them, see
        :meth:`set_saliency_all`)."""
        self.saliency_maps = dict(maps)
        self._push_saliency()

    def set_saliency_all(self, on: bool) -> None:
        """Show all findings' maps at once (each normalised over its own finding) or only the
        selected finding's."""
        self.saliency_all = on
        self._push_saliency()

    def _push_saliency(self) -> None:
        if self.saliency_all and self.saliency_maps:
            self.set_saliency(merge_maps(list(self.saliency_maps.values())))
            self._merged_shown = True
            return
        if self.selected in self.saliency_maps:
            self.set_saliency(self.saliency_maps[self.selected])
        elif self._merged_shown:
            self.set_saliency(None)  # the merged map is no single finding's
        self._merged_shown = False

    def set_saliency_visible(self, visible: bool) -> None:
        self.saliency_visible = visible
        for view in self.views.values():
            view.saliency.visible = visible
            view.refresh_overlays()
        if self.view3d is not None:
            self.view3d.saliency.set_visible(visible)
        self.render()

    def set_saliency_opacity(self, opacity: float) -> None:
        for view in self.views.values():
            view.saliency.set_opacity(opacity)
        if self.view3d is not None:
            self.view3d.saliency.set_opacity(opacity)
        self.render()

    # -- display -------------------------------------------------------------------------------
    def set_window(self, window: WindowLevel) -> None:
        self.window = window
        for view in self.views.values():
            view.set_window(window)
            view.refresh_overlays()
        self.render(SLICE_NAMES)

    def apply_preset(self, preset: Preset) -> None:
        self.set_window(preset.window)

    def adjust_window(self, d_width: float, d_level: float) -> None:
        """Right-drag window/level: change width and level by HU amounts."""
        w = self.window
        self.set_window(WindowLevel(w.level + d_level, max(1.0, w.width + d_width)))

    def set_slab(self, thickness_mm: float | None) -> None:
        """Thick-slab MIP on all slice views (None: thin slices)."""
        if thickness_mm:
            self.last_slab_mm = thickness_mm
        self.slab_mm = thickness_mm
        for view in self.views.values():
            view.set_slab(thickness_mm)
        self.render(SLICE_NAMES)

    def toggle_slab(self) -> None:
        self.set_slab(None if self.slab_mm else self.last_slab_mm)

    # -- navigation ----------------------------------------------------------------------------
    def set_cursor(self, world: Point) -> None:
        """Move the crosshair and every slice view to the world point."""
        self.cursor = as_point(world)
        for view in self.views.values():
            view.set_cursor(self.cursor)
        self.render(SLICE_NAMES)

    def set_crosshair_visible(self, visible: bool) -> None:
        for view in self.views.values():
            view.crosshair.visible = visible
            view.refresh_overlays()
        self.render(SLICE_NAMES)

    def click(self, name: str, x: float, y: float) -> np.ndarray:
        """A click at display pixel (x, y) of view ``name``: the others move to that world point;
        the clicked view keeps its plane. Returns the world point."""
        world = self.views[name].display_to_world(x, y)
        self.cursor = as_point(world)
        for other, view in self.views.items():
            view.set_cursor(self.cursor, move_plane=other != name)
        self.render(SLICE_NAMES)
        return world

    def scroll(self, name: str, steps: int) -> None:
        view = self.views[name]
        view.scroll(steps)
        self.cursor = view.cursor
        others = [n for n in self.views if n != name]
        for other in others:
            self.views[other].set_cursor(self.cursor, move_plane=False)
        self.render([name])
        self.render(others, lazy=True)

    def readout(self, name: str, x: float, y: float) -> str:
        """Cursor readout text: world mm, voxel index (z, y, x), HU."""
        view = self.views[name]
        if self.volume is None:
            return ""
        world = view.display_to_world(x, y)
        hu = view.hu_at(tuple(world))
        if hu is None:
            return f"({world[0]:.1f}, {world[1]:.1f}, {world[2]:.1f}) mm  outside scan"
        idx = np.round(self.volume.world_to_index(world)).astype(int)
        return (f"({world[0]:.1f}, {world[1]:.1f}, {world[2]:.1f}) mm  "
                f"voxel z{idx[0]} y{idx[1]} x{idx[2]}  {hu:.0f} HU")

    def show_readout(self, name: str, text: str) -> None:
        for other, view in self.views.items():
            view.text.readout.SetInput(text if other == name else "")
        self.render(SLICE_NAMES)

    def fit(self) -> None:
        for view in self.views.values():
            view.fit()
        self.render()

    def zoom_to(self, lo: Point, hi: Point) -> None:
        """Every slice view through the box's centre, centred and zoomed on it."""
        self.set_cursor(tuple((np.asarray(lo) + np.asarray(hi)) / 2))
        for view in self.views.values():
            view.zoom_to(lo, hi)
        self.render(SLICE_NAMES)

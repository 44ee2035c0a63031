"""One slice view (axial, coronal or sagittal): the scan resliced on a world plane, thick-slab MIP,
window/level, zoom/pan, and the 2D overlay layers. Everything is drawn in plane coordinates with a
fixed 2D camera, so the screen orientation is the plane's (see :mod:`viewer.scene.geometry`)."""

from __future__ import annotations


import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkImagingCore import vtkImageReslice
from vtkmodules.vtkRenderingCore import vtkImageActor, vtkRenderer, vtkRenderWindow

import vtkmodules.vtkRenderingOpenGL2  # registers the OpenGL back end
import vtkmodules.vtkRenderingFreeType  # noqa: F401 (registers the text renderer)
from inference.imaging.volume import Volume
from viewer.scene.convert import reslice_axes
from viewer.points import as_point
from viewer.scene.geometry import Orientation, Plane, box_corners, plane_extent
from viewer.scene.overlays2d import BoxLayer, CrosshairLayer, SaliencyLayer, TextLayer
from viewer.scene.presets import Preset, WindowLevel

Point = tuple[float, float, float]


class SliceView:
    """A renderer showing one plane of the scan; hosted by any vtkRenderWindow."""

    def __init__(self, orientation: Orientation, render_window: vtkRenderWindow) -> None:
        self.orientation = orientation
        self.render_window = render_window
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0, 0, 0)
        # layers are drawn in a fixed order at fixed depths, so plain alpha blending is right;
        # order-independent transparency would add full-screen passes (half the frame on Mesa)
        self.renderer.SetUseOIT(False)
        render_window.AddRenderer(self.renderer)
        self.reslice = vtkImageReslice()
        self.reslice.SetInterpolationModeToLinear()
        self.reslice.SetOutputDimensionality(2)
        self.reslice.SetBackgroundLevel(-1024.0)
        self.image = vtkImageActor()
        self.image.GetMapper().SetInputConnection(self.reslice.GetOutputPort())
        self.image.GetProperty().SetInterpolationTypeToLinear()
        self.image.VisibilityOff()  # until a volume is set
        self.saliency = SaliencyLayer()
        self.boxes = BoxLayer()
        self.crosshair = CrosshairLayer()
        self.text = TextLayer()
        for actor in (self.image, self.saliency.actor, *self.boxes.actors, self.crosshair.actor):
            self.renderer.AddActor(actor)
        for prop in (*self.text.actors, self.saliency.bar):
            self.renderer.AddViewProp(prop)
        self.camera = self.renderer.GetActiveCamera()
        self.camera.ParallelProjectionOn()
        self.volume: Volume | None = None
        self.plane = Plane.standard(orientation, (0.0, 0.0, 0.0))
        self.window = Preset.LUNG.window
        self.slab_mm: float | None = None
        self.pixel_mm = 1.0
        self.step_mm = 1.0
        self.lo = np.zeros(2)
        self.hi = np.ones(2)
        self._w_range = (0.0, 0.0)
        self._base = np.zeros(3)
        self._w0 = 0.0
        self._snap = False
        self.cursor: Point = (0.0, 0.0, 0.0)
        self.set_window(self.window)

    # -- data ----------------------------------------------------------------------------------
    def set_volume(self, volume: Volume, image: vtkImageData, center: Point) -> None:
        """Show ``volume`` (its index-space ``image`` from :func:`convert.volume_image`)."""
        self.volume = volume
        self.reslice.SetInputData(image)
        self.image.VisibilityOn()
        self.plane = Plane.standard(self.orientation, center)
        self._base = np.asarray(self.plane.origin)
        z, y, x = (s - 0.5 for s in volume.shape)
        corners = volume.index_to_world(box_corners((-0.5, -0.5, -0.5), (z, y, x)))
        self.lo, self.hi = plane_extent(self.plane, corners)
        w = self.plane.to_plane(corners)[:, 2]
        self._w_range = (float(w.min()), float(w.max()))
        self.pixel_mm = float(min(volume.spacing_xyz))
        # step along the normal: the spacing of the voxel axis most aligned with it
        axes = volume.affine[:3, :3]
        k = int(np.argmax(np.abs(self.plane.normal @ (axes / np.linalg.norm(axes, axis=0)))))
        self.step_mm = float(np.linalg.norm(axes[:, k]))
        # sample on voxel centres where the grid allows it: exact slices, and VTK's fast path
        c0 = self.plane.to_plane(volume.index_to_world((0, 0, 0)))
        self.lo = c0[:2] + np.floor((self.lo - c0[:2]) / self.pixel_mm) * self.pixel_mm
        self._w0 = float(c0[2])
        self._snap = bool(np.max(np.abs(self.plane.normal @ (axes / np.linalg.norm(axes, axis=0)))) > 0.9999)
        self.plane = self._plane_at(self._snapped(0.0))
        center = as_point(self.plane.to_world(self.plane.to_plane(center)[:2]))
        n = np.ceil((self.hi - self.lo) / self.pixel_mm).astype(int)
        self.reslice.SetOutputOrigin(float(self.lo[0]), float(self.lo[1]), 0.0)
        self.reslice.SetOutputExtent(0, int(n[0]), 0, int(n[1]), 0, 0)
        self.text.set_letters(self.plane.edge_letters())
        self.cursor = center
        self._update_plane()
        self.fit()

    # -- navigation ----------------------------------------------------------------------------
    def set_cursor(self, world: Point, move_plane: bool = True) -> None:
        """Move the crosshair to ``world``; with ``move_plane`` the view shows the plane through it."""
        self.cursor = as_point(world)
        if move_plane:
            w = float((np.asarray(self.cursor) - self._base) @ self.plane.normal)
            self.plane = self._plane_at(self._snapped(w))
        self._update_plane()

    def _plane_at(self, w: float) -> Plane:
        return Plane(self.plane.right, self.plane.up, tuple(self._base + w * self.plane.normal))

    def _snapped(self, w: float) -> float:
        """The nearest slice centre along the normal when the normal follows a voxel axis
        (an acquired slice rather than a blend of two), clamped inside the scan."""
        lo, hi = self._w_range[0] + self.step_mm / 2, self._w_range[1] - self.step_mm / 2
        w = float(np.clip(w, min(lo, hi), max(lo, hi)))
        if self._snap:
            w = self._w0 + round((w - self._w0) / self.step_mm) * self.step_mm
        return w

    @property
    def offset_mm(self) -> float:
        """Position of the plane along its normal, mm from the scan centre's plane."""
        return float((np.asarray(self.plane.origin) - self._base) @ self.plane.normal)

    def scroll(self, steps: int) -> None:
        """Move the plane ``steps`` slices along the normal (towards the viewer when positive),
        stopping at the scan's edges; the crosshair moves with it."""
        self.plane = self._plane_at(self._snapped(self.offset_mm + steps * self.step_mm))
        cur = self.plane.to_plane(self.cursor)
        self.cursor = as_point(self.plane.to_world((cur[0], cur[1], 0.0)))
        self._update_plane()

    def slice_index(self) -> tuple[int, int]:
        """(current slice number from 0, number of slices) along the normal."""
        total = max(1, int(round((self._w_range[1] - self._w_range[0]) / self.step_mm)))
        pos = int(np.floor((self.offset_mm - self._w_range[0]) / self.step_mm))
        return max(0, min(total - 1, pos)), total

    def set_window(self, window: WindowLevel) -> None:
        self.window = window
        prop = self.image.GetProperty()
        prop.SetColorWindow(window.width)
        prop.SetColorLevel(window.level)

    def set_slab(self, thickness_mm: float | None) -> None:
        """Thick-slab maximum intensity projection of ``thickness_mm`` (None: thin slice)."""
        if thickness_mm is not None and not thickness_mm > 0:
            raise ValueError(f"slab thickness must be positive, got {thickness_mm}")
        self.slab_mm = thickness_mm
        self._update_plane()

    def _slab(self) -> tuple[int, float] | None:
        if not self.slab_mm:
            return None
        spacing = min(self.pixel_mm * 2, self.step_mm)
        n = max(1, int(round(self.slab_mm / spacing)))
        return n, spacing

    def _update_plane(self) -> None:
        if self.volume is None:
            return
        r = self.reslice
        r.SetResliceAxes(reslice_axes(self.volume.affine, self.plane.matrix()))
        slab = self._slab()
        if slab:
            r.SetSlabModeToMax()
            r.SetSlabNumberOfSlices(slab[0])
            r.SetOutputSpacing(self.pixel_mm, self.pixel_mm, slab[1])
        else:
            r.SetSlabNumberOfSlices(1)
            r.SetOutputSpacing(self.pixel_mm, self.pixel_mm, 1.0)
        self.saliency.update(self.plane, self.pixel_mm, self.lo, slab)
        self.boxes.update(self.plane, (slab[0] * slab[1] / 2) if slab else 0.0)
        self.crosshair.update(self.plane, self.cursor, self.lo, self.hi)
        idx, total = self.slice_index()
        mode = f"  MIP {self.slab_mm:g} mm" if self.slab_mm else ""
        self.text.title.SetInput(f"{self.orientation.value.title()}  {idx + 1}/{total}{mode}  "
                                 f"W {self.window.width:g} L {self.window.level:g}")

    def refresh_overlays(self) -> None:
        self._update_plane()

    # -- camera --------------------------------------------------------------------------------
    def fit(self) -> None:
        """Zoom so the whole slice fits the viewport, centred."""
        c = (self.lo + self.hi) / 2
        self.camera.SetFocalPoint(c[0], c[1], 0.0)
        self.camera.SetPosition(c[0], c[1], 1000.0)
        self.camera.SetViewUp(0.0, 1.0, 0.0)
        w, h = self._viewport_size()
        half_w, half_h = (self.hi - self.lo) / 2
        self.camera.SetParallelScale(1.02 * max(half_h, half_w * h / max(w, 1)))
        self.renderer.ResetCameraClippingRange()

    def zoom_to(self, lo: Point, hi: Point, margin: float = 3.0) -> None:
        """Centre on a world box and zoom so it spans about 1/``margin`` of the viewport."""
        corners = np.array([self.plane.to_plane(c) for c in box_corners(lo, hi)])
        (u0, v0), (u1, v1) = corners[:, :2].min(axis=0), corners[:, :2].max(axis=0)
        cu, cv = (u0 + u1) / 2, (v0 + v1) / 2
        self.camera.SetFocalPoint(cu, cv, 0.0)
        self.camera.SetPosition(cu, cv, 1000.0)
        w, h = self._viewport_size()
        half = max((v1 - v0) / 2, (u1 - u0) / 2 * h / max(w, 1), 5.0)
        self.camera.SetParallelScale(margin * half)
        self.renderer.ResetCameraClippingRange()

    def _viewport_size(self) -> tuple[int, int]:
        size = self.render_window.GetSize()
        vp = self.renderer.GetViewport()
        return max(1, int(size[0] * (vp[2] - vp[0]))), max(1, int(size[1] * (vp[3] - vp[1])))

    def zoom(self, factor: float) -> None:
        self.camera.SetParallelScale(self.camera.GetParallelScale() / factor)

    def pan(self, dx_px: float, dy_px: float) -> None:
        """Move the image by display pixels."""
        mm = 2 * self.camera.GetParallelScale() / self._viewport_size()[1]
        fx, fy, fz = self.camera.GetFocalPoint()
        px, py, pz = self.camera.GetPosition()
        self.camera.SetFocalPoint(fx - dx_px * mm, fy - dy_px * mm, fz)
        self.camera.SetPosition(px - dx_px * mm, py - dy_px * mm, pz)

    def display_to_plane(self, x: float, y: float) -> np.ndarray:
        """VTK display pixel (origin bottom-left of the render window) → plane (u, v)."""
        w, h = self._viewport_size()
        vp = self.renderer.GetViewport()
        size = self.render_window.GetSize()
        x0, y0 = vp[0] * size[0], vp[1] * size[1]
        scale = self.camera.GetParallelScale()
        fx, fy, _ = self.camera.GetFocalPoint()
        mm = 2 * scale / h
        return np.array([fx + (x - x0 - w / 2) * mm, fy + (y - y0 - h / 2) * mm])

    def display_to_world(self, x: float, y: float) -> np.ndarray:
        return self.plane.to_world(self.display_to_plane(x, y))

    def world_to_display(self, world: Point) -> np.ndarray:
        """World point → VTK display pixel (x, y from bottom-left) of its projection on the plane."""
        u, v, _ = self.plane.to_plane(world)
        w, h = self._viewport_size()
        vp = self.renderer.GetViewport()
        size = self.render_window.GetSize()
        mm = 2 * self.camera.GetParallelScale() / h
        fx, fy, _ = self.camera.GetFocalPoint()
        return np.array([vp[0] * size[0] + w / 2 + (u - fx) / mm, vp[1] * size[1] + h / 2 + (v - fy) / mm])

    def hu_at(self, world: Point) -> float | None:
        """HU of the nearest voxel, None outside the scan."""
        if self.volume is None or not self.volume.contains_world(world):
            return None
        idx = np.clip(np.round(self.volume.world_to_index(world)).astype(int), 0, np.asarray(self.volume.shape) - 1)
        return float(self.volume.voxels[tuple(idx)])


"""2D overlay layers of a slice view, all in plane coordinates (u, v): finding boxes cut by the
plane, the saliency heat map, the crosshair and the orientation letters / readouts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vtkmodules.vtkCommonCore import vtkPoints, vtkUnsignedCharArray
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkImagingCore import vtkImageReslice
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkActor2D,
    vtkImageActor,
    vtkPolyDataMapper,
    vtkTextActor,
)

from inference.imaging.volume import Volume
from viewer.review.model import FindingStatus
from viewer.scene.convert import reslice_axes, volume_image
from viewer.scene.geometry import Plane, box_corners, cut_box, plane_extent
from viewer.scene.heat import color_bar, heat_lut
from viewer.scene.presets import CROSSHAIR_COLOR, STATUS_COLORS

Point = tuple[float, float, float]
#: the heat map's opacity until the reader moves the slider
DEFAULT_OPACITY = 0.7
#: opacity of a dimmed box (a finding below the operating point)
DIMMED_OPACITY = 0.35


@dataclass(frozen=True, slots=True)
class BoxOverlay:
    """One finding box to draw: world LPS mm corners, review state, selection, and whether it is
    drawn dimmed (a finding scoring below the reader's operating point)."""

    key: str
    lo: Point
    hi: Point
    status: FindingStatus = FindingStatus.PENDING
    selected: bool = False
    dimmed: bool = False


def _lines_polydata(polylines: list[np.ndarray], colors: list[tuple[float, float, float]], w: float) -> vtkPolyData:
    pts = vtkPoints()
    cells = vtkCellArray()
    rgb = vtkUnsignedCharArray()
    rgb.SetNumberOfComponents(3)
    rgb.SetName("colors")
    for poly, color in zip(polylines, colors, strict=True):
        ids = []
        for u, v in poly:
            ids.append(pts.InsertNextPoint(float(u), float(v), w))
        cells.InsertNextCell(len(ids))
        for i in ids:
            cells.InsertCellPoint(i)
        rgb.InsertNextTuple3(*(int(round(255 * c)) for c in color))
    pd = vtkPolyData()
    pd.SetPoints(pts)
    pd.SetLines(cells)
    pd.GetCellData().SetScalars(rgb)
    return pd


class LineLayer:
    """Closed polylines in plane coordinates with per-line colours."""

    def __init__(self, w: float, line_width: float, opacity: float = 1.0) -> None:
        self.w = w
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetInputData(_lines_polydata([], [], w))
        self.mapper.SetColorModeToDirectScalars()
        self.mapper.SetScalarModeToUseCellData()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        prop = self.actor.GetProperty()
        prop.SetLineWidth(line_width)
        prop.SetOpacity(opacity)
        prop.LightingOff()
        self.actor.PickableOff()

    def set_lines(self, polylines: list[np.ndarray], colors: list[tuple[float, float, float]]) -> None:
        self.mapper.SetInputData(_lines_polydata(polylines, colors, self.w))
        self.actor.SetVisibility(bool(polylines))


class BoxLayer:
    """Finding boxes where the current plane cuts them; the selected one drawn thicker, dimmed ones
    (below the operating point) thin and faint."""

    def __init__(self) -> None:
        self.normal = LineLayer(w=2.0, line_width=2.0)
        self.selected = LineLayer(w=2.5, line_width=4.0)
        self.dimmed = LineLayer(w=1.9, line_width=1.0, opacity=DIMMED_OPACITY)
        self.boxes: tuple[BoxOverlay, ...] = ()
        self.visible = True

    @property
    def actors(self) -> list[vtkActor]:
        return [self.dimmed.actor, self.normal.actor, self.selected.actor]

    def update(self, plane: Plane, slab_half_mm: float = 0.0) -> None:
        """Recompute the cuts for ``plane``. In slab mode a box counts as cut when it meets the slab
        (drawn as its cut through the nearest plane inside the slab)."""
        groups: dict[str, tuple[list, list]] = {"normal": ([], []), "selected": ([], []), "dimmed": ([], [])}
        if self.visible:
            for box in self.boxes:
                poly = cut_box(plane, box.lo, box.hi)
                if poly is None and slab_half_mm > 0:
                    w = plane.to_plane(box_corners(box.lo, box.hi))[:, 2]
                    if w.min() <= slab_half_mm and w.max() >= -slab_half_mm:
                        mid = float(np.clip(0.0, w.min() + 1e-3, w.max() - 1e-3))
                        poly = cut_box(Plane(plane.right, plane.up, tuple(plane.to_world((0, 0, mid)))), box.lo, box.hi)
                if poly is None:
                    continue
                closed = np.vstack([poly, poly[:1]])
                group = "selected" if box.selected else "dimmed" if box.dimmed else "normal"
                groups[group][0].append(closed)
                groups[group][1].append(STATUS_COLORS[box.status])
        for group, layer in (("normal", self.normal), ("selected", self.selected), ("dimmed", self.dimmed)):
            layer.set_lines(*groups[group])


class CrosshairLayer(LineLayer):
    """Two lines through the linked cursor point, across the view's extent."""

    def __init__(self) -> None:
        super().__init__(w=3.0, line_width=1.0, opacity=0.7)
        self.visible = True

    def update(self, plane: Plane, cursor: Point, lo: np.ndarray, hi: np.ndarray) -> None:
        if not self.visible:
            self.set_lines([], [])
            return
        u, v, _ = plane.to_plane(cursor)
        lines = [np.array([[lo[0], v], [hi[0], v]]), np.array([[u, lo[1]], [u, hi[1]]])]
        self.set_lines(lines, [CROSSHAIR_COLOR, CROSSHAIR_COLOR])


class SaliencyLayer:
    """A float 0..1 volume on any grid, resliced on the view's plane and pixel grid, drawn with the
    heat colour map of :mod:`viewer.scene.heat` (transparent below its floor) and a colour bar
    saying what the colours mean. Only the rectangle the saliency volume covers is resliced."""

    def __init__(self) -> None:
        self.reslice = vtkImageReslice()
        self.reslice.SetInterpolationModeToLinear()
        self.reslice.SetBackgroundLevel(0.0)
        self.reslice.SetOutputDimensionality(2)
        self.actor = vtkImageActor()
        self.actor.GetMapper().SetInputConnection(self.reslice.GetOutputPort())
        prop = self.actor.GetProperty()
        prop.SetLookupTable(heat_lut())
        prop.UseLookupTableScalarRangeOn()
        prop.SetInterpolationTypeToLinear()
        prop.SetOpacity(DEFAULT_OPACITY)
        self.actor.SetPosition(0, 0, 1.0)
        self.actor.PickableOff()
        self.actor.VisibilityOff()
        self.bar = color_bar()
        self.volume: Volume | None = None
        self.visible = True
        self._corners: np.ndarray | None = None

    def _show(self, on: bool) -> None:
        self.actor.SetVisibility(on)
        self.bar.SetVisibility(on and self.actor.GetProperty().GetOpacity() > 0)

    def set_volume(self, volume: Volume | None) -> None:
        self.volume = volume
        if volume is None:
            self._show(False)
            return
        vox = volume.voxels if volume.voxels.dtype == np.float32 else volume.voxels.astype(np.float32)
        self.reslice.SetInputData(volume_image(volume.with_voxels(vox)))
        z, y, x = (s - 0.5 for s in volume.shape)
        self._corners = volume.index_to_world(box_corners((-0.5, -0.5, -0.5), (z, y, x)))

    def set_opacity(self, opacity: float) -> None:
        self.actor.GetProperty().SetOpacity(float(np.clip(opacity, 0.0, 1.0)))
        self._show(bool(self.actor.GetVisibility()))

    def update(self, plane: Plane, pixel_mm: float, view_lo: np.ndarray, slab: tuple[int, float] | None) -> None:
        vol = self.volume
        if vol is None or not self.visible or self._corners is None:
            self._show(False)
            return
        w = plane.to_plane(self._corners)[:, 2]
        half = (slab[0] * slab[1] / 2) if slab else 0.0
        if w.min() > half or w.max() < -half:
            self._show(False)
            return
        lo, hi = plane_extent(plane, self._corners)
        i0 = np.floor((lo - view_lo) / pixel_mm).astype(int)
        i1 = np.ceil((hi - view_lo) / pixel_mm).astype(int)
        r = self.reslice
        r.SetResliceAxes(reslice_axes(vol.affine, plane.matrix()))
        if slab:
            r.SetSlabModeToMax()
            r.SetSlabNumberOfSlices(slab[0])
            r.SetOutputSpacing(pixel_mm, pixel_mm, slab[1])
        else:
            r.SetSlabNumberOfSlices(1)
            r.SetOutputSpacing(pixel_mm, pixel_mm, 1.0)
        r.SetOutputOrigin(float(view_lo[0]), float(view_lo[1]), 0.0)
        r.SetOutputExtent(int(i0[0]), int(i1[0]), int(i0[1]), int(i1[1]), 0, 0)
        self._show(True)


class TextLayer:
    """Orientation letters on the four edges, a title bottom-left, a readout top-left."""

    def __init__(self) -> None:
        self.letters: dict[str, vtkTextActor] = {}
        spots = {"left": (0.01, 0.5, 0, 1), "right": (0.99, 0.5, 2, 1), "top": (0.5, 0.99, 1, 2),
                 "bottom": (0.5, 0.01, 1, 0)}
        for edge, (x, y, hj, vj) in spots.items():
            t = vtkTextActor()
            t.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
            t.SetPosition(x, y)
            tp = t.GetTextProperty()
            tp.SetFontSize(18)
            tp.BoldOn()
            tp.SetColor(1.0, 0.75, 0.2)
            (tp.SetJustificationToLeft, tp.SetJustificationToCentered, tp.SetJustificationToRight)[hj]()
            (tp.SetVerticalJustificationToBottom, tp.SetVerticalJustificationToCentered,
             tp.SetVerticalJustificationToTop)[vj]()
            self.letters[edge] = t
        self.title = self._corner_text(0.01, 0.01, top=False)
        self.readout = self._corner_text(0.01, 0.99, top=True)

    @staticmethod
    def _corner_text(x: float, y: float, top: bool) -> vtkTextActor:
        t = vtkTextActor()
        t.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        t.SetPosition(x, y)
        tp = t.GetTextProperty()
        tp.SetFontSize(13)
        tp.SetColor(0.85, 0.85, 0.85)
        tp.SetVerticalJustificationToTop() if top else tp.SetVerticalJustificationToBottom()
        return t

    @property
    def actors(self) -> list[vtkActor2D]:
        return [*self.letters.values(), self.title, self.readout]

    def set_letters(self, letters: dict[str, str]) -> None:
        for edge, actor in self.letters.items():
            actor.SetInput(letters[edge])

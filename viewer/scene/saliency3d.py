"""Saliency in the 3D view: nested iso-surfaces of a finding's map (at 0.25, 0.5 and 0.75 of its
maximum), coloured with the heat colour map of :mod:`viewer.scene.heat` and drawn with the reader's
opacity, so the hot core shows inside the cooler shells; plus the same colour bar as the slices.
The shells live in an overlay layer of the render window that shares the scan's camera: the lung
haze of the volume rendering would otherwise hide a map that sits inside the lung."""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

from inference.imaging.volume import Volume
from viewer.scene.convert import image_data, vtk_matrix
from viewer.scene.heat import color_bar, heat_lut

LEVELS = (0.25, 0.5, 0.75)


class Saliency3D:
    """Iso-surfaces of one saliency Volume (any grid: the affine goes into the actor's matrix)."""

    def __init__(self, renderer: vtkRenderer, render_window: vtkRenderWindow) -> None:
        self.contour = vtkFlyingEdges3D()
        for k, level in enumerate(LEVELS):
            self.contour.SetValue(k, level)
        self.contour.ComputeScalarsOn()
        self.contour.ComputeNormalsOn()
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetInputConnection(self.contour.GetOutputPort())
        self.mapper.SetLookupTable(heat_lut())
        self.mapper.SetScalarRange(0.0, 1.0)
        self.mapper.SetColorModeToMapScalars()
        self.mapper.ScalarVisibilityOn()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        self.actor.GetProperty().SetOpacity(0.7)
        self.actor.PickableOff()
        self.actor.VisibilityOff()
        self.bar = color_bar()
        self.overlay = vtkRenderer()
        self.overlay.SetLayer(1)
        self.overlay.InteractiveOff()
        self.overlay.SetActiveCamera(renderer.GetActiveCamera())
        render_window.SetNumberOfLayers(max(2, render_window.GetNumberOfLayers()))
        render_window.AddRenderer(self.overlay)
        self.overlay.AddActor(self.actor)
        self.overlay.AddViewProp(self.bar)
        self.volume: Volume | None = None
        self.visible = True

    def set_volume(self, volume: Volume | None) -> None:
        self.volume = volume
        if volume is not None:
            self.contour.SetInputData(image_data(volume.voxels.astype(np.float32, copy=False)))
            self.actor.SetUserMatrix(vtk_matrix(np.asarray(volume.affine, float)))
        self._apply()

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self._apply()

    def set_opacity(self, opacity: float) -> None:
        self.actor.GetProperty().SetOpacity(float(np.clip(opacity, 0.0, 1.0)))
        self._apply()

    def _apply(self) -> None:
        on = self.volume is not None and self.visible and self.actor.GetProperty().GetOpacity() > 0
        self.actor.SetVisibility(on)
        self.bar.SetVisibility(on)

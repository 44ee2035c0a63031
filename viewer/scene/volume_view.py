"""The 3D view: volume rendering of a downsampled copy of the scan with a lung-window transfer
function, finding boxes as coloured outlines, the saliency as heat-coloured iso-surfaces
(:mod:`viewer.scene.saliency3d`), interactive quality while moving and one full-quality frame
when the motion stops."""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction
from vtkmodules.vtkFiltersCore import vtkAppendPolyData
from vtkmodules.vtkFiltersSources import vtkOutlineSource
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkColorTransferFunction,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkRenderWindow,
    vtkVolume,
    vtkVolumeProperty,
)
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper
from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkOpenGLGPUVolumeRayCastMapper

import vtkmodules.vtkRenderingOpenGL2  # noqa: F401 (registers the OpenGL back end)
from inference.imaging.volume import Volume
from viewer.scene.convert import downsample, downsampled_affine, image_data, vtk_matrix
from viewer.scene.overlays2d import BoxOverlay
from viewer.scene.presets import STATUS_COLORS
from viewer.scene.saliency3d import Saliency3D

#: (HU, opacity per 5 mm) and (HU, rgb) of the lung preset: air outside clear, lung parenchyma a
#: faint red haze, soft tissue nearly clear (the chest wall would hide the lungs), bone and
#: contrast-filled vessels bright.
LUNG_OPACITY = ((-1024, 0.0), (-950, 0.0), (-850, 0.05), (-650, 0.09), (-500, 0.0), (-250, 0.0), (0, 0.012),
                (200, 0.03), (350, 0.25), (1200, 0.7), (3000, 0.8))
LUNG_COLORS = ((-1024, (0.0, 0.0, 0.0)), (-900, (0.75, 0.35, 0.3)), (-600, (0.95, 0.55, 0.45)),
               (-200, (0.8, 0.5, 0.4)), (100, (0.9, 0.7, 0.6)), (350, (1.0, 0.95, 0.85)), (3000, (1.0, 1.0, 1.0)))
OPACITY_UNIT_MM = 5.0


def lung_volume_property() -> vtkVolumeProperty:
    otf = vtkPiecewiseFunction()
    for hu, a in LUNG_OPACITY:
        otf.AddPoint(hu, a)
    ctf = vtkColorTransferFunction()
    for hu, rgb in LUNG_COLORS:
        ctf.AddRGBPoint(hu, *rgb)
    prop = vtkVolumeProperty()
    prop.SetScalarOpacity(otf)
    prop.SetColor(ctf)
    prop.SetInterpolationTypeToLinear()
    prop.SetScalarOpacityUnitDistance(OPACITY_UNIT_MM)
    prop.ShadeOff()  # an emissive haze reads better than shaded noise on low-dose CT
    return prop


def is_software_gl(render_window: vtkRenderWindow) -> bool:
    """True on a software OpenGL (Mesa llvmpipe/softpipe); initialises the window if needed."""
    if "OSOpenGL" in render_window.GetClassName():
        return True  # OSMesa renders in software by construction
    if render_window.GetOffScreenRendering() and not render_window.GetMapped():
        render_window.Initialize()
    caps = render_window.ReportCapabilities() or ""
    if "renderer string" not in caps:
        render_window.Initialize()
        caps = render_window.ReportCapabilities() or ""
    caps = caps.lower()
    return any(k in caps for k in ("llvmpipe", "softpipe", "software rasterizer", "swrast"))


class VolumeView:
    """3D rendering of one scan; ``set_interactive(True)`` while the user moves the camera.

    On a GPU the OpenGL ray caster renders; on software OpenGL (Mesa llvmpipe) the multi-threaded
    CPU ray caster is faster and is used instead. The first frame after ``set_volume`` is drawn at
    interactive quality; ``set_interactive(False)`` asks for full quality.
    """

    #: (image sample distance in pixels, ray sample distance in downsampled voxels)
    STILL = (1.0, 0.5)
    INTERACTIVE = (3.0, 1.5)

    def __init__(self, render_window: vtkRenderWindow, max_dim: int = 128) -> None:
        self.render_window = render_window
        self.max_dim = max_dim
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.05, 0.05, 0.08)
        render_window.AddRenderer(self.renderer)
        self.mapper: vtkOpenGLGPUVolumeRayCastMapper | vtkFixedPointVolumeRayCastMapper | None = None
        self.actor = vtkVolume()
        self.actor.SetProperty(lung_volume_property())
        self.actor.VisibilityOff()
        self.renderer.AddVolume(self.actor)
        self.box_append = vtkAppendPolyData()
        self.box_mapper = vtkPolyDataMapper()
        self.box_mapper.SetColorModeToDirectScalars()
        self.box_actor = vtkActor()
        self.box_actor.SetMapper(self.box_mapper)
        self.box_actor.GetProperty().SetLineWidth(2.5)
        self.box_actor.GetProperty().LightingOff()
        self.renderer.AddActor(self.box_actor)
        self.saliency = Saliency3D(self.renderer, render_window)
        self.volume: Volume | None = None
        self.interactive = False
        self.voxel_mm = 1.0

    def set_volume(self, volume: Volume) -> None:
        """Downsample to at most ``max_dim`` voxels per axis and show it in world mm."""
        self.volume = volume
        small, strides = downsample(volume, self.max_dim)
        self._small = small
        if self.mapper is None:
            if is_software_gl(self.render_window):
                self.mapper = vtkFixedPointVolumeRayCastMapper()
            else:
                self.mapper = vtkOpenGLGPUVolumeRayCastMapper()
            self.mapper.AutoAdjustSampleDistancesOff()
            self.mapper.SetBlendModeToComposite()
            self.actor.SetMapper(self.mapper)
        self.mapper.SetInputData(image_data(small))
        affine = downsampled_affine(volume.affine, strides)
        self.voxel_mm = float(np.linalg.norm(affine[:3, :3], axis=0).min())
        self.actor.SetUserMatrix(vtk_matrix(affine))
        self.actor.VisibilityOn()
        self.interactive = True  # the first frame comes fast; full quality follows
        self._apply_quality()
        self.reset_camera()

    def reset_camera(self) -> None:
        """Anterior view, superior up (patient's right on screen left)."""
        if self.volume is None:
            return
        lo, hi = self.volume.world_bounds()
        c = (lo + hi) / 2
        cam = self.renderer.GetActiveCamera()
        cam.SetFocalPoint(*c)
        cam.SetPosition(c[0], c[1] - 1000.0, c[2])
        cam.SetViewUp(0.0, 0.0, 1.0)
        self.renderer.ResetCamera(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        cam.Zoom(1.3)

    def set_boxes(self, boxes: tuple[BoxOverlay, ...]) -> None:
        from vtkmodules.vtkCommonCore import vtkUnsignedCharArray

        self.box_append.RemoveAllInputs()
        for box in boxes:
            src = vtkOutlineSource()
            src.SetBounds(box.lo[0], box.hi[0], box.lo[1], box.hi[1], box.lo[2], box.hi[2])
            src.Update()
            pd = src.GetOutput()
            rgb = vtkUnsignedCharArray()
            rgb.SetNumberOfComponents(3)
            color: tuple[float, ...] = (1.0, 1.0, 1.0) if box.selected else STATUS_COLORS[box.status]
            if box.dimmed and not box.selected:
                color = tuple(0.35 * c for c in color)
            for _ in range(pd.GetNumberOfCells()):
                rgb.InsertNextTuple3(*(int(255 * c) for c in color))
            pd.GetCellData().SetScalars(rgb)
            self.box_append.AddInputData(pd)
        if boxes:
            self.box_append.Update()
            self.box_mapper.SetInputConnection(self.box_append.GetOutputPort())
        self.box_actor.SetVisibility(bool(boxes))

    def set_interactive(self, interactive: bool) -> None:
        """Coarser sampling while the camera moves; call with False for the full-quality frame."""
        if interactive != self.interactive:
            self.interactive = interactive
            self._apply_quality()

    def _apply_quality(self) -> None:
        if self.mapper is None:
            return
        image_sd, ray_voxels = self.INTERACTIVE if self.interactive else self.STILL
        self.mapper.SetImageSampleDistance(image_sd)
        self.mapper.SetSampleDistance(ray_voxels * self.voxel_mm)

    def rotate(self, azimuth_deg: float, elevation_deg: float = 0.0) -> None:
        cam = self.renderer.GetActiveCamera()
        cam.Azimuth(azimuth_deg)
        cam.Elevation(elevation_deg)
        cam.OrthogonalizeViewUp()
        self.renderer.ResetCameraClippingRange()

    def downsampled_shape(self) -> tuple[int, ...]:
        return tuple(np.asarray(getattr(self, "_small", np.zeros((0, 0, 0)))).shape)

"""Offscreen render windows, grabbing their pixels, and composing view images into one picture
(snapshots, key images and the pixel assertions of the GUI tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkIOImage import vtkPNGWriter
from vtkmodules.vtkRenderingCore import vtkRenderWindow, vtkWindowToImageFilter

import vtkmodules.vtkRenderingOpenGL2  # noqa: F401 (registers the OpenGL back end)

#: view names per layout, row by row (None: an empty cell)
LAYOUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "2x2": (("axial", "coronal"), ("sagittal", "3d")),
    "axial": (("axial",),),
    "axial3d": (("axial", "3d"),),
}


def offscreen_window(width: int, height: int) -> vtkRenderWindow:
    rw = vtkRenderWindow()
    rw.SetOffScreenRendering(1)
    rw.SetSize(width, height)
    rw.SetMultiSamples(0)
    return rw


def grab(render_window: vtkRenderWindow) -> np.ndarray:
    """The window's current pixels as uint8 (height, width, 3), row 0 at the top.

    Renders first (a capture is the one place where a direct Render() is correct)."""
    render_window.Render()
    f = vtkWindowToImageFilter()
    f.SetInput(render_window)
    f.SetInputBufferTypeToRGB()
    f.ReadFrontBufferOff()
    f.Update()
    img = f.GetOutput()
    w, h, _ = img.GetDimensions()
    arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)[:, :, :3]
    return np.ascontiguousarray(arr[::-1])


def compose(layout: str, images: dict[str, np.ndarray], gap: int = 2) -> np.ndarray:
    """Tile view images (all the same size) in the layout's grid with a thin grey gap."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    rows = LAYOUTS[layout]
    h, w, _ = next(iter(images.values())).shape
    ncol = max(len(r) for r in rows)
    out = np.full((len(rows) * h + (len(rows) - 1) * gap, ncol * w + (ncol - 1) * gap, 3), 60, np.uint8)
    for i, row in enumerate(rows):
        for j, name in enumerate(row):
            out[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = images[name]
    return out


def write_png(pixels: np.ndarray, path: str | Path) -> Path:
    """Write uint8 (height, width, 3) pixels, row 0 at the top, as a PNG."""
    path = Path(path)
    h, w, _ = pixels.shape
    img = vtkImageData()
    img.SetDimensions(w, h, 1)
    arr = numpy_to_vtk(np.ascontiguousarray(pixels[::-1]).reshape(-1, 3), deep=True)
    img.GetPointData().SetScalars(arr)
    writer = vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(img)
    writer.Write()
    if not path.exists():
        from viewer.errors import OutputNotWritable

        raise OutputNotWritable(path, "the PNG could not be written", "Check that the folder is writable")
    return path

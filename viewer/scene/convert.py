"""numpy + affine → VTK objects. The only place where voxel arrays become vtkImageData.

Images are handed to VTK in *index space* (origin 0, spacing 1, identity direction); the affine is
applied by the consumer (reslice axes for slice views, a user matrix for the 3D view). That keeps
oblique and tilted grids exact without relying on vtkImageData direction support in every filter.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkCommonDataModel import vtkImageData

from inference.imaging.volume import Volume


def image_data(voxels: np.ndarray, spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> vtkImageData:
    """A (z, y, x) array as vtkImageData with x fastest (no copy when the array is C-contiguous).

    The returned object keeps a reference to the array it wraps.
    """
    arr = np.ascontiguousarray(voxels)
    nz, ny, nx = arr.shape
    img = vtkImageData()
    img.SetDimensions(nx, ny, nz)
    img.SetSpacing(*spacing)
    img.SetOrigin(0.0, 0.0, 0.0)
    scalars = numpy_to_vtk(arr.reshape(-1), deep=False)
    scalars.SetName("scalars")
    img.GetPointData().SetScalars(scalars)
    img._numpy_ref = arr  # type: ignore[attr-defined]  # keep the buffer alive
    return img


def volume_image(volume: Volume) -> vtkImageData:
    """The volume's voxels in index space (see module docstring)."""
    return image_data(volume.voxels)


def vtk_matrix(m: np.ndarray) -> vtkMatrix4x4:
    out = vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            out.SetElement(r, c, float(m[r, c]))
    return out


def reslice_axes(volume_affine: np.ndarray, plane_matrix: np.ndarray) -> vtkMatrix4x4:
    """Reslice axes that take plane (u, v, w) mm to the volume's (col, row, slice) index."""
    return vtk_matrix(np.linalg.inv(volume_affine) @ plane_matrix)


def downsample(volume: Volume, max_dim: int = 128) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Block-mean downsampled voxels (z, y, x) with at most ``max_dim`` per axis, and the integer
    strides (z, y, x) used. Block means keep small nodules visible where striding could skip them."""
    shape = np.asarray(volume.shape)
    sz, sy, sx = (int(s) for s in np.maximum(1, np.ceil(shape / max_dim).astype(int)))
    strides = (sz, sy, sx)
    v = volume.voxels
    nz, ny, nx = (shape // strides) if any(s > 1 for s in strides) else shape
    if strides == (1, 1, 1):
        return np.ascontiguousarray(v), strides
    cropped = v[: nz * sz, : ny * sy, : nx * sx]
    out = np.zeros((nz, ny, nx), np.float32)
    for dz in range(sz):  # accumulate strided views: no big temporary
        for dy in range(sy):
            for dx in range(sx):
                out += cropped[dz::sz, dy::sy, dx::sx]
    out /= sz * sy * sx
    return out.astype(volume.voxels.dtype if volume.voxels.dtype != np.uint8 else np.float32), strides


def downsampled_affine(affine: np.ndarray, strides_zyx: tuple[int, int, int]) -> np.ndarray:
    """Affine of a block-mean downsampled grid: index i of the small grid is the centre of
    block i*s .. i*s+s-1 of the original grid."""
    s = np.asarray(strides_zyx[::-1], float)  # (x, y, z)
    out = np.array(affine, float)
    out[:3, 3] = affine[:3, :3] @ ((s - 1) / 2) + affine[:3, 3]
    out[:3, :3] = affine[:3, :3] * s[None, :]
    return out

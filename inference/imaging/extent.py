"""Is there enough of the chest in a volume to screen it? One check, before detection runs.

Measured with the detectors of this repository (``classical`` and the CNN models share the
candidate generator of :mod:`inference.detection.candidates`): the blob filter works on 1, 2 and
4 mm isotropic grids of the lung region plus an 8 mm margin and takes numerical gradients on each,
so below 8 mm along an axis the 4 mm grid has fewer than two samples and detection dies inside
the worker ("Shape of array too small to calculate a numerical gradient"); 4 slices of 2 mm run,
3 do not. Eight millimetres is the technical floor, not a chest: the minimum used here is
:data:`MIN_EXTENT_MM` = 30 mm along every axis, the largest nodule the blob filter scores (its
largest scale, 7.5 mm, answers to a ~30 mm blob; a Lung-RADS nodule is at most 30 mm) and
:data:`MIN_VOXELS` = 3 samples along every axis (with one or two there is no neighbourhood in
which a nodule is seen as a blob, whatever their thickness). Every screening CT is far above
both (about 300 mm from apex to base).

:func:`check_screenable` is called by :meth:`inference.service.client.InferenceClient.detect`
for a volume before the worker is started, and by the worker's
:meth:`inference.service.worker.Runtime.handle` right after it reads a scan from a path (the
``detect`` and ``screen`` commands, the Ray actor), so no detection request reaches the detector
with less than this.
"""

from __future__ import annotations

from inference.imaging.errors import TooLittleChest
from inference.imaging.volume import Volume

MIN_VOXELS = 3
MIN_EXTENT_MM = 30.0


def extent_mm(volume: Volume) -> tuple[float, float, float]:
    """The (z, y, x) extent in mm that the voxels cover (count × spacing)."""
    nz, ny, nx = volume.shape
    sz, sy, sx = volume.spacing_zyx
    return nz * sz, ny * sy, nx * sx


def check_screenable(volume: Volume, subject: str | None = None) -> None:
    """Raise :class:`TooLittleChest` (naming ``subject``, else the volume's source) unless the
    volume has at least :data:`MIN_VOXELS` voxels and :data:`MIN_EXTENT_MM` mm along every axis."""
    mm = extent_mm(volume)
    small = [axis for axis, n, e in zip("zyx", volume.shape, mm, strict=True)
             if n < MIN_VOXELS or e < MIN_EXTENT_MM]
    if not small:
        return
    nz, ny, nx = volume.shape
    raise TooLittleChest(
        subject or volume.info.source or "the scan",
        f"too little of the chest to screen: the volume is {nz} × {ny} × {nx} voxels (z × y × x), "
        f"{mm[0]:.4g} × {mm[1]:.4g} × {mm[2]:.4g} mm, and too small along {', '.join(small)}; detection "
        f"needs at least {MIN_VOXELS} voxels and {MIN_EXTENT_MM:g} mm along every axis",
        "Open the whole chest CT series (a screening CT covers both lungs, about 300 mm from apex to "
        "base); a single slice, a localizer or a thin slab cannot be screened")

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

Enough chest is not yet enough lung: :func:`check_lungs` measures the aerated lung of the one lung
mask the worker computes per scan (:func:`inference.imaging.lung_mask.lung_mask`, shared with the
analysis of the findings) and refuses a scan below :data:`MIN_LUNG_ML` with :class:`NoLungFound`,
so that a head or abdomen CT, or a field of view that cuts the lungs away, is never reported as a
clean scan. Between that and :data:`PARTIAL_LUNG_ML` the scan is screened with a warning that part
of the lungs may lie outside it. Measured with that mask: the two LIDC screening CTs in
``../shared/data/lidc`` hold 3,683 and 5,226 mL, the demo phantom 3,854 mL; the abdomen CT in
``../shared/data/other`` and a head hold 0 mL; the lowest 30 mm of the LIDC lungs (what an abdomen
CT catches of the bases) 20 and 50 mL, a central 150 mm field of view 29 and 35 mL (the mask clears
air that touches the image edge, so lungs cut by the field of view mostly vanish), a 200 mm one
157 and 644 mL, a 60 mm mid-chest slab 1,362 and 1,686 mL, one lung alone 1,731 and 2,445 mL. The
minimum, 100 mL, is about 2 % of a screening chest's lungs and below the smallest test chest of
this repository (a 60 mm tall phantom, 146 mL): under it there is no lung to speak of. The partial
bound, 1,500 mL, is half of the low end of what a complete screening CT of an adult at full
inspiration holds (about 3,000 mL), so a whole chest does not warn while a thin slab, a small field
of view or the bases alone do (one lung alone, or a thicker slab, can lie above it).
"""

from __future__ import annotations

import numpy as np

from inference.imaging.errors import NoLungFound, TooLittleChest
from inference.imaging.volume import Volume

MIN_VOXELS = 3
MIN_EXTENT_MM = 30.0
#: below this much aerated lung (mL) a scan is refused: ``NoLungFound``
MIN_LUNG_ML = 100.0
#: below this much (mL) it is screened with a warning that part of the lungs may lie outside it
PARTIAL_LUNG_ML = 1500.0
#: what the messages say a screening chest CT holds
TYPICAL_LUNG_ML = "about 3,000–6,000 mL"


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


def lung_volume_ml(mask: np.ndarray, volume: Volume) -> float:
    """The volume in mL of a boolean lung mask on ``volume``'s grid."""
    if mask.shape != volume.shape:
        raise ValueError(f"lung mask shape {mask.shape} does not match the volume {volume.shape}")
    return float(np.count_nonzero(mask)) * float(np.prod(volume.spacing_zyx)) / 1000.0


def check_lungs(volume: Volume, mask: np.ndarray, subject: str | None = None) -> str | None:
    """Raise :class:`NoLungFound` (naming ``subject``, else the volume's source) when ``mask`` (the
    scan's lung mask) holds less than :data:`MIN_LUNG_ML`; return the warning for a scan below
    :data:`PARTIAL_LUNG_ML`, else None."""
    ml = lung_volume_ml(mask, volume)
    if ml < MIN_LUNG_ML:
        raise NoLungFound(
            subject or volume.info.source or "the scan",
            f"no aerated lung found: the lung mask holds {ml:.0f} mL, less than the {MIN_LUNG_ML:g} mL "
            f"needed to screen (a screening chest CT holds {TYPICAL_LUNG_ML}); this looks like a scan of "
            "another body part (head, neck, abdomen), a field of view that leaves the lungs out, or "
            "lungs without air, and it is not screened",
            "Open the chest CT series of this study (both lungs, from apex to base, in the field of view)")
    if ml < PARTIAL_LUNG_ML:
        return (f"only {ml:.0f} mL of aerated lung found; a screening chest CT holds {TYPICAL_LUNG_ML}: "
                "part of the lungs may lie outside the scan and nodules there are not searched")
    return None

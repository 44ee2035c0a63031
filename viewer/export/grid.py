"""Crops on the scan's grid (nodule masks, saliency maps) and where they sit in the scan.

A crop is a :class:`Volume` whose affine is the scan's affine shifted by a whole number of voxels.
Masks are uint8 (non-zero = nodule); saliency crops are float32 in 0..1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inference.imaging.volume import Volume
from viewer.export.errors import MissingAnalysis


def crop_offset(crop: Volume, scan: Volume, what: str) -> tuple[int, int, int]:
    """(z, y, x) index in ``scan`` of the crop's voxel (0, 0, 0); the crop must lie on the grid."""
    if not np.allclose(crop.affine[:3, :3], scan.affine[:3, :3], atol=1e-4):
        raise MissingAnalysis(what, "is not on the scan's voxel grid (other spacing or orientation)",
                              "Recompute it on the reviewed scan")
    off = scan.world_to_index(crop.origin)
    rounded = np.rint(off)
    if not np.allclose(off, rounded, atol=1e-3):
        raise MissingAnalysis(what, f"is shifted by a fraction of a voxel ({off.round(3).tolist()})",
                              "Recompute it on the reviewed scan")
    z, y, x = (int(v) for v in rounded)
    ends = np.asarray((z, y, x)) + np.asarray(crop.shape)
    if min(z, y, x) < 0 or np.any(ends > np.asarray(scan.shape)):
        raise MissingAnalysis(what, "reaches outside the scan", "Recompute it on the reviewed scan")
    return z, y, x


def frames_of(crop: Volume, scan: Volume, what: str, keep_empty: bool = False
              ) -> tuple[list[int], np.ndarray]:
    """The scan's slice indices the crop covers and full-size (n, rows, cols) frames for them.

    Slices where the crop is all zero are dropped unless ``keep_empty``.
    """
    z0, y0, x0 = crop_offset(crop, scan, what)
    nz, ny, nx = crop.shape
    keep = [k for k in range(nz) if keep_empty or np.any(crop.voxels[k])]
    frames = np.zeros((len(keep), scan.shape[1], scan.shape[2]), dtype=crop.voxels.dtype)
    for i, k in enumerate(keep):
        frames[i, y0:y0 + ny, x0:x0 + nx] = crop.voxels[k]
    return [z0 + k for k in keep], frames


def as_mask_volume(result: Any, scan: Volume, what: str) -> Volume:
    """A uint8 crop Volume from a nodule analysis result (or a mask Volume itself).

    Accepts a :class:`Volume`, or an object whose ``mask`` is a Volume, or one with a boolean
    ``mask`` array plus ``mask_origin_zyx`` (z, y, x) index on the scan's grid (as
    :class:`inference.nodules.AnalysisResult` has).
    """
    if isinstance(result, Volume):
        vol = result
    else:
        mask = getattr(result, "mask", None)
        if mask is None:
            raise MissingAnalysis(what, "has no nodule mask", "Run the nodule analysis again")
        if isinstance(mask, Volume):
            vol = mask
        else:
            origin = next((getattr(result, a) for a in ("mask_origin_zyx", "mask_origin", "origin")
                           if getattr(result, a, None) is not None), None)
            if origin is None:
                raise MissingAnalysis(what, "has a mask without its place in the scan",
                                      "Run the nodule analysis again")
            aff = scan.affine.copy()
            aff[:3, 3] = scan.index_to_world(np.asarray(origin, float))
            vol = Volume(np.asarray(mask).astype(np.uint8), aff, scan.info)
    if not np.any(vol.voxels):
        raise MissingAnalysis(what, "has an empty nodule mask", "Edit the finding's box and re-measure")
    return vol.with_voxels((np.asarray(vol.voxels) != 0).astype(np.uint8))

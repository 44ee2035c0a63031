"""Do the lungs lie whole inside the scan? A screening CT covers both lungs from apex to base; a
scan that stops inside them is screened, but the reader must know that nodules beyond it are not
searched.

:func:`lungs_cut_off` looks at the scan's lung mask (the one the worker computes per scan) in the
slices within :data:`END_MM` of the first and of the last slice: when the widest lung cross-section
there is at least :data:`CUT_FRACTION` of the widest one in the whole scan, the lungs run on past
that end. Only axial volumes are checked (for another slice orientation the ends are not the apex
and the base).

Measured with that mask on the scans in ``../shared/data/lidc`` and the demo phantom: the whole
LIDC-IDRI-0001, LIDC-IDRI-0002 and demo phantom have no lung within 5 mm of either end (their lungs
start 17-20 slices inside the scan), so they are not warned. With 40 mm cut off the top, 41 %, 18 %
and 54 % of the widest cross-section lie in the last 5 mm; 40 mm off the bottom of 0002 and of the
phantom leaves 14 % and 29 % (0001 has 50 mm below its bases, so that cut does not reach them: 0 %);
80 mm off either end leaves 11-88 %. 20 mm off the top of 0001, whose apices lie 20 mm below its
last slice, leaves the apex at the end (9 %, warned); the same cut of 0002 (26 mm above its apices)
leaves 0 %. The bound, 5 %, lies above a scan that grazes the lungs and below every cut through
them. The small test phantom (40 slices of a chest) has 13 % at its top: it is warned, truly.

:func:`one_lung_only` compares the aerated lung on the two sides of the body's midline: the whole
LIDC-IDRI-0001, LIDC-IDRI-0002, the demo phantom and the small test phantom hold 47 %, 47 %, 46 %
and 47 % on their smaller side; with one lung filled with soft tissue (as a collapse or a field of
view that misses it would leave it) 0-0.1 %. The bound, 20 %, is far from both.
"""

from __future__ import annotations

import numpy as np

from inference.imaging.volume import Volume

#: below this share of the aerated lung on one side of the body's midline, one lung is missing
ONE_SIDE_FRACTION = 0.2
#: how far from each end of the scan (mm) lung tissue counts as "at the end"
END_MM = 5.0
#: the fraction of the widest lung cross-section at an end above which the lungs are cut off
CUT_FRACTION = 0.05


def end_fractions(volume: Volume, mask: np.ndarray) -> tuple[float, float]:
    """(first, last): the widest lung cross-section within :data:`END_MM` of the first and of the
    last slice, as a fraction of the widest in the scan (0 when the mask is empty)."""
    if mask.shape != volume.shape:
        raise ValueError(f"lung mask shape {mask.shape} does not match the volume {volume.shape}")
    area = mask.reshape(mask.shape[0], -1).sum(axis=1).astype(np.float64)
    widest = float(area.max()) if area.size else 0.0
    if widest == 0.0:
        return 0.0, 0.0
    n = max(1, int(np.floor(END_MM / volume.spacing_zyx[0])) + 1)
    return float(area[:n].max()) / widest, float(area[-n:].max()) / widest


def lungs_cut_off(volume: Volume, mask: np.ndarray) -> str | None:
    """The warning for an axial scan whose lungs run on past its first or last slice, else None."""
    if not volume.is_axial:
        return None
    first, last = end_fractions(volume, mask)
    up = volume.direction[2, 2] > 0  # the last slice is the most superior one
    cut = [(f"top (the apices; {frac:.0%} of the widest lung section is in its last slices)" if top else
            f"bottom (the bases; {frac:.0%} of the widest lung section is in its first slices)")
           for frac, top in ((last, up), (first, not up)) if frac >= CUT_FRACTION]
    if not cut:
        return None
    return ("the lungs are cut off at the " + " and at the ".join(cut) + ": part of the lungs lies outside "
            "the scan and nodules there are not searched; a screening CT covers both lungs from apex to base")


def smaller_side_fraction(volume: Volume, mask: np.ndarray) -> tuple[float, bool]:
    """(share of the aerated lung on the side of the body's midline that holds less, whether that
    side is the patient's left). The midline is the middle of the body's columns (voxels above
    -500 HU) in the rows the lungs occupy, which leaves the table out. (0.5, False) for an empty mask."""
    if mask.shape != volume.shape:
        raise ValueError(f"lung mask shape {mask.shape} does not match the volume {volume.shape}")
    rows = np.nonzero(mask.any(axis=(0, 2)))[0]
    if rows.size == 0:
        return 0.5, False
    step = 4
    body = volume.voxels[::step, rows[0]:rows[-1] + 1:step, ::step] > -500
    cols = np.nonzero(body.any(axis=(0, 1)))[0]
    if cols.size == 0:
        return 0.5, False
    mid = (cols[0] + cols[-1]) / 2 * step
    per_col = mask.sum(axis=(0, 1))
    low = float(per_col[np.arange(mask.shape[2]) < mid].sum())
    total = float(per_col.sum())
    high = total - low
    low_is_left = volume.direction[0, 0] < 0  # LPS +x is the patient's left
    smaller_is_low = low <= high
    return min(low, high) / total, smaller_is_low == low_is_left


def one_lung_only(volume: Volume, mask: np.ndarray) -> str | None:
    """The warning for an axial scan whose aerated lung lies almost all on one side, else None."""
    if not volume.is_axial or abs(volume.direction[0, 0]) < 0.9:
        return None
    share, left_missing = smaller_side_fraction(volume, mask)
    if share >= ONE_SIDE_FRACTION:
        return None
    found, missing = ("right", "left") if left_missing else ("left", "right")
    return (f"only the {found} lung found ({share:.0%} of the aerated lung is on the {missing} side): the "
            f"{missing} lung lies outside the field of view or holds no air (collapse, effusion, resection); "
            "nodules there are not searched")

"""Registration of a prior CT to the current one on the lung region (SimpleITK).

Both scans are resampled to a coarse isotropic grid (HU clipped to the lung-to-soft-tissue range),
the lung masks' centres of mass give the start, then a rigid (Euler) and an affine stage
(Mattes mutual information, regular-step gradient descent, two resolution levels) run with the
current exam's dilated lung mask as the metric region. Affine covers different inspiration depth
(lungs scaled a few per cent) as well as patient position; different slice thickness and field of
view only change the grids, which SimpleITK handles in world mm.

No B-spline stage: on the follow-up phantoms, whose breathing shift is not affine (3-8 mm along
z at the lung base, none at the apex), the affine residual at the nodule centres is 0.6 mm median,
1.1 mm at most (``benchmarks/followup.py``), well inside the matching gate, so a deformable stage would add time
and a non-invertible map without a measurable gain.

The result maps world LPS points of the current exam to the prior and back. Its quality is the
Dice overlap of the two lung masks after registration; below :data:`MIN_LUNG_DICE` (or with too
little of the current lungs inside the prior's field of view) registration refuses with a
:class:`RegistrationFailed` / :class:`NoCommonLungs` instead of letting nodules be matched on
nonsense.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from inference.imaging.lung_mask import lung_mask
from inference.imaging.volume import Volume

from .errors import NoCommonLungs, RegistrationFailed

GRID_MM = 3.0  # the registration grid
MIN_LUNG_ML = 300.0  # less lung than this in either scan: no lungs to register
MIN_LUNG_DICE = 0.80  # lung-mask overlap after registration below this: refused
MIN_LUNG_OVERLAP = 0.5  # fraction of the current lungs that must lie inside the prior's scan
HU_RANGE = (-1000.0, 200.0)


@dataclass(frozen=True, slots=True)
class RegistrationQuality:
    lung_dice: float  # prior lungs mapped onto the current grid vs the current lungs, after
    lung_dice_start: float  # the same after the centre-of-mass start only
    lung_overlap: float  # fraction of the current lungs inside the prior's field of view
    metric: float  # final Mattes mutual information (lower is better)
    stages: tuple[str, ...]  # e.g. ("centre of mass", "rigid", "affine")

    def as_dict(self) -> dict:
        return {"lung_dice": round(self.lung_dice, 4), "lung_dice_start": round(self.lung_dice_start, 4),
                "lung_overlap": round(self.lung_overlap, 4), "metric": round(self.metric, 5),
                "stages": list(self.stages)}


@dataclass(frozen=True, slots=True, eq=False)
class Registration:
    """``matrix`` (4x4) maps current world LPS mm to prior world LPS mm."""

    matrix: np.ndarray
    quality: RegistrationQuality
    seconds: float

    def to_prior(self, points_xyz: np.ndarray | tuple | list) -> np.ndarray:
        p = np.asarray(points_xyz, float)
        return p @ self.matrix[:3, :3].T + self.matrix[:3, 3]

    def to_current(self, points_xyz: np.ndarray | tuple | list) -> np.ndarray:
        inv = np.linalg.inv(self.matrix)
        p = np.asarray(points_xyz, float)
        return p @ inv[:3, :3].T + inv[:3, 3]


def to_sitk(voxels: np.ndarray, volume: Volume) -> sitk.Image:
    """A SimpleITK image of ``voxels`` (z, y, x) on ``volume``'s grid (SimpleITK is LPS too)."""
    img = sitk.GetImageFromArray(voxels)
    img.SetSpacing(volume.spacing_xyz)
    img.SetOrigin(volume.origin)
    img.SetDirection(tuple(float(v) for v in volume.direction.ravel()))
    return img


def _coarse(volume: Volume, lungs: np.ndarray) -> tuple[sitk.Image, sitk.Image]:
    """The scan (float HU, smoothed, clipped) and its lungs on a GRID_MM isotropic grid."""
    hu = to_sitk(np.clip(volume.voxels.astype(np.float32), *HU_RANGE), volume)
    mask = to_sitk(lungs.astype(np.uint8), volume)
    size_mm = np.array(hu.GetSize()) * np.array(hu.GetSpacing())
    size = [max(8, int(np.ceil(s / GRID_MM))) for s in size_mm]
    # average blocks of about the grid size first (cheap anti-aliasing; a Gaussian on the full
    # 512 x 512 grid cost seconds)
    factors = [max(1, int(GRID_MM // s)) for s in hu.GetSpacing()]
    smoothed = sitk.BinShrink(hu, factors) if max(factors) > 1 else hu
    ref = sitk.Image(size, sitk.sitkFloat32)
    ref.SetSpacing((GRID_MM,) * 3)
    ref.SetDirection(hu.GetDirection())
    ref.SetOrigin(hu.GetOrigin())
    hu_c = sitk.Resample(smoothed, ref, sitk.Transform(), sitk.sitkLinear, HU_RANGE[0], sitk.sitkFloat32)
    mask_c = sitk.Resample(mask, ref, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return hu_c, mask_c


def _method(fixed_mask: sitk.Image, transform: sitk.Transform, iterations: int) -> sitk.ImageRegistrationMethod:
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=48)
    reg.SetMetricSamplingStrategy(reg.REGULAR)
    reg.SetMetricSamplingPercentage(0.25, seed=7)
    reg.SetMetricFixedMask(fixed_mask)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-3,
                                                 numberOfIterations=iterations,
                                                 relaxationFactor=0.6, gradientMagnitudeTolerance=1e-6)
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([2, 1])
    reg.SetSmoothingSigmasPerLevel([1.0, 0.0])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    reg.SetInitialTransform(transform, inPlace=True)
    return reg


def _matrix(t: sitk.Euler3DTransform | sitk.AffineTransform) -> np.ndarray:
    """4x4 of a SimpleITK matrix-offset transform (fixed/current point → moving/prior point)."""
    a = np.array(t.GetMatrix(), dtype=np.float64).reshape(3, 3)
    c = np.array(t.GetCenter(), dtype=np.float64)
    tr = np.array(t.GetTranslation(), dtype=np.float64)
    m = np.eye(4)
    m[:3, :3] = a
    m[:3, 3] = tr + c - a @ c
    return m


def _affine_transform(m: np.ndarray) -> sitk.AffineTransform:
    t = sitk.AffineTransform(3)
    t.SetMatrix(tuple(float(v) for v in m[:3, :3].ravel()))
    t.SetTranslation(tuple(float(v) for v in m[:3, 3]))
    return t


def _dice(fixed_mask: sitk.Image, moving_mask: sitk.Image, m: np.ndarray) -> tuple[float, float]:
    """(Dice of the mapped prior lungs vs the current lungs, fraction of current lungs in the prior FOV)."""
    warped = sitk.Resample(moving_mask, fixed_mask, _affine_transform(m), sitk.sitkNearestNeighbor, 0)
    inside = sitk.Resample(moving_mask * 0 + 1, fixed_mask, _affine_transform(m), sitk.sitkNearestNeighbor, 0)
    a = sitk.GetArrayViewFromImage(fixed_mask) > 0
    b = sitk.GetArrayViewFromImage(warped) > 0
    fov = sitk.GetArrayViewFromImage(inside) > 0
    denom = a.sum() + b.sum()
    dice = float(2.0 * (a & b).sum() / denom) if denom else 0.0
    overlap = float((a & fov).sum() / max(1, a.sum()))
    return dice, overlap


def _lung_ml(mask: np.ndarray, volume: Volume) -> float:
    return float(mask.sum()) * float(np.prod(volume.spacing_xyz)) / 1000.0


def register(prior: Volume, current: Volume, *, prior_lungs: np.ndarray | None = None,
             current_lungs: np.ndarray | None = None) -> Registration:
    """Align ``prior`` to ``current`` (rigid, then affine) on the lungs; refuse when it failed."""
    t0 = time.perf_counter()
    lungs = []
    for vol, given, which in ((prior, prior_lungs, "prior"), (current, current_lungs, "current")):
        m = lung_mask(vol) if given is None else np.asarray(given, bool)
        if _lung_ml(m, vol) < MIN_LUNG_ML:
            raise NoCommonLungs(vol.info.source or which,
                                f"the {which} scan shows {_lung_ml(m, vol):.0f} ml of lung (a chest CT "
                                f"has well over {MIN_LUNG_ML:.0f} ml)",
                                "Choose a chest CT of the same patient as the prior; "
                                "the current exam is read as a baseline meanwhile")
        lungs.append(m)
    fixed, fixed_mask = _coarse(current, lungs[1])
    moving, moving_mask = _coarse(prior, lungs[0])
    metric_mask = sitk.BinaryDilate(fixed_mask, [3, 3, 3])
    start = sitk.CenteredTransformInitializer(fixed_mask, moving_mask, sitk.Euler3DTransform(),
                                              sitk.CenteredTransformInitializerFilter.MOMENTS)
    rigid = sitk.Euler3DTransform(start)
    dice_start, _ = _dice(fixed_mask, moving_mask, _matrix(rigid))
    affine = sitk.AffineTransform(3)
    try:
        reg = _method(metric_mask, rigid, 200)
        reg.Execute(fixed, moving)
        affine.SetCenter(rigid.GetCenter())
        affine.SetMatrix(rigid.GetMatrix())
        affine.SetTranslation(rigid.GetTranslation())
        reg = _method(metric_mask, affine, 200)
        reg.Execute(fixed, moving)
    except RuntimeError as exc:  # e.g. all samples mapped outside the prior
        raise RegistrationFailed(prior.info.source or "prior", f"registration stopped ({exc})",
                                 "Check that the prior is a chest CT of this patient; "
                                 "the current exam is read as a baseline meanwhile") from exc
    m = _matrix(affine)
    dice, overlap = _dice(fixed_mask, moving_mask, m)
    quality = RegistrationQuality(dice, dice_start, overlap, float(reg.GetMetricValue()),
                                  ("centre of mass", "rigid", "affine"))
    subject = prior.info.source or "prior"
    if overlap < MIN_LUNG_OVERLAP:
        raise NoCommonLungs(subject, f"only {100 * overlap:.0f} % of the current exam's lungs lie inside "
                                     "the prior scan", "Choose a prior that covers the chest")
    if dice < MIN_LUNG_DICE:
        raise RegistrationFailed(subject, f"the lungs overlap with Dice {dice:.2f} after registration "
                                          f"(at least {MIN_LUNG_DICE:.2f} is needed)",
                                 "Check that the prior is a chest CT of the same patient; "
                                 "the current exam is read as a baseline meanwhile")
    return Registration(m, quality, time.perf_counter() - t0)


def resample_prior(prior: Volume, current: Volume, reg: Registration) -> Volume:
    """The prior on the current exam's grid through the registration (for side-by-side reading)."""
    out = sitk.Resample(to_sitk(prior.voxels.astype(np.float32), prior),
                        to_sitk(np.zeros(current.shape, np.uint8), current),
                        _affine_transform(reg.matrix), sitk.sitkLinear, -1024.0, sitk.sitkFloat32)
    vox = np.clip(np.rint(sitk.GetArrayFromImage(out)), -1024, 3071).astype(np.int16)
    return Volume(vox, current.affine, prior.info)

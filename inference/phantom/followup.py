"""Follow-up pairs with exact truth: a prior CT and a later CT of the same patient.

:func:`make_followup_phantom` draws one phantom's anatomy, then shows it again under a known
motion (rotation, shift and the lungs scaled by a different inspiration: one affine map) on
another grid (different slice thickness and field of view) with new noise, plus a non-affine
breathing shift along z (largest at the lung base, :class:`Motion`); nodules are stable,
grown by a known volume (doubling time), resolved or new. :func:`make_followup_from_scan` does
the same on a real scan (LIDC-IDRI): its real nodules stay as they are (stable), a planted nodule
grows and a new one appears. :func:`write_followup` writes both as DICOM studies of one patient
with ``truth.json``.

The truth's map (``FollowupPair.to_prior`` / ``to_current``; ``current_to_prior`` is its affine part)
takes a world LPS point of the current scan to the same anatomy in the prior scan and back.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.uid import generate_uid

from inference.imaging.lung_mask import lung_mask
from inference.imaging.volume import SeriesInfo, Volume
from inference.domain.nodule import NoduleType
from inference.phantom import _add_noise, make_phantom
from inference.phantom.nodules import NoduleSpec, PhantomError, insert_nodule
from inference.phantom.placement import Placer

PRIOR_DATE = dt.date(2024, 3, 2)
FU_SHAPE_ZYX = (72, 160, 160)
FU_SPACING_ZYX = (1.5, 1.5, 1.5)


@dataclass(frozen=True, slots=True)
class NoduleTruth:
    """One nodule across the pair. ``prior_*`` None: new; ``current_*`` None: resolved."""

    key: str
    nodule_type: NoduleType
    prior_center: tuple[float, float, float] | None  # prior world LPS mm
    current_center: tuple[float, float, float] | None  # current world LPS mm
    prior_diameter_mm: float | None
    current_diameter_mm: float | None
    prior_volume_mm3: float | None  # of the drawn mask (None for a real nodule: not known exactly)
    current_volume_mm3: float | None
    solid_fraction: float = 0.5
    real: bool = False  # a nodule of the real scan (stable by construction)

    @property
    def status(self) -> str:
        if self.prior_center is None:
            return "new"
        return "resolved" if self.current_center is None else "matched"

    def doubling_time_days(self, interval_days: int) -> float | None:
        """Schultz: interval × ln 2 / ln(V2 / V1) from the drawn volumes (None: no growth)."""
        v1, v2 = self.prior_volume_mm3, self.current_volume_mm3
        if v1 is None or v2 is None or self.prior_diameter_mm == self.current_diameter_mm or v2 <= v1:
            return None
        return float(interval_days * np.log(2.0) / np.log(v2 / v1))

    def as_dict(self, interval_days: int) -> dict:
        def r(v: object) -> object:
            if v is None:
                return None
            if isinstance(v, tuple):
                return [round(float(x), 3) for x in v]
            return round(float(v), 3)  # type: ignore[arg-type]  # numbers only here
        return {"key": self.key, "status": self.status, "type": self.nodule_type.value,
                "prior_center_lps_mm": r(self.prior_center), "current_center_lps_mm": r(self.current_center),
                "prior_diameter_mm": r(self.prior_diameter_mm), "current_diameter_mm": r(self.current_diameter_mm),
                "prior_volume_mm3": r(self.prior_volume_mm3), "current_volume_mm3": r(self.current_volume_mm3),
                "doubling_time_days": r(self.doubling_time_days(interval_days)), "real": self.real}


@dataclass(frozen=True, slots=True, eq=False)
class Motion:
    """Current world → prior world: ``matrix`` (rotation, shift, inspiration scaling) after a non-affine
    breathing shift along z, ``breath_mm`` at the lung base falling to 0 at the apex (quadratically):
    ``to_prior(p) = matrix · (p + (0, 0, b(p_z)))``, ``b(z) = breath_mm · clip((top - z) / (top - base), 0, 1)²``.
    """

    matrix: np.ndarray
    breath_mm: float = 0.0
    z_top: float = 0.0
    z_base: float = -1.0

    def breath(self, z: np.ndarray) -> np.ndarray:
        t = np.clip((self.z_top - z) / (self.z_top - self.z_base), 0.0, 1.0)
        return self.breath_mm * t * t

    def to_prior(self, p: np.ndarray | tuple) -> np.ndarray:
        q = np.array(p, float)
        q[..., 2] = q[..., 2] + self.breath(q[..., 2])
        return q @ self.matrix[:3, :3].T + self.matrix[:3, 3]

    def to_current(self, p: np.ndarray | tuple) -> np.ndarray:
        inv = np.linalg.inv(self.matrix)
        q = np.asarray(p, float) @ inv[:3, :3].T + inv[:3, 3]  # = c + b(c_z) along z: solve for c
        z = q[..., 2].copy()
        for _ in range(50):  # a contraction: |db/dz| < 1 for the amplitudes used here
            z = q[..., 2] - self.breath(z)
        out = np.array(q)
        out[..., 2] = z
        return out

    def sitk_transform(self, grid: sitk.Image) -> sitk.Transform:
        """The map as a SimpleITK transform (the breathing shift sampled on ``grid``)."""
        t = sitk.AffineTransform(3)
        t.SetMatrix(tuple(float(v) for v in self.matrix[:3, :3].ravel()))
        t.SetTranslation(tuple(float(v) for v in self.matrix[:3, 3]))
        if self.breath_mm == 0.0:
            return t
        size = grid.GetSize()
        idx = np.stack(np.meshgrid(np.arange(size[2]), [0], [0], indexing="ij"), -1).reshape(-1, 3)[:, ::-1]
        zs = np.array([grid.TransformContinuousIndexToPhysicalPoint(tuple(float(v) for v in i))[2] for i in idx])
        field = np.zeros((size[2], size[1], size[0], 3))
        field[..., 2] = self.breath(zs)[:, None, None]
        disp = sitk.GetImageFromArray(field, isVector=True)
        disp.CopyInformation(grid)
        return sitk.CompositeTransform([t, sitk.DisplacementFieldTransform(disp)])  # breath first, then matrix


@dataclass(frozen=True, eq=False)
class FollowupPair:
    prior: Volume
    current: Volume
    nodules: tuple[NoduleTruth, ...]
    current_to_prior: np.ndarray  # 4x4, current world LPS mm → prior world LPS mm
    interval_days: int
    prior_lungs: np.ndarray  # bool, prior grid
    current_lungs: np.ndarray  # bool, current grid
    motion: Motion | None = None  # the exact map (``current_to_prior`` is its affine part)

    def to_prior(self, p: np.ndarray | tuple) -> np.ndarray:
        return (self.motion or Motion(self.current_to_prior)).to_prior(p)

    def to_current(self, p: np.ndarray | tuple) -> np.ndarray:
        return (self.motion or Motion(self.current_to_prior)).to_current(p)


def motion(rng: np.random.Generator, center: np.ndarray, *, max_deg: float = 4.0, max_shift_mm: float = 8.0,
           inspiration: float = 0.04) -> np.ndarray:
    """A random current → prior map: rotation, shift and per-axis scaling (inspiration) about ``center``."""
    ax, ay, az = np.deg2rad(rng.uniform(-max_deg, max_deg, 3))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    # deeper breath in the current scan: its lungs larger (most along the body axis)
    sign = rng.choice([-1.0, 1.0])
    scale = 1.0 + sign * rng.uniform(0.5, 1.0) * inspiration * np.array([0.6, 0.6, 1.0])
    a = rz @ ry @ rx @ np.diag(1.0 / scale)
    m = np.eye(4)
    m[:3, :3] = a
    m[:3, 3] = center - a @ center + rng.uniform(-max_shift_mm, max_shift_mm, 3)
    return m


def _sitk(volume: Volume, voxels: np.ndarray) -> sitk.Image:
    img = sitk.GetImageFromArray(voxels)
    img.SetSpacing(volume.spacing_xyz)
    img.SetOrigin(volume.origin)
    img.SetDirection(tuple(float(v) for v in volume.direction.ravel()))
    return img


def resample_to(source: Volume, lungs: np.ndarray, m: Motion, affine: np.ndarray,
                shape_zyx: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``source`` seen through map ``m`` (target world → source world) on a new grid: (int16 HU, lungs)."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    ref = sitk.Image([int(shape_zyx[2]), int(shape_zyx[1]), int(shape_zyx[0])], sitk.sitkInt16)
    ref.SetSpacing(tuple(float(s) for s in spacing))
    ref.SetOrigin(tuple(float(v) for v in affine[:3, 3]))
    ref.SetDirection(tuple(float(v) for v in (affine[:3, :3] / spacing[None, :]).ravel()))
    t = m.sitk_transform(ref)
    hu = sitk.Resample(_sitk(source, source.voxels.astype(np.float32)), ref, t, sitk.sitkLinear, -1024.0,
                       sitk.sitkFloat32)
    lung = sitk.Resample(_sitk(source, lungs.astype(np.uint8)), ref, t, sitk.sitkNearestNeighbor, 0)
    vox = np.clip(np.rint(sitk.GetArrayFromImage(hu)), -1024, 3071).astype(np.int16)
    return vox, sitk.GetArrayFromImage(lung) > 0


def _breathing(matrix: np.ndarray, lungs: np.ndarray, prior: Volume, amplitude_mm: float) -> Motion:
    """The affine ``matrix`` plus a breathing shift of ``amplitude_mm`` at the lung base (current frame)."""
    z = prior.index_to_world(np.argwhere(lungs))[:, 2]
    inv = np.linalg.inv(matrix)
    zs = np.array([[0.0, 0.0, z.max()], [0.0, 0.0, z.min()]]) @ inv[:3, :3].T + inv[:3, 3]
    top, base = float(max(zs[:, 2])), float(min(zs[:, 2]))
    return Motion(matrix, amplitude_mm, top, base)


def _current_grid(prior: Volume, m: np.ndarray, spacing_zyx: tuple[float, float, float],
                  rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int]]:
    """An axial grid covering the prior's anatomy in the current frame, field of view trimmed a little."""
    lo, hi = prior.world_bounds()
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    inv = np.linalg.inv(m)
    w = corners @ inv[:3, :3].T + inv[:3, 3]
    trim = rng.uniform(0.0, 0.04, 2) * (w.max(0) - w.min(0))[:2]  # a slightly smaller field of view
    wlo, whi = w.min(0), w.max(0)
    wlo[:2] += trim
    whi[:2] -= trim
    sz, sy, sx = spacing_zyx
    shape = tuple(int(np.floor((whi[i] - wlo[i]) / s)) + 1 for i, s in ((2, sz), (1, sy), (0, sx)))
    return Volume.make_affine((sx, sy, sz), tuple(wlo)), shape  # type: ignore[return-value]


def _dates(interval_days: int) -> tuple[str, str]:
    return PRIOR_DATE.strftime("%Y%m%d"), (PRIOR_DATE + dt.timedelta(days=interval_days)).strftime("%Y%m%d")


def _far(d: float, cuts: tuple[float, ...], margin: float) -> bool:
    return all(abs(d - c) >= margin for c in cuts)


def _growing(rng: np.random.Generator, interval_days: int) -> tuple[float, float]:
    """(d1, d2) of a solid nodule growing with a doubling time of 120-450 days, its diameter up by
    >= 3 mm per 12 months and both sizes >= 1 mm (d2: 1.5 mm) away from the Lung-RADS cut-offs."""
    per_year = 12.0 / max(12.0, interval_days / (365.25 / 12.0))
    for _ in range(200):
        ratio = 2.0 ** (interval_days / (3.0 * float(rng.uniform(120.0, 450.0))))
        for d1 in rng.permutation(np.arange(5.0, 14.01, 0.5)):
            d2 = float(d1 * ratio)
            if (d2 <= 25.0 and (d2 - d1) * per_year >= 3.0 and _far(float(d1), (6.0, 8.0, 15.0), 1.0)
                    and _far(d2, (8.0, 15.0), 1.5)):
                return float(d1), round(d2, 2)
    raise PhantomError(f"no growing nodule fits an interval of {interval_days} days; use 180 days or more")


def _specs(rng: np.random.Generator, interval_days: int) -> list[tuple[str, float | None, float | None]]:
    """(kind, prior diameter, current diameter) away from the Lung-RADS size and growth thresholds."""
    out: list[tuple[str, float | None, float | None]] = [("grow", *_growing(rng, interval_days)) for _ in range(2)]
    d_stable = float(rng.choice([5.0, 7.0, 10.5, 12.0]))
    out.append(("stable", d_stable, d_stable))
    out.append(("resolved", float(rng.choice([5.0, 7.0, 10.0])), None))
    out.append(("new", None, float(rng.choice([5.0, 7.0, 10.0]))))
    return out


def _place(placer: Placer, volume: Volume, d: float) -> tuple[float, float, float]:
    p = placer.place(NoduleSpec(None, d))  # grid mm (z, y, x) = index * spacing
    w = volume.index_to_world(p / np.asarray(volume.spacing_zyx))
    return (float(w[0]), float(w[1]), float(w[2]))


def _draw_pair(prior_vox: np.ndarray, prior_aff: np.ndarray, cur_vox: np.ndarray, cur_aff: np.ndarray,
               plan: list[tuple[str, float | None, float | None]], centres: list[tuple[float, float, float]],
               m: Motion, seed: int, prior_lung: np.ndarray, cur_lung: np.ndarray) -> list[NoduleTruth]:
    truth = []
    for i, ((kind, d1, d2), c) in enumerate(zip(plan, centres, strict=True)):
        w = m.to_current(c)
        cc = (float(w[0]), float(w[1]), float(w[2]))
        v1 = v2 = None
        # the same generator state for both drawings: the same lobulated shape, only larger
        if d1 is not None:
            v1 = insert_nodule(prior_vox, prior_aff, NoduleSpec(c, d1), np.random.default_rng([seed, i]),
                               lung=prior_lung).volume_mm3
        if d2 is not None:
            v2 = insert_nodule(cur_vox, cur_aff, NoduleSpec(cc, d2), np.random.default_rng([seed, i]),
                               lung=cur_lung).volume_mm3
        truth.append(NoduleTruth(f"T{i + 1}-{kind}", NoduleType.SOLID, c if d1 is not None else None,
                                 cc if d2 is not None else None, d1, d2, v1, v2))
    return truth


def make_followup_phantom(seed: int = 0, shape_zyx: tuple[int, int, int] = FU_SHAPE_ZYX,
                          spacing_zyx: tuple[float, float, float] = FU_SPACING_ZYX,
                          interval_days: int | None = None,
                          current_slice_mm: float | None = None) -> FollowupPair:
    """A phantom prior and its follow-up: 2 growing, 1 stable, 1 resolved and 1 new solid nodule."""
    rng = np.random.default_rng([seed, 1001])
    if interval_days is None:
        interval_days = int(rng.choice([182, 365, 365, 730]))
    if interval_days <= 0:
        raise PhantomError(f"interval_days={interval_days}: the follow-up must come after the prior")
    base = make_phantom(seed, shape_zyx, spacing_zyx, nodules=[], noise_hu=0.0)
    prior = base.volume
    lungs_prior = base.lung_mask
    center = prior.index_to_world(np.argwhere(lungs_prior).mean(axis=0))
    m = _breathing(motion(rng, center), lungs_prior, prior, float(rng.uniform(3.0, 8.0)))
    slice_mm = current_slice_mm or float(rng.choice([1.0, 1.25, 2.0]))
    cur_aff, cur_shape = _current_grid(prior, m.matrix, (slice_mm, spacing_zyx[1] * 0.95, spacing_zyx[2] * 0.95),
                                       rng)
    cur_vox, cur_lungs = resample_to(prior, lungs_prior, m, cur_aff, cur_shape)
    prior_vox = np.array(prior.voxels)
    plan = _specs(rng, interval_days)
    placer = Placer(lungs_prior, spacing_zyx, list(base.vessels), rng, prior_vox)
    centres = [_place(placer, prior, max(d for d in (d1, d2) if d is not None)) for _, d1, d2 in plan]
    truth = _draw_pair(prior_vox, prior.affine, cur_vox, cur_aff, plan, centres, m, seed, lungs_prior, cur_lungs)
    _add_noise(prior_vox, spacing_zyx, 25.0, np.random.default_rng([seed, 2]))
    _add_noise(cur_vox, (slice_mm, spacing_zyx[1], spacing_zyx[2]), 30.0, np.random.default_rng([seed, 3]))
    d_prior, d_cur = _dates(interval_days)
    info = replace(prior.info, patient_id=f"PHANTOM-FU-{seed}", patient_name="SYNTHETIC^FOLLOWUP",
                   source=f"phantom-followup:seed={seed}:prior")
    prior_info = replace(info, study_date=d_prior, study_instance_uid=generate_uid(entropy_srcs=[str(seed), "p"]),
                         series_instance_uid=generate_uid(entropy_srcs=[str(seed), "ps"]))
    cur_info = replace(info, study_date=d_cur, study_instance_uid=generate_uid(entropy_srcs=[str(seed), "c"]),
                       series_instance_uid=generate_uid(entropy_srcs=[str(seed), "cs"]),
                       frame_of_reference_uid=generate_uid(entropy_srcs=[str(seed), "cf"]),
                       slice_thickness_mm=slice_mm, source=f"phantom-followup:seed={seed}:current")
    return FollowupPair(Volume(prior_vox, prior.affine, prior_info), Volume(cur_vox, cur_aff, cur_info),
                        tuple(truth), m.matrix, interval_days, lungs_prior, cur_lungs, m)


def make_followup_from_scan(prior: Volume, real_nodules: list[tuple[tuple[float, float, float], float]],
                            seed: int = 0, interval_days: int = 365,
                            current_spacing_zyx: tuple[float, float, float] = (2.0, 0.8, 0.8),
                            real_type: NoduleType = NoduleType.SOLID) -> FollowupPair:
    """A follow-up of a real scan: known motion, resampling and new noise; its ``real_nodules``
    ((world centre, diameter) each, e.g. LUNA16 annotations) stay stable; a planted solid nodule
    grows (doubling time about 250 days) and a new one appears. The prior is the real scan with
    the planted nodule drawn in (nothing else changed)."""
    rng = np.random.default_rng([seed, 2002])
    lungs = lung_mask(prior)
    center = prior.index_to_world(np.argwhere(lungs).mean(axis=0))
    m = _breathing(motion(rng, center, max_deg=3.0, max_shift_mm=10.0), lungs, prior, float(rng.uniform(3.0, 6.0)))
    cur_aff, cur_shape = _current_grid(prior, m.matrix, current_spacing_zyx, rng)
    cur_vox, cur_lungs = resample_to(prior, lungs, m, cur_aff, cur_shape)
    prior_vox = np.array(prior.voxels)
    placer = Placer(lungs, prior.spacing_zyx, [], rng, prior_vox)
    for c, d in real_nodules:
        p = prior.world_to_index(c) * np.asarray(prior.spacing_zyx)
        placer.reserve(p, d / 2.0)
    ratio = 2.0 ** (interval_days / (3.0 * 250.0))
    d1 = 9.0
    plan: list[tuple[str, float | None, float | None]] = [("grow", d1, round(d1 * ratio, 2)), ("new", None, 7.0)]
    centres = [_place(placer, prior, d1 * ratio), _place(placer, prior, 7.0)]
    truth = _draw_pair(prior_vox, prior.affine, cur_vox, cur_aff, plan, centres, m, seed, lungs, cur_lungs)
    for i, (c, d) in enumerate(real_nodules):
        cc = tuple(float(v) for v in m.to_current(c))
        truth.append(NoduleTruth(f"R{i + 1}-stable", real_type, tuple(float(v) for v in c),  # type: ignore[arg-type]
                                 cc, d, d, None, None, real=True))  # type: ignore[arg-type]
    noise_rng = np.random.default_rng([seed, 5])
    _add_noise(cur_vox, current_spacing_zyx, 20.0, noise_rng)
    d_prior, d_cur = _dates(interval_days)
    pid = prior.info.patient_id or "LIDC-FOLLOWUP"
    prior_info = replace(prior.info, study_date=prior.info.study_date or d_prior, patient_id=pid)
    try:
        prior_day = dt.datetime.strptime(prior_info.study_date, "%Y%m%d").date()
    except ValueError:
        prior_day, prior_info = PRIOR_DATE, replace(prior_info, study_date=d_prior)
    cur_info = replace(prior_info, study_date=(prior_day + dt.timedelta(days=interval_days)).strftime("%Y%m%d"),
                       study_instance_uid=_uid(prior_info, seed, "c"), series_instance_uid=_uid(prior_info, seed, "cs"),
                       frame_of_reference_uid=_uid(prior_info, seed, "f"),
                       sop_instance_uids=(), source_files=(), slice_thickness_mm=current_spacing_zyx[0],
                       source=f"{prior.info.source} follow-up (seed {seed})")
    prior_info = replace(prior_info, source=f"{prior.info.source} with a planted nodule",
                         study_instance_uid=_uid(prior_info, seed, "p"),
                         series_instance_uid=_uid(prior_info, seed, "ps"),
                         sop_instance_uids=(), source_files=())
    return FollowupPair(Volume(prior_vox, prior.affine, prior_info), Volume(cur_vox, cur_aff, cur_info),
                        tuple(truth), m.matrix, interval_days, lungs, cur_lungs, m)


def _uid(info: SeriesInfo, seed: int, part: str) -> str:
    return str(generate_uid(entropy_srcs=[info.series_instance_uid, str(seed), part]))


def write_followup(pair: FollowupPair, out_dir: str | Path) -> dict[str, Path]:
    """``out/prior/`` and ``out/current/`` (DICOM CT series, one patient, two studies) and ``out/truth.json``."""
    from inference.imaging.dicom_writer import write_series

    out = Path(out_dir)
    paths = {}
    for name, vol in (("prior", pair.prior), ("current", pair.current)):
        i = vol.info
        write_series(vol, out / name, series_description=f"Follow-up pair: {name}", patient_name=i.patient_name,
                     patient_id=i.patient_id, study_date=i.study_date, study_instance_uid=i.study_instance_uid,
                     series_instance_uid=i.series_instance_uid, frame_of_reference_uid=i.frame_of_reference_uid,
                     uid_seed=i.series_instance_uid)
        paths[name] = out / name
    mo = pair.motion
    truth = {"interval_days": pair.interval_days,
             "breathing": None if mo is None else {"amplitude_mm": mo.breath_mm, "z_top": mo.z_top,
                                                   "z_base": mo.z_base},
             "prior_study_date": pair.prior.info.study_date,
             "current_study_date": pair.current.info.study_date, "patient_id": pair.current.info.patient_id,
             "current_to_prior": [[round(float(v), 6) for v in row] for row in pair.current_to_prior],
             "nodules": [n.as_dict(pair.interval_days) for n in pair.nodules]}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    paths["truth"] = out / "truth.json"
    return paths

"""One entry point: segment, measure, type, locate, Brock risk and Lung-RADS for a nodule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from inference.domain.finding import Box3D
from inference.domain.nodule import Measurement, NoduleAnalysis, PriorNodule, Zone
from inference.imaging.lung_mask import lung_mask as shared_lung_mask
from inference.imaging.volume import Volume

from .brock import ClinicalInputs, brock_probability
from .errors import NoNoduleAtSeed, SeedOutsideScan
from .location import locate
from .lungrads import MANAGEMENT, classify_nodule, growth_from_prior
from .measure import measure
from .segment import Segmentation, make_crop, segment, touches_crop_border

CALCIUM_HU = 200.0
DEFAULT_HALF_MM = 20.0
MAX_HALF_MM = 40.0


@dataclass(frozen=True)
class AnalysisResult:
    """The analysis and the nodule's mask as a crop of the scan's voxel grid."""

    analysis: NoduleAnalysis
    mask: np.ndarray  # bool (z, y, x) crop
    mask_origin_zyx: tuple[int, int, int]  # where the crop's voxel (0, 0, 0) sits in the scan
    solid_mask: np.ndarray | None = None  # part-solid: the solid component on the same crop

    @property
    def measurement(self) -> Measurement:
        """Shortcut to ``analysis.measurement``."""
        return self.analysis.measurement

    def world_box(self, volume: Volume) -> Box3D:
        """The axis-aligned world box (LPS mm) around the mask's voxels, edges included."""
        idx = np.argwhere(self.mask)
        if idx.size == 0:
            raise ValueError("the nodule mask is empty")
        lo = idx.min(axis=0) + np.asarray(self.mask_origin_zyx) - 0.5
        hi = idx.max(axis=0) + np.asarray(self.mask_origin_zyx) + 0.5
        corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1])
                            for c in (lo[2], hi[2])])
        world = volume.index_to_world(corners)
        return Box3D(tuple(world.min(axis=0)), tuple(world.max(axis=0)))

    def full_mask(self, shape: Sequence[int]) -> np.ndarray:
        """The mask on a full grid of ``shape`` (z, y, x)."""
        out = np.zeros(tuple(int(s) for s in shape), bool)
        o = self.mask_origin_zyx
        sl = tuple(slice(o[i], min(o[i] + self.mask.shape[i], out.shape[i])) for i in range(3))
        out[sl] = self.mask[tuple(slice(0, s.stop - s.start) for s in sl)]
        return out


def _calcified(seg: Segmentation) -> bool:
    """Diffuse (most of the nodule) or central (its core) calcium density."""
    hu = seg.crop.hu[seg.mask]
    if hu.size == 0:
        return False
    if np.mean(hu > CALCIUM_HU) >= 0.5:
        return True
    dist = ndi.distance_transform_edt(seg.mask, sampling=seg.crop.spacing_zyx)
    core = seg.mask & (dist >= 0.5 * dist.max())
    return bool(core.any() and np.median(seg.crop.hu[core]) > CALCIUM_HU)


def _segment_adaptive(volume: Volume, seed_zyx: np.ndarray, half_mm: float,
                      lung: np.ndarray | None = None) -> Segmentation:
    source = volume.info.source
    while True:
        crop = make_crop(volume.voxels, volume.spacing_zyx, seed_zyx, half_mm, lung)
        try:
            seg = segment(crop)
        except ValueError as exc:
            raise NoNoduleAtSeed(source, str(exc),
                                 "Place the point on the nodule (a dense spot in lung window)") from exc
        if not seg.mask.any():
            raise NoNoduleAtSeed(source, "no nodule could be segmented at the point",
                                 "Place the point on the nodule (a dense spot in lung window)")
        if not touches_crop_border(seg) or half_mm >= MAX_HALF_MM:
            return seg
        half_mm = min(MAX_HALF_MM, half_mm * 1.75)


def analyze(volume: Volume, center: np.ndarray | tuple[float, ...] | list[float], box: Box3D | None = None,
            *, clinical: ClinicalInputs | None = None,
            nodule_count: int = 1, lung_mask: np.ndarray | None = None,
            prior: PriorNodule | None = None, spiculated: bool | None = None) -> AnalysisResult:
    """Analyse the nodule at world LPS point ``center`` (a detection centre or a click).

    ``box`` (a world-mm ``Box3D``) sizes the search region; ``clinical`` feeds the Brock model
    (age/sex from the DICOM header by default); ``lung_mask`` (bool, scan grid) gives side and
    zone — computed when omitted; ``prior`` makes this a follow-up (new / growing / stable).
    """
    if not volume.contains_world(center):
        raise SeedOutsideScan(volume.info.source, f"point {tuple(round(float(c), 1) for c in center)}"
                              " mm lies outside the scan",
                              "Give a world LPS point (x,y,z mm) inside the scan, e.g. a finding's centre "
                              "from `nodulelens detect` or the viewer's cursor readout")
    if nodule_count < 1:
        raise ValueError(f"nodule_count must be >= 1, got {nodule_count}")
    seed = volume.world_to_index(center)
    half = DEFAULT_HALF_MM
    if box is not None:
        half = float(np.clip(0.8 * max(box.size) + 5.0, 12.0, MAX_HALF_MM))
    seg = _segment_adaptive(volume, seed, half, lung_mask)
    m = measure(seg, volume.index_to_world)
    calcified = _calcified(seg)
    lung = np.asarray(shared_lung_mask(volume) if lung_mask is None else lung_mask, bool)
    side, zone, note = locate(volume, center, lung)
    juxta = seg.juxta_pleural
    if juxta and lung_mask is not None and seg.wall_contact is not None:
        # with a real lung mask: the dense tissue the nodule touches must lie outside the lungs
        o, sh = seg.crop.origin_zyx, seg.mask.shape
        lung_crop = lung[o[0]:o[0] + sh[0], o[1]:o[1] + sh[1], o[2]:o[2] + sh[2]]
        juxta = bool((seg.wall_contact & ~lung_crop).sum() >= 3)
    if clinical is None:
        clinical = ClinicalInputs.from_series_info(volume.info)
    if spiculated is not None and clinical.spiculation is None:
        clinical = ClinicalInputs(clinical.age_years, clinical.sex, clinical.family_history,
                                  clinical.emphysema, spiculated)
    risk, defaults_used = brock_probability(
        size_mm=max(m.mean_diameter_mm, 0.1), nodule_type=seg.nodule_type,
        upper_lobe=zone is Zone.UPPER, nodule_count=nodule_count, clinical=clinical)
    growth = growth_from_prior(m.mean_diameter_mm, prior, m.solid_component_mm)
    values, _ = clinical.resolved()
    cat, reason = classify_nodule(
        nodule_type=seg.nodule_type, mean_diameter_mm=m.mean_diameter_mm,
        solid_component_mm=m.solid_component_mm, growth=growth, calcified=calcified,
        juxta_pleural=juxta, smooth_margins=not values.spiculation,
        suspicious_features=bool(clinical.spiculation),
        prior_category=prior.category if prior is not None else None)
    analysis = NoduleAnalysis(
        measurement=m, nodule_type=seg.nodule_type, calcified=calcified,
        juxta_pleural=juxta, side=side, zone=zone, location_note=note,
        malignancy_risk=round(risk, 4), risk_defaults_used=defaults_used, lung_rads=cat,
        lung_rads_reason=reason, management=MANAGEMENT[cat], nodule_count=nodule_count,
        growth=growth)
    return AnalysisResult(analysis, seg.mask.copy(), seg.crop.origin_zyx,
                          None if seg.solid_mask is None else seg.solid_mask.copy())

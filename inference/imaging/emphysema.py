"""Emphysema measured on the CT: %LAA-950, the share of lung voxels below -950 HU.

%LAA-950 ("low-attenuation area") is the standard densitometric emphysema index: the percentage
of the lung volume (on the lung mask, vessels inside it included) whose attenuation is below
-950 HU on an inspiratory CT.

Threshold for "emphysema present": %LAA-950 >= 5 %. This is the quantitative-CT definition used
in COPDGene-based work, e.g. Amaza IP, O'Shea AMJ, Fortis S, Comellas AP. Discordant quantitative
and visual CT assessments in the diagnosis of emphysema. Int J Chron Obstruct Pulmon Dis
2021;16:1231-1242 ("QCT emphysema is defined as >= 5 % of lung volume occupied by low attenuation
areas <= -950 HU").

In the Brock model, "emphysema" was the radiologist's visual call on the screening CT; %LAA-950
against this cut-off is an objective proxy for it, shown to the reader, who may overrule it.

Caveats the reader should know (and why the GUI lets the reader overrule it): the index rises with
image noise and sharp reconstruction kernels, both common in low-dose screening CT, and falls on
expiratory scans; the 5 % cut-off was set on standard-dose inspiratory CT with smooth kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.imaging.errors import ImagingError
from inference.imaging.volume import Volume

LAA_THRESHOLD_HU = -950.0
#: %LAA-950 at or above which emphysema counts as present (see the module docstring for the source)
EMPHYSEMA_PRESENT_PERCENT = 5.0


@dataclass(frozen=True, slots=True)
class EmphysemaMeasure:
    """%LAA below ``threshold_hu`` on the lung mask, with the counts it comes from."""

    percent: float
    low_voxels: int
    lung_voxels: int
    lung_volume_ml: float
    threshold_hu: float = LAA_THRESHOLD_HU
    present_from_percent: float = EMPHYSEMA_PRESENT_PERCENT

    @property
    def present(self) -> bool:
        return self.percent >= self.present_from_percent

    def to_dict(self) -> dict:
        return {"laa_percent": round(self.percent, 2), "threshold_hu": self.threshold_hu,
                "present": self.present, "present_from_percent": self.present_from_percent,
                "lung_volume_ml": round(self.lung_volume_ml, 1)}


def laa_percent(volume: Volume, lung: np.ndarray | None = None,
                threshold_hu: float = LAA_THRESHOLD_HU) -> EmphysemaMeasure:
    """%LAA of ``volume`` on ``lung`` (bool, scan grid; computed with ``lung_mask`` when omitted)."""
    if lung is None:
        from inference.imaging.lung_mask import lung_mask
        lung = lung_mask(volume)
    lung = np.asarray(lung, bool)
    if lung.shape != volume.shape:
        raise ValueError(f"lung mask shape {lung.shape} differs from the scan's {volume.shape}")
    n_lung = int(lung.sum())
    if n_lung == 0:
        raise ImagingError(volume.info.source or "the scan", "has no lungs on its lung mask",
                           "Emphysema can only be measured on a chest CT that shows the lungs")
    n_low = int(np.count_nonzero(volume.voxels[lung] < threshold_hu))
    voxel_ml = float(np.prod(volume.spacing_zyx)) / 1000.0
    return EmphysemaMeasure(percent=100.0 * n_low / n_lung, low_voxels=n_low, lung_voxels=n_lung,
                            lung_volume_ml=n_lung * voxel_ml, threshold_hu=float(threshold_hu))

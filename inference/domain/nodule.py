"""Coded values and result types of nodule analysis (measurement, type, risk, Lung-RADS)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class NoduleType(Enum):
    SOLID = "solid"
    PART_SOLID = "part-solid"
    GROUND_GLASS = "ground-glass"


class LungRads(Enum):
    """ACR Lung-RADS v2022 categories (ordered by suspicion through :attr:`rank`)."""

    CAT_0 = "0"
    CAT_1 = "1"
    CAT_2 = "2"
    CAT_3 = "3"
    CAT_4A = "4A"
    CAT_4B = "4B"
    CAT_4X = "4X"

    @property
    def rank(self) -> int:
        return ["0", "1", "2", "3", "4A", "4B", "4X"].index(self.value)


class Side(Enum):
    RIGHT = "right"
    LEFT = "left"


class Zone(Enum):
    UPPER = "upper"
    MIDDLE = "middle"
    LOWER = "lower"


@dataclass(frozen=True, slots=True)
class Measurement:
    """Sizes of one segmented nodule. Diameters in mm (to 0.1 mm), volume in mm^3, HU."""

    long_axis_mm: float
    short_axis_mm: float
    mean_diameter_mm: float
    max_3d_diameter_mm: float
    volume_mm3: float
    mean_hu: float
    max_hu: float
    #: mean diameter of the solid component (part-solid nodules only)
    solid_component_mm: float | None = None
    #: world LPS endpoints of the long and short axes on the axial slice where the nodule is largest
    long_axis_lps: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    short_axis_lps: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None

    def __post_init__(self) -> None:
        for name in ("long_axis_mm", "short_axis_mm", "mean_diameter_mm", "max_3d_diameter_mm",
                     "volume_mm3"):
            v = getattr(self, name)
            if not (v >= 0.0):
                raise ValueError(f"Measurement.{name} must be >= 0, got {v}")
        if self.short_axis_mm > self.long_axis_mm + 1e-6:
            raise ValueError("Measurement: short axis longer than long axis")


class Growth(Enum):
    """How a nodule compares with the prior screening CT (Lung-RADS v2022 terms)."""

    BASELINE = "baseline"  # first screening CT: no prior to compare with
    NEW = "new"  # not seen on the prior CT
    GROWING = "growing"  # mean diameter up by > 1.5 mm within 12 months
    STABLE = "stable"  # seen before and not growing


@dataclass(frozen=True, slots=True)
class PriorNodule:
    """The same nodule on an earlier screening CT (``None`` sizes = not seen then: a new nodule).

    ``months_ago`` is the interval between the two CTs; ``category`` the Lung-RADS category given
    then (drives v2022 stepped management of stable category 3 / 4A nodules).
    """

    mean_diameter_mm: float | None
    months_ago: float = 12.0
    solid_component_mm: float | None = None
    category: "LungRads | None" = None

    def __post_init__(self) -> None:
        if self.mean_diameter_mm is not None and not self.mean_diameter_mm >= 0:
            raise ValueError(f"PriorNodule.mean_diameter_mm must be >= 0, got {self.mean_diameter_mm}")
        if not self.months_ago > 0:
            raise ValueError(f"PriorNodule.months_ago must be > 0, got {self.months_ago}")


@dataclass(frozen=True, slots=True)
class NoduleAnalysis:
    """Everything NoduleLens says about one nodule: size, type, location, risk and Lung-RADS."""

    measurement: Measurement
    nodule_type: NoduleType
    calcified: bool
    juxta_pleural: bool
    side: Side | None
    zone: Zone | None
    #: how side/zone were found (zone is an approximation of the lobe from the lung extent)
    location_note: str
    #: Brock (PanCan) probability of malignancy 0..1; None when it cannot be computed
    malignancy_risk: float | None
    #: names of the clinical inputs that took their documented default value
    risk_defaults_used: tuple[str, ...]
    lung_rads: LungRads
    lung_rads_reason: str
    management: str
    nodule_count: int = 1
    growth: Growth = Growth.BASELINE

    def __post_init__(self) -> None:
        if self.malignancy_risk is not None and not 0.0 <= self.malignancy_risk <= 1.0:
            raise ValueError(f"malignancy_risk must be within 0..1, got {self.malignancy_risk}")
        if self.nodule_count < 1:
            raise ValueError(f"nodule_count must be >= 1, got {self.nodule_count}")

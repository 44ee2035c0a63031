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

"""Window/level presets and overlay colours (plain data, shared by scene and widgets)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from viewer.review.model import FindingStatus


@dataclass(frozen=True, slots=True)
class WindowLevel:
    """A display window in HU: ``level`` is the centre, ``width`` the range shown."""

    level: float
    width: float

    def __post_init__(self) -> None:
        if not self.width > 0:
            raise ValueError(f"window width must be positive, got {self.width}")

    @property
    def low(self) -> float:
        return self.level - self.width / 2

    @property
    def high(self) -> float:
        return self.level + self.width / 2


class Preset(Enum):
    """Window presets on number keys 1–4 (value: key, label, window)."""

    LUNG = ("1", "Lung", WindowLevel(-600, 1500))
    MEDIASTINUM = ("2", "Mediastinum", WindowLevel(40, 400))
    BONE = ("3", "Bone", WindowLevel(400, 1800))
    SOFT_TISSUE = ("4", "Soft tissue", WindowLevel(50, 350))

    @property
    def key(self) -> str:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def window(self) -> WindowLevel:
        return self.value[2]


#: RGB 0..1 per review state
STATUS_COLORS: dict[FindingStatus, tuple[float, float, float]] = {
    FindingStatus.PENDING: (1.0, 0.85, 0.0),
    FindingStatus.ACCEPTED: (0.15, 0.9, 0.25),
    FindingStatus.REJECTED: (0.75, 0.3, 0.3),
}

CROSSHAIR_COLOR = (0.2, 0.75, 1.0)
DEFAULT_SLAB_MM = 10.0

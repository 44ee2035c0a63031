"""Display colours of the reported nodules (SEG recommended display colour, PDF, key images).

Distinct, colour-blind-friendly hues (Okabe-Ito order) as sRGB, and their DICOM CIELab encoding
(PS3.3 C.10.7.1.1: L* 0..100 → 0..65535, a*/b* -128..127 → 0..65535, D65).
"""

from __future__ import annotations

SEGMENT_COLOURS: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0),    # orange
    (86, 180, 233),   # sky blue
    (0, 158, 115),    # bluish green
    (240, 228, 66),   # yellow
    (0, 114, 178),    # blue
    (213, 94, 0),     # vermillion
    (204, 121, 167),  # reddish purple
)


def _linear(c: float) -> float:
    c /= 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def rgb_to_lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """sRGB (0..255) → CIE L*a*b* (D65)."""
    r, g, b = (_linear(v) for v in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def rgb_to_dicom_lab(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """sRGB → DICOM's scaled CIELab triplet (RecommendedDisplayCIELabValue)."""
    lab_l, lab_a, lab_b = rgb_to_lab(rgb)

    def scale(v: float, lo: float, hi: float) -> int:
        return int(round(min(max((v - lo) / (hi - lo), 0.0), 1.0) * 65535))

    return scale(lab_l, 0, 100), scale(lab_a, -128, 127), scale(lab_b, -128, 127)

"""Brock University (PanCan) probability of malignancy, full model with spiculation.

Reference: McWilliams A, Tammemagi MC, Mayo JR, et al. Probability of cancer in pulmonary nodules
detected on first screening CT. N Engl J Med 2013;369:910-919 (full model, "model 2b" of the
supplementary appendix). The coefficients below were checked against the published model as
tabulated by Eur Radiol 2019;29:5367-5377, Table 2 (Brock column):

    logit = -6.7892
            + 0.0287 * (age - 62)
            + 0.6011 * [female]
            + 0.2961 * [family history of lung cancer]
            + 0.2953 * [emphysema]
            - 5.3854 * ((size_mm / 10) ** -0.5 - 1.58113883)   # 1.58113883 = (4/10)**-0.5
            + 0.6581 * [upper lobe]
            + 0.377  * [part-solid]   - 0.1276 * [non-solid / ground-glass]   (solid: 0)
            - 0.0824 * (nodule count - 4)
            + 0.7729 * [spiculation]
    probability = 1 / (1 + exp(-logit))

``size_mm`` is the nodule's (mean) diameter in mm. The model was built on first-screening
(baseline) nodules; it is a decision aid, not a diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from inference.domain.nodule import NoduleType
from inference.imaging.volume import SeriesInfo

from .errors import InvalidClinicalInput

INTERCEPT = -6.7892
AGE_COEF, AGE_CENTRE = 0.0287, 62.0
FEMALE_COEF = 0.6011
FAMILY_HISTORY_COEF = 0.2961
EMPHYSEMA_COEF = 0.2953
SIZE_COEF, SIZE_CENTRE = -5.3854, 1.58113883
UPPER_LOBE_COEF = 0.6581
TYPE_COEF = {NoduleType.SOLID: 0.0, NoduleType.PART_SOLID: 0.377, NoduleType.GROUND_GLASS: -0.1276}
COUNT_COEF, COUNT_CENTRE = -0.0824, 4.0
SPICULATION_COEF = 0.7729

#: Documented defaults used when an input is unknown (each use is reported in ``defaults_used``):
#: age = the model's centring age (62 y, adds nothing); sex = female (the higher-risk choice, so the
#: risk is not understated); family history, emphysema and spiculation = absent.
DEFAULTS: dict[str, object] = {
    "age_years": 62.0,
    "sex": "F",
    "family_history": False,
    "emphysema": False,
    "spiculation": False,
}


@dataclass(frozen=True, slots=True)
class ResolvedClinical:
    age_years: float
    sex: str  # "M" or "F"
    family_history: bool
    emphysema: bool
    spiculation: bool


@dataclass(frozen=True, slots=True)
class ClinicalInputs:
    """Patient and reader inputs of the Brock model. ``None`` = unknown → documented default.

    ``age_years`` and ``sex`` come from the DICOM header when present (:meth:`from_series_info`);
    the rest from the reviewer. ``sex`` is "M" or "F" (other values count as unknown).
    """

    age_years: float | None = None
    sex: str | None = None
    family_history: bool | None = None
    emphysema: bool | None = None
    spiculation: bool | None = None

    def __post_init__(self) -> None:
        if self.age_years is not None and not (0.0 < float(self.age_years) < 130.0):
            raise InvalidClinicalInput(
                "clinical inputs", f"age {self.age_years} years is out of range",
                "Give the patient's age in years (e.g. 64) or leave it unknown")
        if self.sex is not None:
            s = str(self.sex).strip().upper()[:1]
            object.__setattr__(self, "sex", s if s in ("M", "F") else None)

    @classmethod
    def from_series_info(cls, info: SeriesInfo | None, **reader_inputs: Any) -> "ClinicalInputs":
        """Age and sex from a :class:`SeriesInfo` (DICOM header), the rest from the reader."""
        age = getattr(info, "patient_age_years", None)
        sex = getattr(info, "patient_sex", "") or None
        if age is not None and not (0.0 < float(age) < 130.0):
            age = None
        return cls(age_years=age, sex=sex, **reader_inputs)

    def resolved(self) -> tuple[ResolvedClinical, tuple[str, ...]]:
        """The values to use and the names of the fields that took their default."""
        used: list[str] = []
        values = {}
        for name, default in DEFAULTS.items():
            v = getattr(self, name)
            if v is None:
                used.append(name)
                v = default
            values[name] = v
        return ResolvedClinical(**values), tuple(used)


def brock_logit(*, size_mm: float, nodule_type: NoduleType, upper_lobe: bool, nodule_count: int,
                clinical: ResolvedClinical) -> float:
    """The linear predictor of the full Brock model (see the module docstring)."""
    if not size_mm > 0:
        raise ValueError(f"Brock model needs a nodule size > 0 mm, got {size_mm}")
    if nodule_count < 1:
        raise ValueError(f"nodule_count must be >= 1, got {nodule_count}")
    return (INTERCEPT
            + AGE_COEF * (clinical.age_years - AGE_CENTRE)
            + (FEMALE_COEF if clinical.sex == "F" else 0.0)
            + (FAMILY_HISTORY_COEF if clinical.family_history else 0.0)
            + (EMPHYSEMA_COEF if clinical.emphysema else 0.0)
            + SIZE_COEF * ((size_mm / 10.0) ** -0.5 - SIZE_CENTRE)
            + (UPPER_LOBE_COEF if upper_lobe else 0.0)
            + TYPE_COEF[nodule_type]
            + COUNT_COEF * (nodule_count - COUNT_CENTRE)
            + (SPICULATION_COEF if clinical.spiculation else 0.0))


def brock_probability(*, size_mm: float, nodule_type: NoduleType, upper_lobe: bool,
                      nodule_count: int = 1, clinical: "ClinicalInputs | None" = None
                      ) -> tuple[float, tuple[str, ...]]:
    """Probability of malignancy 0..1 and the clinical inputs that took their default."""
    values, used = (clinical or ClinicalInputs()).resolved()
    x = brock_logit(size_mm=size_mm, nodule_type=nodule_type, upper_lobe=upper_lobe,
                    nodule_count=nodule_count, clinical=values)
    return 1.0 / (1.0 + math.exp(-x)), used


def clinical_from_series(info: SeriesInfo | None, **reader_inputs: Any) -> ClinicalInputs:
    """Clinical inputs with age and sex from the DICOM header (:class:`SeriesInfo`)."""
    return ClinicalInputs.from_series_info(info, **reader_inputs)

"""Which Brock (PanCan) model a risk came from, and the risk with the inputs it used.

McWilliams A, Tammemagi MC, Mayo JR, et al. Probability of cancer in pulmonary nodules detected on
first screening CT. N Engl J Med 2013;369:910-919, supplementary appendix: four logistic models,
1a/1b (parsimonious) and 2a/2b (full), "b" = with spiculation. All share the predictor coding
of :mod:`.brock`: age centred at 62 y, size as ``(mean diameter mm / 10) ** -0.5 - 1.58113883``,
nodule count centred at 4, solid type as the reference.

Shipped here:

- **2b, full model with spiculation** — the coefficients of :mod:`.brock` (checked against
  Eur Radiol 2019;29:5367-5377 Table 2, Brock column; the published odds ratios of the NEJM
  paper's Table 3 are their exponentials: female 1.82, upper lobe 1.93, spiculation 2.17,
  part-solid 1.46, non-solid 0.88, count 0.92 per nodule).
- **2a, full model without spiculation** — used when the reader has not assessed spiculation,
  so that an unassessed margin is not silently scored as "smooth". Coefficients as tabulated
  from the appendix by two independent secondary sources (medicalalgorithms.com "pulmonary nodule
  cancer", full model for a non-spiculated nodule; and a coefficient audit that compares them
  with the appendix): intercept -6.8071, age 0.0321, female 0.5635, family history 0.3013,
  emphysema 0.3462, size -5.6693, upper lobe 0.7116, part-solid 0.3395, count -0.0803. The two
  sources differ only in the non-solid coefficient (-0.3055 vs -0.3005); -0.3055 is used (the odds
  differ by 0.5 %). Confirm against the appendix before clinical use.

Not shipped: the **parsimonious models 1a/1b** (sex, size, type, upper lobe[, spiculation]).
Their coefficients could not be verified from any source available while this was written, and a
risk model with unverified coefficients is worse than none. Where inputs of the full model are
unknown, its documented defaults are used and each one is named in ``defaults_used``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from .brock import (
    AGE_CENTRE, AGE_COEF, COUNT_CENTRE, COUNT_COEF, EMPHYSEMA_COEF, FAMILY_HISTORY_COEF, FEMALE_COEF,
    INTERCEPT, SIZE_CENTRE, SIZE_COEF, SPICULATION_COEF, TYPE_COEF, UPPER_LOBE_COEF, ClinicalInputs,
    ResolvedClinical,
)
from inference.domain.nodule import NoduleType


class BrockModel(Enum):
    """The published Brock model a risk was computed with (value: the appendix's model name)."""

    FULL_WITH_SPICULATION = "2b"
    FULL_WITHOUT_SPICULATION = "2a"

    @property
    def label(self) -> str:
        return {"2b": "Brock full model with spiculation (McWilliams 2013, model 2b)",
                "2a": "Brock full model without spiculation (McWilliams 2013, model 2a)"}[self.value]

    @property
    def uses_spiculation(self) -> bool:
        return self is BrockModel.FULL_WITH_SPICULATION


@dataclass(frozen=True, slots=True)
class Coefficients:
    intercept: float
    age: float
    female: float
    family_history: float
    emphysema: float
    size: float
    upper_lobe: float
    part_solid: float
    non_solid: float
    count: float
    spiculation: float  # 0.0 for a model without the spiculation term

    def type_term(self, nodule_type: NoduleType) -> float:
        return {NoduleType.SOLID: 0.0, NoduleType.PART_SOLID: self.part_solid,
                NoduleType.GROUND_GLASS: self.non_solid}[nodule_type]


COEFFICIENTS: dict[BrockModel, Coefficients] = {
    BrockModel.FULL_WITH_SPICULATION: Coefficients(
        intercept=INTERCEPT, age=AGE_COEF, female=FEMALE_COEF, family_history=FAMILY_HISTORY_COEF,
        emphysema=EMPHYSEMA_COEF, size=SIZE_COEF, upper_lobe=UPPER_LOBE_COEF,
        part_solid=TYPE_COEF[NoduleType.PART_SOLID], non_solid=TYPE_COEF[NoduleType.GROUND_GLASS],
        count=COUNT_COEF, spiculation=SPICULATION_COEF),
    BrockModel.FULL_WITHOUT_SPICULATION: Coefficients(
        intercept=-6.8071, age=0.0321, female=0.5635, family_history=0.3013, emphysema=0.3462,
        size=-5.6693, upper_lobe=0.7116, part_solid=0.3395, non_solid=-0.3055, count=-0.0803,
        spiculation=0.0),
}

#: the clinical inputs each model reads (the ones that can take a default)
MODEL_INPUTS: dict[BrockModel, tuple[str, ...]] = {
    BrockModel.FULL_WITH_SPICULATION: ("age_years", "sex", "family_history", "emphysema", "spiculation"),
    BrockModel.FULL_WITHOUT_SPICULATION: ("age_years", "sex", "family_history", "emphysema"),
}


@dataclass(frozen=True, slots=True)
class RiskEstimate:
    """A Brock probability with the model, the values it used and which of them were defaults."""

    probability: float
    model: BrockModel
    values: ResolvedClinical
    defaults_used: tuple[str, ...]
    size_mm: float
    nodule_type: NoduleType
    upper_lobe: bool
    nodule_count: int

    def to_dict(self) -> dict:
        v = self.values
        inputs = {"age_years": v.age_years, "sex": v.sex, "family_history": v.family_history,
                  "emphysema": v.emphysema}
        if self.model.uses_spiculation:
            inputs["spiculation"] = v.spiculation
        return {"probability": round(self.probability, 4), "model": self.model.value,
                "model_label": self.model.label, "inputs": inputs,
                "defaults_used": list(self.defaults_used), "size_mm": round(self.size_mm, 2),
                "nodule_type": self.nodule_type.value, "upper_lobe": self.upper_lobe,
                "nodule_count": self.nodule_count}


def choose_model(clinical: ClinicalInputs) -> BrockModel:
    """2b when the reader has said whether the nodule is spiculated, 2a when not assessed."""
    if clinical.spiculation is None:
        return BrockModel.FULL_WITHOUT_SPICULATION
    return BrockModel.FULL_WITH_SPICULATION


def estimate_risk(*, size_mm: float, nodule_type: NoduleType, upper_lobe: bool, nodule_count: int = 1,
                  clinical: ClinicalInputs | None = None, model: BrockModel | None = None) -> RiskEstimate:
    """The Brock probability of malignancy with the model chosen by :func:`choose_model`."""
    if not size_mm > 0:
        raise ValueError(f"Brock model needs a nodule size > 0 mm, got {size_mm}")
    if nodule_count < 1:
        raise ValueError(f"nodule_count must be >= 1, got {nodule_count}")
    clinical = clinical or ClinicalInputs()
    model = model or choose_model(clinical)
    values, defaulted = clinical.resolved()
    used = tuple(name for name in defaulted if name in MODEL_INPUTS[model])
    c = COEFFICIENTS[model]
    x = (c.intercept
         + c.age * (values.age_years - AGE_CENTRE)
         + (c.female if values.sex == "F" else 0.0)
         + (c.family_history if values.family_history else 0.0)
         + (c.emphysema if values.emphysema else 0.0)
         + c.size * ((size_mm / 10.0) ** -0.5 - SIZE_CENTRE)
         + (c.upper_lobe if upper_lobe else 0.0)
         + c.type_term(nodule_type)
         + c.count * (nodule_count - COUNT_CENTRE)
         + (c.spiculation if values.spiculation else 0.0))
    return RiskEstimate(probability=1.0 / (1.0 + math.exp(-x)), model=model, values=values,
                        defaults_used=used, size_mm=float(size_mm), nodule_type=nodule_type,
                        upper_lobe=bool(upper_lobe), nodule_count=int(nodule_count))

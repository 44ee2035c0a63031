"""Nodule analysis: segmentation-based measurement, type, location, Brock risk and Lung-RADS v2022.

Pure numpy/scipy: no torch, no Qt, no VTK. Entry point: :func:`analyze`.
"""

from inference.domain.nodule import Growth, LungRads, Measurement, NoduleAnalysis, NoduleType, PriorNodule, Side, Zone

from .analyze import AnalysisResult, analyze
from .brock import ClinicalInputs, brock_probability, clinical_from_series
from .errors import AnalysisError, InvalidClinicalInput, NoNoduleAtSeed, SeedOutsideScan
from .lungrads import classify_nodule, exam_lung_rads, growth_from_prior

__all__ = [
    "AnalysisError", "AnalysisResult", "ClinicalInputs", "Growth", "InvalidClinicalInput",
    "LungRads", "Measurement", "NoNoduleAtSeed", "NoduleAnalysis", "NoduleType", "PriorNodule",
    "SeedOutsideScan", "Side", "Zone", "analyze", "brock_probability", "classify_nodule",
    "exam_lung_rads", "growth_from_prior",
    "clinical_from_series",
]

"""The neutral domain layer: the types every package shares, importing no torch, Qt or VTK.

* :mod:`inference.domain.finding` — ``Finding``, ``Box3D``, ``FindingSource``, ``ModelInfo``, ``Point``
* :mod:`inference.domain.nodule` — nodule analysis results and codes (``NoduleAnalysis``,
  ``Measurement``, ``NoduleType``, ``LungRads``, ``Side``, ``Zone``, ``Growth``, ``PriorNodule``)
* :mod:`inference.domain.analysis_codec` — the one versioned serialised form of a ``NoduleAnalysis``
* :mod:`inference.domain.progress` — ``Progress``, ``IsCancelled`` and the one ``Cancelled``
"""

from inference.domain.finding import Box3D, Finding, FindingSource, ModelInfo, Point
from inference.domain.nodule import (Growth, LungRads, Measurement, NoduleAnalysis, NoduleType, PriorNodule,
                                     Side, Zone)
from inference.domain.progress import Cancelled, IsCancelled, Progress, check_cancelled

__all__ = [
    "Box3D", "Cancelled", "Finding", "FindingSource", "Growth", "IsCancelled", "LungRads", "Measurement",
    "ModelInfo", "NoduleAnalysis", "NoduleType", "Point", "PriorNodule", "Progress", "Side", "Zone",
    "check_cancelled",
]

"""Nodule masks and saliency crops for the SEG and the Parametric Maps of a reviewed study.

Masks come from :func:`inference.nodules.analyze` run again at each reported finding (the same
segmentation that measured it); saliency crops, with the method that made them, from the worker's
saliency files.
"""

from __future__ import annotations

from collections.abc import Mapping

from inference.domain.finding import ModelInfo
from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap
from viewer.export.errors import MissingAnalysis
from viewer.export.grid import as_mask_volume
from viewer.export.plan import reported_states
from viewer.review.model import ReviewedStudy


def analysis_masks(study: ReviewedStudy, volume: Volume) -> dict[str, Volume]:
    """finding id → uint8 mask crop, for every accepted or added finding of the study."""
    from inference.nodules import AnalysisError, analyze
    from inference.imaging.lung_mask import lung_mask

    reported = reported_states(study)
    if not reported:
        return {}
    lungs = lung_mask(volume)
    out: dict[str, Volume] = {}
    for state in reported:
        f = state.finding
        try:
            result = analyze(volume, f.center, f.box, lung_mask=lungs)
        except AnalysisError as exc:
            raise MissingAnalysis(f"finding {f.finding_id}", f"its nodule could not be segmented ({exc})",
                                  "Edit its box in the viewer and export again, or export without SEG"
                                  ) from exc
        out[f.finding_id] = as_mask_volume(result, volume, f"mask of finding {f.finding_id}")
    return out


def saliency_crops(paths: Mapping[str, str], models: Mapping[str, ModelInfo | None] | None = None
                   ) -> dict[str, SaliencyMap]:
    """finding id → saliency map and its method, read from the worker's saliency files (a file
    from before the method was recorded: the finding's model's card tells it if unchanged, else
    it is unknown)."""
    from inference.service.findings_file import load_saliency_map

    models = models or {}
    return {fid: load_saliency_map(p, models.get(fid)) for fid, p in paths.items() if p}

"""Nodule masks and saliency crops for the SEG and the Parametric Maps of a reviewed study.

Masks come from :func:`inference.nodules.analyze` run again at each reported finding (the same
segmentation that measured it); saliency crops from the worker's saliency files.
"""

from __future__ import annotations

from collections.abc import Mapping

from inference.imaging.volume import Volume
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


def saliency_crops(paths: Mapping[str, str]) -> dict[str, Volume]:
    """finding id → saliency Volume, read from the worker's saliency files."""
    from inference.service.findings_file import load_saliency

    return {fid: load_saliency(p) for fid, p in paths.items() if p}

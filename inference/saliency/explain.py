"""The saliency method a model card names (``network.saliency_method``): ``occlusion`` (world-space
occlusion sensitivity, :mod:`inference.saliency.occlusion`) or ``grad-cam`` (layer and mode from
``network.gradcam_layer`` / ``gradcam_mode``, :mod:`inference.saliency.gradcam`). Cards without the
key keep Grad-CAM. ``benchmarks/saliency_methods.py`` measures why nodulelens-cnn-v2 uses occlusion.
"""

from __future__ import annotations

from typing import Any, Callable

from inference.domain.finding import Finding
from inference.imaging.volume import Volume

METHODS = ("grad-cam", "occlusion")


def explain(detector: Any, volume: Volume, findings: list[Finding],
            progress: Callable[[float, str], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> dict[str, Volume]:
    """``{finding_id: float32 0..1 crop Volume on the scan's grid}``; ``{}`` for a model without a network."""
    manifest = getattr(detector, "manifest", None)
    method = str(manifest.network.get("saliency_method", "grad-cam")) if manifest is not None else "grad-cam"
    if method not in METHODS and manifest is not None:
        from inference.detection.registry import ModelError

        raise ModelError(f"{manifest.manifest_path}: network.saliency_method {method!r} is not one of "
                         f"{list(METHODS)}; fix the manifest")
    if method == "occlusion":
        from inference.saliency.occlusion import explain_occlusion

        return explain_occlusion(detector, volume, findings, progress, cancelled)
    from inference.saliency.gradcam import explain as gradcam

    return gradcam(detector, volume, findings, progress, cancelled)

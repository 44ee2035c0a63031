"""The saliency method a model card names (``network.saliency_method``, read as a
:class:`~inference.domain.saliency.SaliencyMethod` by ``Manifest.saliency_method``): ``occlusion``
(world-space occlusion sensitivity, :mod:`inference.saliency.occlusion`) or ``grad-cam`` (layer and
mode from ``network.gradcam_layer`` / ``gradcam_mode``, :mod:`inference.saliency.gradcam`). Cards
without the key keep Grad-CAM. ``benchmarks/saliency_methods.py`` measures why nodulelens-cnn-v2
uses occlusion. :func:`explain_with_method` also says which method ran: the worker records it in
each saliency file, so the map is labelled by the method that made it.
"""

from __future__ import annotations

from typing import Any, Callable

from inference.domain.finding import Finding
from inference.domain.saliency import CARD_VALUES, SaliencyMethod
from inference.imaging.volume import Volume

#: the spellings a card may use
METHODS = CARD_VALUES


def card_method(detector: Any) -> SaliencyMethod:
    """The method ``detector``'s card names (Grad-CAM for a detector without a manifest);
    ModelError for a card naming another."""
    manifest = getattr(detector, "manifest", None)
    return SaliencyMethod.GRAD_CAM if manifest is None else manifest.saliency_method


def explain_with_method(detector: Any, volume: Volume, findings: list[Finding],
                        progress: Callable[[float, str], None] | None = None,
                        cancelled: Callable[[], bool] | None = None
                        ) -> tuple[SaliencyMethod, dict[str, Volume]]:
    """(the method that ran, ``{finding_id: float32 0..1 crop Volume on the scan's grid}``)."""
    method = card_method(detector)
    if method is SaliencyMethod.OCCLUSION:
        from inference.saliency.occlusion import explain_occlusion

        return method, explain_occlusion(detector, volume, findings, progress, cancelled)
    from inference.saliency.gradcam import explain as gradcam

    return method, gradcam(detector, volume, findings, progress, cancelled)


def explain(detector: Any, volume: Volume, findings: list[Finding],
            progress: Callable[[float, str], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> dict[str, Volume]:
    """``{finding_id: float32 0..1 crop Volume on the scan's grid}``; ``{}`` for a model without a network."""
    return explain_with_method(detector, volume, findings, progress, cancelled)[1]

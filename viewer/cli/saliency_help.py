"""The help text of ``--no-saliency`` (``screen``, ``listen``): the maps are made by the method the
model card names, never by one method for every model."""

from __future__ import annotations

from inference.domain.saliency import SaliencyMethod

NO_SALIENCY_HELP = ("skip the saliency maps (each made by the method its model card names: "
                    f"{SaliencyMethod.OCCLUSION.label} or {SaliencyMethod.GRAD_CAM.label})")

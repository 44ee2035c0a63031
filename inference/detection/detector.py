"""The detector interface: one protocol, implementations registered by architecture name.

A model folder's ``manifest.json`` names its ``architecture``; :func:`load_detector` builds the
class registered for that name (:data:`IMPLEMENTATIONS`) through its ``from_manifest``. Adding a
model adds a folder; adding an architecture adds one class and its line here. Callers (the worker,
training, evaluation, Grad-CAM) only use the :class:`Detector` protocol: no one else looks at the
architecture string.

This module imports no torch at import time (the registry table is data); the implementation
module is imported when a detector is built, in the worker or a training process.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from inference.detection.registry import (IMPLEMENTATIONS, DeviceUnavailable, Manifest, ModelError,
                                          default_model_id, load_manifest)
from inference.domain.finding import Finding, ModelInfo
from inference.domain.progress import IsCancelled, Progress

if TYPE_CHECKING:
    from torch import nn

    from inference.imaging.volume import Volume

__all__ = ["IMPLEMENTATIONS", "Detector", "DeviceUnavailable", "ExplainableDetector", "detector_class", "load_detector",
           "pick_device"]


@runtime_checkable
class Detector(Protocol):
    """What every detector gives: findings above its operating point, every scored candidate, and
    whether Grad-CAM can explain its findings (``explains``; such a detector also has ``net``, the
    torch module whose manifest names the Grad-CAM layer)."""

    manifest: Manifest
    device: str
    model_info: ModelInfo
    threshold: float
    explains: bool

    def detect(self, volume: Volume, progress: Progress | None = None,
               cancelled: IsCancelled | None = None) -> list[Finding]:
        """Findings at or above the operating threshold, highest score first (raises ``Cancelled``)."""
        ...

    def candidates(self, volume: Volume, progress: Progress | None = None,
                   cancelled: IsCancelled | None = None) -> list[Finding]:
        """Every scored candidate, highest score first (for FROC and threshold tuning)."""
        ...


class ExplainableDetector(Detector, Protocol):
    """A detector with ``explains`` True: Grad-CAM runs through its torch module ``net``, on the
    manifest's patch size and ``network.gradcam_layer``."""

    net: nn.Module


def detector_class(architecture: str) -> Any:
    """The class registered for ``architecture`` (imports its module: may import torch)."""
    spec = IMPLEMENTATIONS.get(architecture)
    if spec is None:
        raise ModelError(f"no detector is registered for architecture {architecture!r}; known: "
                         f"{', '.join(sorted(IMPLEMENTATIONS))}")
    module_name, _, name = spec.partition(":")
    return getattr(importlib.import_module(module_name), name)


def load_detector(model: str | Path | Manifest | None = None, device: str = "auto") -> Detector:
    """The detector for a model id, folder or manifest (``None``: the default model) on ``device``
    (``auto``, ``cpu``, ``cuda[:n]`` or ``mps``; see :func:`pick_device`)."""
    manifest = model if isinstance(model, Manifest) else load_manifest(
        default_model_id() if model is None else model)
    detector: Detector = detector_class(manifest.architecture).from_manifest(manifest, pick_device(device))
    return detector


def pick_device(name: str = "auto") -> str:
    """``auto`` → CUDA, then Apple MPS, then CPU. An unknown or absent device raises
    :class:`DeviceUnavailable` (the one device error of the product)."""
    import torch

    name = (name or "auto").lower()
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else ("mps" if has_mps else "cpu")
    if name not in ("cpu", "mps") and not (name == "cuda" or name.startswith("cuda:")):
        raise DeviceUnavailable(f"unknown device {name!r}; use auto, cpu, cuda or mps")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailable(f"device {name!r} requested but torch sees no CUDA GPU; "
                                "use --device cpu or auto")
    if name == "mps" and not has_mps:
        raise DeviceUnavailable("device 'mps' requested but Apple MPS is not available; use --device cpu or auto")
    return name

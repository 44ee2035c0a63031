"""How a saliency map was made: the one enum of saliency methods. Torch-free.

A model card names its method in ``network.saliency_method`` (``occlusion`` or ``grad-cam``; a card
without the key explains with Grad-CAM). The worker records the method it used in each saliency
file (:mod:`inference.service.findings_file`), so a map is labelled by the method that made it,
whatever its card says later. Files written before the method was recorded read as
:attr:`SaliencyMethod.UNKNOWN` unless the very card that wrote them (same manifest sha256) is still
installed to tell.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class SaliencyMethod(Enum):
    """The method behind a saliency map; the value is the card's / the file's spelling."""

    OCCLUSION = "occlusion"
    GRAD_CAM = "grad-cam"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """The method in words, for every label a reader sees (exports, GUI, help)."""
        return _LABELS[self]

    @property
    def code(self) -> str:
        """The method as a DICOM code string (CS: capitals, digits, underscore; at most 16)."""
        return _CODES[self]

    @classmethod
    def from_card(cls, value: object) -> "SaliencyMethod":
        """A card's ``network.saliency_method`` (None: the key is absent → Grad-CAM). ValueError
        for anything that is not a method a card may name (``unknown`` is not one)."""
        if value is None:
            return cls.GRAD_CAM
        method = cls._value2member_map_.get(value) if isinstance(value, str) else None
        if not isinstance(method, cls) or method is cls.UNKNOWN:
            raise ValueError(f"{value!r} is not one of {list(CARD_VALUES)}")
        return method

    @classmethod
    def from_file(cls, value: object) -> "SaliencyMethod":
        """What a saliency file says (None: written before the method was recorded). A spelling
        this version does not know (a newer method) reads as UNKNOWN: never as another method."""
        method = cls._value2member_map_.get(value) if isinstance(value, str) else None
        return method if isinstance(method, cls) else cls.UNKNOWN


_LABELS = {SaliencyMethod.OCCLUSION: "occlusion sensitivity", SaliencyMethod.GRAD_CAM: "Grad-CAM",
           SaliencyMethod.UNKNOWN: "unknown method"}
_CODES = {SaliencyMethod.OCCLUSION: "OCCLUSION", SaliencyMethod.GRAD_CAM: "GRAD_CAM",
          SaliencyMethod.UNKNOWN: "SALIENCY"}
#: what a model card may name
CARD_VALUES = tuple(m.value for m in SaliencyMethod if m is not SaliencyMethod.UNKNOWN)


def methods_label(methods: Iterable[SaliencyMethod]) -> str:
    """Several maps' methods in words, sorted (``"Grad-CAM, occlusion sensitivity"``); "" for none."""
    return ", ".join(sorted({m.label for m in methods}, key=str.lower))

"""Typed errors of nodule analysis; each message names the scan and what to do."""

from __future__ import annotations

from inference.errors import ActionableError


class AnalysisError(ActionableError):
    """Base class: a nodule could not be analysed. ``source`` names the scan, ``fix`` the remedy."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        super().__init__(source or "<scan without a source>", problem, fix)

    @property
    def source(self) -> str:
        return self.subject


class SeedOutsideScan(AnalysisError):
    """The point to analyse lies outside the scan's extent."""


class NoNoduleAtSeed(AnalysisError):
    """Nothing denser than lung parenchyma was found at the point."""


class InvalidClinicalInput(AnalysisError):
    """A clinical input (age, sex, ...) is out of range or not understood."""

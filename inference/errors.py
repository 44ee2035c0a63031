"""The one shape of every error a user can act on: what it is about, what is wrong, what to do.

Each layer has its own base class (``ImagingError``, ``AnalysisError``, ``ReviewError``,
``ExportError``, …) deriving from :class:`ActionableError`; the GUI shows ``str(error)`` in a
dialog and keeps running, the CLI prints it as one line and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path


class ActionableError(Exception):
    """``subject`` (a file, folder, scan or study), the ``problem`` and the ``fix``."""

    def __init__(self, subject: str | Path, problem: str, fix: str) -> None:
        self.subject = str(subject)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.subject}: {problem}. {fix}")

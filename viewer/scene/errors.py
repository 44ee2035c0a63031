"""Typed, user-facing errors of the viewer's own commands (snapshot and friends)."""

from __future__ import annotations

from pathlib import Path


class ViewerError(Exception):
    """Base class. ``path`` is the file concerned, ``fix`` what the user can do."""

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{self.path}: {problem}. {fix}")


class OutputNotWritable(ViewerError):
    """The PNG cannot be written where asked."""


class UnknownLayout(ViewerError):
    """A layout name the viewer does not have."""

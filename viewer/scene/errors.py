"""Typed, user-facing errors of the viewer's own commands (snapshot and friends)."""

from __future__ import annotations

from inference.errors import ActionableError



class ViewerError(ActionableError):
    """Base class. ``path`` is the file concerned, ``fix`` what the user can do."""

    @property
    def path(self) -> str:
        return self.subject


class OutputNotWritable(ViewerError):
    """The PNG cannot be written where asked."""


class UnknownLayout(ViewerError):
    """A layout name the viewer does not have."""

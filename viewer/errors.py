"""The typed errors that the GUI and the CLI show to the user as a message, not a traceback.

Every layer defines its own base class (``ImagingError`` for reading scans, and so on);
a module that adds a new family of user-facing errors registers its base class here.
"""

from __future__ import annotations

import importlib

from inference.errors import ActionableError

#: "module:ClassName" of each user-facing error base class; missing modules are skipped.
_BASES = (
    "inference.errors:ActionableError",
    "inference.imaging.errors:ImagingError",
    "inference.service.errors:ServiceError",
    "inference.detection.registry:ModelError",
    "inference.nodules.errors:AnalysisError",
    "viewer.review.errors:ReviewError",
    "viewer.export.errors:ExportError",
    "inference.training.froc:FrocError",
    "viewer.errors:ViewerError",
)


def user_facing_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for spec in _BASES:
        module_name, cls_name = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        cls = getattr(module, cls_name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


class ViewerError(ActionableError):
    """Base of the viewer's own errors (snapshot and friends). ``path`` is the file concerned,
    ``fix`` what the user can do."""

    @property
    def path(self) -> str:
        return self.subject


class OutputNotWritable(ViewerError):
    """The PNG cannot be written where asked."""


class UnknownLayout(ViewerError):
    """A layout name the viewer does not have."""

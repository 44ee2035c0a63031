"""The typed errors that the GUI and the CLI show to the user as a message, not a traceback.

Every layer defines its own base class (``ImagingError`` for reading scans, and so on);
a module that adds a new family of user-facing errors registers its base class here.
"""

from __future__ import annotations

from inference.detection.registry import ModelError
from inference.domain.progress import Cancelled
from inference.errors import ActionableError
from inference.imaging.errors import ImagingError
from inference.nodules.errors import AnalysisError
from inference.service.errors import ServiceError
from inference.training.froc import FrocError
from viewer.export.errors import ExportError
from viewer.review.errors import ReviewError


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


#: each user-facing error base class (the one ``Cancelled`` included: a cancelled run is a message)
_BASES: tuple[type[BaseException], ...] = (
    ActionableError, ImagingError, ServiceError, Cancelled, ModelError, AnalysisError, ReviewError,
    ExportError, FrocError, ViewerError,
)


def user_facing_errors() -> tuple[type[BaseException], ...]:
    return _BASES

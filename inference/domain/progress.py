"""How long work reports progress and is cancelled, for the whole product. Torch-free.

Every stage (reading a scan, detection, analysis, saliency, screening, the worker client) takes
a :data:`Progress` callback and an :data:`IsCancelled` poll, and stops by raising
:class:`Cancelled`; nothing else signals a cancellation.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(fraction, message)``: ``fraction`` in 0..1 of the stage, ``message`` one short line
Progress = Callable[[float, str], None]
#: polled between steps of long work; True means stop now
IsCancelled = Callable[[], bool]


class Cancelled(Exception):
    """The work was cancelled (the caller's ``cancelled()`` returned True, or the user asked);
    no result was produced."""

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(message)


def check_cancelled(cancelled: IsCancelled | None, what: str = "detection") -> None:
    """Raise :class:`Cancelled` when ``cancelled`` says so."""
    if cancelled is not None and cancelled():
        raise Cancelled(f"{what} cancelled")

"""Typed change events of the review model (Qt-free).

A :class:`ReviewSession` announces what changed through an :class:`Events` hub; widgets subscribe
to the event types they show instead of re-reading everything after every action::

    session.events.connect(StudyChanged, lambda e: table.show(e.study))
    session.events.connect(PendingWriteFailed, lambda e: banner.show(e.pending, e.error))

Callbacks run synchronously, in subscription order, on the thread that changed the session (the
GUI thread in the app). A callback that raises does not stop the others; its error is re-raised
after every subscriber has been called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from viewer.review.errors import StoreWriteError
from viewer.review.model import Decision, ReviewedStudy


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """Base of every review event: the series it concerns."""

    series_uid: str


@dataclass(frozen=True, slots=True)
class StudyChanged(ReviewEvent):
    """The study as now on disk (after a refresh that may have changed states or the status)."""

    study: ReviewedStudy


@dataclass(frozen=True, slots=True)
class FindingDecided(ReviewEvent):
    """A decision on one finding was committed (``RESET`` for an undo)."""

    finding_id: str
    decision: Decision


@dataclass(frozen=True, slots=True)
class FindingAdded(ReviewEvent):
    """The reviewer added a finding the AI missed (committed)."""

    finding_id: str


@dataclass(frozen=True, slots=True)
class SelectionChanged(ReviewEvent):
    """The finding the reviewer is looking at (None: nothing selected)."""

    finding_id: str | None


@dataclass(frozen=True, slots=True)
class StudySignedOff(ReviewEvent):
    reviewer: str


@dataclass(frozen=True, slots=True)
class StudyReopened(ReviewEvent):
    reviewer: str


@dataclass(frozen=True, slots=True)
class PendingWriteFailed(ReviewEvent):
    """Actions are not in the store: ``pending`` of them, and the write error that keeps them out."""

    pending: int
    error: StoreWriteError


@dataclass(frozen=True, slots=True)
class PendingSaved(ReviewEvent):
    """Every pending action is now in the store."""


E = TypeVar("E", bound=ReviewEvent)
Callback = Callable[[Any], None]


class Events:
    """A small typed event hub: ``connect(EventType, callback)``, ``emit(event)``."""

    def __init__(self) -> None:
        self._subscribers: dict[type[ReviewEvent], list[Callback]] = {}

    def connect(self, kind: type[E], callback: Callable[[E], None]) -> None:
        """Call ``callback(event)`` for every emitted event of ``kind`` (or a subclass)."""
        self._subscribers.setdefault(kind, []).append(callback)

    def disconnect(self, kind: type[E], callback: Callable[[E], None]) -> None:
        callbacks = self._subscribers.get(kind, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def disconnect_all(self) -> None:
        self._subscribers.clear()

    def emit(self, event: ReviewEvent) -> None:
        first_error: Exception | None = None
        for kind in type(event).__mro__:
            for callback in list(self._subscribers.get(kind, ())):
                try:
                    callback(event)
                except Exception as exc:  # re-raised below, after the others ran
                    first_error = first_error or exc
        if first_error is not None:
            raise first_error

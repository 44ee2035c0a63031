"""Typed errors of the review workflow: the store, the session and screening.

Each names the file or the study it is about and says what the user can do. The GUI shows
``str(error)`` and keeps running; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

from inference.errors import ActionableError

from pathlib import Path


class ReviewError(ActionableError):
    """Base class. ``where`` is the store file, scan or study concerned; ``fix`` the remedy."""

    @property
    def where(self) -> str:
        return self.subject


class StoreCorrupt(ReviewError):
    """The store file is not a readable NoduleLens database. It is never overwritten;
    ``backup`` is the copy made before refusing it."""

    def __init__(self, where: str | Path, problem: str, fix: str, backup: str = "") -> None:
        super().__init__(where, problem, fix)
        self.backup = backup


class StoreTooNew(ReviewError):
    """The store was written by a newer NoduleLens (its schema version is unknown here)."""


class StoreWriteError(ReviewError):
    """A write could not be committed; nothing of it is in the store. The session keeps the
    action pending and retries it."""


class StoreReadOnly(StoreWriteError):
    """The store file or its folder is not writable."""


class StoreFull(StoreWriteError):
    """The disk (or the database's size limit) is full."""


class StoreBusy(StoreWriteError):
    """Another NoduleLens instance held the store for longer than the busy timeout."""


class UnknownStudy(ReviewError):
    """No study, series or scan path in the store matches what was asked for."""


class UnknownFinding(ReviewError):
    """The finding id does not belong to the study under review."""


class SignOffBlocked(ReviewError):
    """Sign-off asked for while AI findings are still undecided, or the study is signed off."""


class NoDetection(SignOffBlocked):
    """Sign-off asked for on a series that the current model has not screened: detect first, or
    sign off explicitly without AI with a reason."""


class ReasonRequired(SignOffBlocked):
    """A sign-off without AI was asked for without a reason."""


class JournalWriteError(StoreWriteError):
    """Neither the store nor the pending-actions journal beside it could be written: the actions
    are held only in the memory of this process."""


class NoReviewer(ReviewError):
    """No reviewer name is set; every action must name its reviewer."""


class ScreeningError(ReviewError):
    """A folder could not be screened at all (bad root folder, no model)."""

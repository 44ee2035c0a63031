"""Whether a study's CT series are all screened already (resumable screening from a PACS). Qt-free."""

from __future__ import annotations

from viewer.review.store import Store


def screened_series(store: Store, study_uid: str) -> tuple[str, ...] | None:
    """The study's series UIDs when the store holds the study and every one of its series is
    screened; None otherwise (not in the store, or some series not screened or failed)."""
    rows = store.query("SELECT series_uid, screen_state FROM series WHERE study_uid=? ORDER BY created_at",
                       (study_uid,))
    if not rows or any(r["screen_state"] != "screened" for r in rows):
        return None
    return tuple(r["series_uid"] for r in rows)

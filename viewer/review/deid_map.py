"""The persistent de-identification UID map of each study (table ``deid_uid_map``).

Every de-identified export of a study starts from the map of its earlier exports and adds the
UIDs it replaced for the first time, so the SR, SEG, Parametric Maps, report and the CT exported
on different days still refer to each other. Rows are only ever added (a replacement, once
issued, never changes). The original UIDs are kept here, in the local store, never in an output.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from viewer.review.store import Store, utcnow


def uid_map(store: Store, study_uid: str) -> dict[str, str]:
    """old → new UIDs of the study's earlier de-identified exports (empty for the first)."""
    rows = store.query("SELECT old_uid, new_uid FROM deid_uid_map WHERE study_uid = ?", (study_uid,))
    return {r["old_uid"]: r["new_uid"] for r in rows}


def remember(store: Store, study_uid: str, mapping: Mapping[str, str]) -> int:
    """Add the pairs of ``mapping`` the study's map does not hold yet; returns how many were new.

    A UID already mapped keeps its first replacement (``INSERT OR IGNORE``)."""
    known = uid_map(store, study_uid)
    new = [(study_uid, old, rep) for old, rep in mapping.items() if old not in known]
    if not new:
        return 0
    at = utcnow().isoformat()

    def tx(c: sqlite3.Connection) -> None:
        c.executemany("INSERT OR IGNORE INTO deid_uid_map (study_uid, old_uid, new_uid, created_at) "
                      "VALUES (?, ?, ?, ?)", [(*row, at) for row in new])

    store.transaction("saving the de-identification UID map", tx)
    return len(new)

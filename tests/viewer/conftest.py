"""Shared by the viewer's tests: a phantom follow-up pair (prior and current exam of one patient)
screened into a real store with its true nodules as the AI findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inference.domain.finding import Box3D, Finding
from inference.domain.nodule import LungRads
from inference.phantom.followup import FollowupPair
from viewer.review.store import Store

ScreenPair = Callable[[Path, FollowupPair, dict], tuple[Store, dict[str, str]]]


def truth_findings(pair: FollowupPair, which: str) -> list[Finding]:
    """The pair's nodules in one exam ("prior" or "current") as AI findings at their true centres."""
    out = []
    for n in pair.nodules:
        c = n.current_center if which == "current" else n.prior_center
        d = n.current_diameter_mm if which == "current" else n.prior_diameter_mm
        if c is not None:
            out.append(Finding(n.key, c, Box3D.around(c, d + 4.0), 0.9, diameter_mm=d))
    return out


@pytest.fixture(scope="session")
def screen_followup_pair() -> ScreenPair:
    """``screen(db_path, pair, paths) -> (store, {"prior": uid, "current": uid})``: both exams
    registered (written at ``paths``) and screened with their true nodules."""
    def screen(db: Path, pair: FollowupPair, paths: dict) -> tuple[Store, dict[str, str]]:
        store = Store(db)
        uids = {}
        for name, vol in (("prior", pair.prior), ("current", pair.current)):
            i = vol.info
            store.add_series(i.study_instance_uid, i.series_instance_uid, paths[name], actor="test",
                             patient_id=i.patient_id)
            store.record_screening(i.series_instance_uid, truth_findings(pair, name), None, flagged=True,
                                   highest_lung_rads=LungRads.CAT_4A, highest_risk=None)
            uids[name] = i.series_instance_uid
        return store, uids
    return screen

"""Follow-up comparisons in the store: run one for an exam and its prior, keep it, and the reader's
re-pair / un-pair decisions (append-only; an undo appends a ``reset`` row). Qt-free.

:func:`compare_in_store` is what ``nodulelens followup`` and ``nodulelens screen`` call: it finds
the prior on the patient's timeline, gathers both studies' nodules (the prior's accepted and added
findings; its AI findings, marked as unreviewed, where nobody reviewed it), applies the reader's
pairing decisions, compares (:func:`inference.longitudinal.compare`), stores the result and sets
the exam's Lung-RADS in the worklist to the comparison's. Every failure is a typed
:class:`~inference.longitudinal.LongitudinalError`: the exam stays a baseline read.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from inference.longitudinal.types import FindingOrigin, NoduleInput, TimePoint
from viewer.review.model import FindingStatus, StudyStatus
from viewer.review.store import Store, _iso, utcnow
from viewer.review.timeline import TimelineStudy, check_prior, prior_of, study_for


class PairAction(Enum):
    PAIR = "pair"
    UNPAIR = "unpair"
    RESET = "reset"  # undo of an earlier pairing decision


@dataclass(frozen=True, slots=True)
class PairingDecision:
    seq: int
    finding_id: str
    prior_finding_id: str | None
    action: PairAction
    reviewer: str
    at: dt.datetime
    undoes: int | None = None


def nodule_inputs(store: Store, series_uid: str) -> list[NoduleInput]:
    """A study's nodules for comparison: accepted and added findings of a reviewed study; all AI
    findings (marked unreviewed) of a study nobody reviewed. Rejected findings never count."""
    study = store.reviewed_study(series_uid)
    reviewed = study.status is not StudyStatus.NEW
    out = []
    for fs in study.findings:
        f = fs.finding
        if fs.status is FindingStatus.REJECTED or (reviewed and fs.status is FindingStatus.PENDING):
            continue
        origin = FindingOrigin.REVIEWER if f.source.value == "reviewer" else \
            (FindingOrigin.AI if reviewed else FindingOrigin.AI_UNREVIEWED)
        category = None if f.analysis is None else f.analysis.lung_rads
        c = f.center
        out.append(NoduleInput(f.finding_id, (float(c[0]), float(c[1]), float(c[2])), f.diameter_mm, origin,
                               category if reviewed else None))
    return out


def pairing_decisions(store: Store, series_uid: str) -> list[PairingDecision]:
    return [PairingDecision(r["seq"], r["finding_id"], r["prior_finding_id"], PairAction(r["action"]),
                            r["reviewer"], dt.datetime.fromisoformat(r["at"]), r["undoes"])
            for r in store.query("SELECT * FROM pairings WHERE series_uid=? ORDER BY seq", (series_uid,))]


def forced_pairs(store: Store, series_uid: str, prior_series_uid: str) -> dict[str, str | None]:
    """The reader's standing decisions: current finding id → prior finding id (None: un-paired)."""
    rows = [d for d in pairing_decisions(store, series_uid)]
    undone = {d.undoes for d in rows if d.action is PairAction.RESET}
    out: dict[str, str | None] = {}
    prior_rows = {r["seq"]: r["prior_series_uid"] for r in store.query(
        "SELECT seq, prior_series_uid FROM pairings WHERE series_uid=?", (series_uid,))}
    for d in rows:
        if d.action is PairAction.RESET or d.seq in undone or prior_rows[d.seq] != prior_series_uid:
            continue
        out[d.finding_id] = d.prior_finding_id if d.action is PairAction.PAIR else None
    return out


def decide_pairing(store: Store, series_uid: str, prior_series_uid: str, finding_id: str,
                   prior_finding_id: str | None, reviewer: str) -> int:
    """Re-pair ``finding_id`` with ``prior_finding_id`` (or un-pair it with None); audited; returns its seq."""
    action = PairAction.PAIR if prior_finding_id is not None else PairAction.UNPAIR
    return _append(store, series_uid, prior_series_uid, finding_id, prior_finding_id, action, reviewer, None)


def undo_pairing(store: Store, series_uid: str, reviewer: str) -> int | None:
    """Undo the reader's latest standing pairing decision of the exam (appends a reset); None if none."""
    rows = pairing_decisions(store, series_uid)
    undone = {d.undoes for d in rows if d.action is PairAction.RESET}
    live = [d for d in rows if d.action is not PairAction.RESET and d.seq not in undone]
    if not live:
        return None
    last = live[-1]
    prior = store.query("SELECT prior_series_uid FROM pairings WHERE seq=?", (last.seq,))[0]["prior_series_uid"]
    return _append(store, series_uid, prior, last.finding_id, last.prior_finding_id, PairAction.RESET, reviewer,
                   last.seq)


def _append(store: Store, series_uid: str, prior_series_uid: str, finding_id: str, prior_finding_id: str | None,
            action: PairAction, reviewer: str, undoes: int | None) -> int:
    at = _iso(utcnow())

    def tx(c: sqlite3.Connection) -> int:
        cur = c.execute("INSERT INTO pairings (series_uid, prior_series_uid, finding_id, prior_finding_id, action, "
                        "reviewer, at, undoes) VALUES (?,?,?,?,?,?,?,?)",
                        (series_uid, prior_series_uid, finding_id, prior_finding_id, action.value, reviewer, at,
                         undoes))
        store.append_audit(c, reviewer, f"pairing:{action.value}", series_uid, finding_id,
                     {"seq": cur.lastrowid, "prior_series_uid": prior_series_uid,
                      "prior_finding_id": prior_finding_id, "undoes": undoes})
        return int(cur.lastrowid or 0)
    return store.transaction(f"saving the {action.value} of {finding_id}", tx)


def save_comparison(store: Store, series_uid: str, prior_series_uid: str, result_json: Mapping[str, Any],
                    actor: str) -> int:
    """Keep a comparison (the JSON of :func:`inference.longitudinal.to_json_dict`); the exam's
    Lung-RADS in the worklist becomes the comparison's. Audited as ``followup``."""
    cat = str(result_json["exam"]["lung_rads"])
    now = _iso(utcnow())

    def tx(c: sqlite3.Connection) -> int:
        cur = c.execute("INSERT INTO comparisons (series_uid, prior_series_uid, exam_lung_rads, result, created_at, "
                        "created_by) VALUES (?,?,?,?,?,?)",
                        (series_uid, prior_series_uid, cat, json.dumps(result_json), now, actor))
        old = c.execute("SELECT highest_lung_rads FROM series WHERE series_uid=?", (series_uid,)).fetchone()
        c.execute("UPDATE series SET highest_lung_rads=? WHERE series_uid=?", (cat, series_uid))
        store.append_audit(c, actor, "followup", series_uid, detail={
            "prior_series_uid": prior_series_uid, "lung_rads": cat, "baseline_lung_rads": old[0] if old else None,
            "comparison": cur.lastrowid})
        return int(cur.lastrowid or 0)
    return store.transaction("storing the follow-up comparison", tx)


def latest_comparison(store: Store, series_uid: str) -> dict[str, Any] | None:
    rows = store.query("SELECT result FROM comparisons WHERE series_uid=? ORDER BY seq DESC LIMIT 1", (series_uid,))
    return json.loads(rows[0]["result"]) if rows else None


def history_of(store: Store, prior_series_uid: str) -> dict[str, list[TimePoint]]:
    """Sizes over the timeline of each nodule of the prior exam, from the prior's own comparison."""
    earlier = latest_comparison(store, prior_series_uid)
    if not earlier:
        return {}
    out: dict[str, list[TimePoint]] = {}
    for n in earlier["nodules"]:
        if n["current_finding"] is None:
            continue
        pts = [TimePoint(dt.date.fromisoformat(p["date"]), p["mean_diameter_mm"], p["volume_mm3"])
               for p in n["history"][:-1]]  # the prior's own size is re-measured now
        out[n["current_finding"]] = pts
    return out


def compare_in_store(store: Store, series_uid: str, *, prior_series_uid: str | None = None,
                     actor: str = "followup") -> tuple[Any, TimelineStudy]:
    """Compare an exam with its prior (or ``prior_series_uid``) and store it; (FollowupResult, prior)."""
    from inference.imaging import load
    from inference.longitudinal import compare
    from inference.longitudinal.errors import PriorUnavailable
    from inference.longitudinal.report import to_json_dict

    current = study_for(store, series_uid)
    prior = study_for(store, prior_series_uid) if prior_series_uid else prior_of(store, series_uid)
    if prior is None:
        raise PriorUnavailable(current.study_uid, f"patient '{current.patient_id}' has no earlier CT study in the "
                                                  "store", "Screen the patient's earlier CT, or give --prior")
    check_prior(store, current, prior)
    cur_vol, pri_vol = load(current.scan_path), load(prior.scan_path)
    forced = forced_pairs(store, current.series_uid, prior.series_uid)
    result = compare(cur_vol, pri_vol, nodule_inputs(store, current.series_uid),
                     nodule_inputs(store, prior.series_uid), history=history_of(store, prior.series_uid),
                     forced=forced)
    save_comparison(store, current.series_uid, prior.series_uid, to_json_dict(result), actor)
    return result, prior


def ensure_dates(store: Store, series_uid: str) -> None:
    """Fill StudyDate/StudyTime/issuer from the headers for this exam and the patient's other studies
    that lack them (series screened before the timeline existed)."""
    from pydicom.errors import InvalidDicomError

    from viewer.review.timeline import record_study_header

    me = store.series_row(series_uid)
    pid = store.query("SELECT patient_id FROM studies WHERE study_uid=?", (me["study_uid"],))[0]["patient_id"]
    rows = [me] + store.query("SELECT se.study_uid, se.scan_path FROM series se JOIN studies st USING (study_uid) "
                              "WHERE st.patient_id=? AND st.patient_id<>'' AND st.study_date=''", (pid,))
    for row in rows:
        folder = Path(row["scan_path"])
        files = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else [folder]
        for f in files[:5]:  # the first readable DICOM header gives the dates
            try:
                record_study_header(store, row["study_uid"], f)
                break
            except (OSError, ValueError, InvalidDicomError):  # a non-DICOM file in the folder: try the next
                continue


def link_screened(store: Store, series_uids: Sequence[str], say: Callable[[str], None], actor: str) -> None:
    """After screening: compare each screened exam with its prior, when the store holds one."""
    from viewer.review.errors import StoreWriteError

    for uid in series_uids:
        ensure_dates(store, uid)
    for uid in series_uids:
        if prior_of(store, uid) is None:
            continue
        try:
            result, prior = compare_in_store(store, uid, actor=actor)
        except StoreWriteError:
            raise  # the store cannot be written: stop, as screening does
        except Exception as exc:  # a failed comparison must not stop the batch: the exam stays a baseline
            say(f"{store.series_row(uid)['scan_path']}: no comparison, read as a baseline: {exc}")
            continue
        say(f"{store.series_row(uid)['scan_path']}: compared with the prior of {prior.study_date}: "
            f"Lung-RADS {result.exam_category.value} ({len(result.nodules)} nodule(s))")

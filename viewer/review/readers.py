"""Reader analytics from the store's own log: reading times, decisions by AI score, and the
sensitivity / false positives of the AI alone versus the readers' final result. Qt-free.

What the store logs and what is measured from it:

- ``audit`` rows ``open`` / ``shown`` / ``sign_off`` (actor, time, finding) and the append-only
  ``decisions`` (reviewer, time, decision).
- **Decision time per finding**: from the reader's ``shown`` row of the finding to that reader's
  first accept / reject / edit of it (undone decisions included: the reader had decided). A
  finding the reader decided without a ``shown`` row by the same reader is counted in
  ``no_shown`` and left out (the session logs ``shown`` once per finding, for the first reader).
- **Reading time per study**: from the reader's first ``open`` of the series to their first
  ``sign_off`` after it; studies the reader did not sign off are left out.
- **Accept / reject rates by AI score band**: each AI finding's final decision by that reader
  (undo taken into account), counted in the band of the finding's AI score.
- **Detection performance** (with a LUNA16 reference): a hit is a detection whose centre lies
  within diameter/2 of a reference nodule (LUNA16 rule, :mod:`inference.training.froc`). The AI
  alone = its stored AI findings with score >= the series' operating point; the readers' final
  result = the findings the review left accepted (AI accepted or edited, and reviewer-added), at
  their final position. The FROC curves rank the same detections by AI score (reviewer-added: 1.0);
  the AI's curve covers only the candidates the store holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.domain.finding import FindingSource
from inference.training.froc import Detection, FrocResult, Reference, froc, read_annotations
from viewer.review import derive
from viewer.review.model import Decision, FindingStatus

if TYPE_CHECKING:
    from viewer.review.store import Store

#: score band edges; band k is [edges[k], edges[k+1]), the last one includes 1.0
DEFAULT_BAND_EDGES = (0.0, 0.5, 0.8, 0.9, 0.95, 1.0)
DECIDING = (Decision.ACCEPTED, Decision.REJECTED, Decision.EDITED)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and inter-quartile range (numpy's linear percentiles) of ``n`` values, in seconds."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        if not values:
            return cls(0, None, None, None)
        q1, med, q3 = np.percentile(np.asarray(values, float), [25, 50, 75])
        return cls(len(values), float(med), float(q1), float(q3))


@dataclass(frozen=True, slots=True)
class BandRates:
    lo: float
    hi: float
    accepted: int
    rejected: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def accept_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None

    @property
    def label(self) -> str:
        return f"{self.lo:.2f}-{self.hi:.2f}"


@dataclass(frozen=True, slots=True)
class ReaderStats:
    reader: str
    finding_times: Spread
    study_times: Spread
    bands: tuple[BandRates, ...]
    no_shown: int  # findings decided without a 'shown' row by this reader


@dataclass(frozen=True, slots=True)
class Performance:
    """Sensitivity and false positives per scan of one set of detections on ``n_scans`` scans."""

    label: str
    hits: int
    n_nodules: int
    false_positives: int
    n_scans: int

    @property
    def sensitivity(self) -> float | None:
        return self.hits / self.n_nodules if self.n_nodules else None

    @property
    def fps_per_scan(self) -> float:
        return self.false_positives / self.n_scans if self.n_scans else 0.0


@dataclass(frozen=True, slots=True)
class DetectionComparison:
    """AI alone at its operating point versus the readers' final result, on the same scans."""

    group: str  # "all readers" or one reader's name (the series that reader reviewed)
    ai: Performance
    readers: Performance
    ai_froc: FrocResult
    readers_froc: FrocResult


@dataclass(frozen=True, slots=True)
class ReaderReport:
    readers: tuple[ReaderStats, ...]
    comparisons: tuple[DetectionComparison, ...]
    n_series: int


@dataclass
class _Times:
    finding: list[float]
    study: list[float]
    no_shown: int = 0


@dataclass(frozen=True, slots=True)
class _Series:
    uid: str
    threshold: float | None
    reviewer: str
    ai: list[Detection]  # stored AI findings (original position)
    final: list[Detection]  # accepted at the end of the review (final position)


def reader_report(store: "Store", reference: str | Path | None = None,
                  excluded: str | Path | None = None,
                  band_edges: tuple[float, ...] = DEFAULT_BAND_EDGES) -> ReaderReport:
    """Everything ``nodulelens readers`` writes, computed from the store (and the reference)."""
    rows = store.query("SELECT series_uid, operating_threshold FROM series "
                       "WHERE screen_state='screened' ORDER BY created_at")
    times: dict[str, _Times] = {}
    finals: dict[str, dict[str, str]] = {}  # reader -> {finding key: final status}
    scores: dict[str, float] = {}
    series: list[_Series] = []
    for r in rows:
        uid = r["series_uid"]
        stored = store.stored_findings(uid)
        for s in stored:
            scores[f"{uid}/{s.finding.finding_id}"] = s.finding.score
        ai_ids = {s.finding.finding_id for s in stored if s.finding.source is FindingSource.AI}
        decisions = store.decisions(uid)
        actions = store.series_actions(uid)
        _collect_times(actions, decisions, times)
        _collect_finals(uid, decisions, ai_ids, finals)
        series.append(_series(store, uid, r["operating_threshold"], stored))
    readers = []
    for name in sorted(set(times) | set(finals)):
        t = times.get(name, _Times([], []))
        readers.append(ReaderStats(name, Spread.of(t.finding), Spread.of(t.study),
                                   _bands(finals.get(name, {}), scores, band_edges), t.no_shown))
    comparisons: tuple[DetectionComparison, ...] = ()
    if reference is not None:
        refs = read_annotations(reference)
        excl = read_annotations(excluded) if excluded is not None else {}
        groups = [("all readers", series)] + [
            (name, [s for s in series if s.reviewer == name])
            for name in sorted({s.reviewer for s in series if s.reviewer})]
        comparisons = tuple(_compare(g, ss, refs, excl) for g, ss in groups if ss)
    return ReaderReport(tuple(readers), comparisons, len(series))


def _collect_times(actions: list[dict], decisions: list, out: dict[str, _Times]) -> None:
    shown: dict[tuple[str, str], datetime] = {}
    opened: dict[str, datetime] = {}
    signed: set[str] = set()
    for a in actions:
        at, actor = datetime.fromisoformat(a["at"]), a["actor"]
        if a["action"] == "shown" and a["finding_id"]:
            shown.setdefault((actor, a["finding_id"]), at)
        elif a["action"] == "open":
            opened.setdefault(actor, at)
        elif a["action"] == "sign_off" and actor in opened and actor not in signed:
            signed.add(actor)  # the first sign-off after the first open
            out.setdefault(actor, _Times([], [])).study.append((at - opened[actor]).total_seconds())
    first: dict[tuple[str, str], datetime] = {}
    for d in decisions:
        if d.decision in DECIDING:
            first.setdefault((d.reviewer, d.finding_id), d.at)
    for (reader, fid), at in first.items():
        t = out.setdefault(reader, _Times([], []))
        start = shown.get((reader, fid))
        if start is None or start > at:
            t.no_shown += 1
        else:
            t.finding.append((at - start).total_seconds())


def _collect_finals(uid: str, decisions: list, ai_ids: set[str], out: dict) -> None:
    for d in derive.effective(decisions):
        if d.finding_id in ai_ids and d.decision in DECIDING:
            status = "rejected" if d.decision is Decision.REJECTED else "accepted"
            out.setdefault(d.reviewer, {})[f"{uid}/{d.finding_id}"] = status


def _bands(final: dict[str, str], scores: dict[str, float], edges: tuple[float, ...]) -> tuple[BandRates, ...]:
    out = []
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1]
        last = k == len(edges) - 2
        keys = [key for key in final if lo <= scores[key] < hi or (last and scores[key] == hi)]
        out.append(BandRates(lo, hi, sum(final[key] == "accepted" for key in keys),
                             sum(final[key] == "rejected" for key in keys)))
    return tuple(out)


def _series(store: "Store", uid: str, threshold: float | None, stored: list) -> _Series:
    study = store.reviewed_study(uid)
    ai = [Detection(uid, s.finding.center, s.finding.score) for s in stored
          if s.finding.source is FindingSource.AI]
    final = [Detection(uid, fs.finding.center, fs.finding.score) for fs in study.findings
             if fs.status is FindingStatus.ACCEPTED]
    return _Series(uid, threshold, study.reviewer, ai, final)


def _compare(group: str, series: list[_Series], refs: dict[str, list[Reference]],
             excluded: dict[str, list[Reference]]) -> DetectionComparison:
    ids = [s.uid for s in series]
    ai_all = [d for s in series for d in s.ai]
    ai_op = [d for s in series for d in s.ai if s.threshold is None or d.score >= s.threshold]
    final = [d for s in series for d in s.final]
    return DetectionComparison(
        group, _performance("AI alone at its operating point", ai_op, refs, excluded, ids),
        _performance("readers' final result", final, refs, excluded, ids),
        froc(ai_all, refs, ids, excluded), froc(final, refs, ids, excluded))


def _performance(label: str, dets: list[Detection], refs: dict[str, list[Reference]],
                 excluded: dict[str, list[Reference]], ids: list[str]) -> Performance:
    r = froc(dets, refs, ids, excluded)
    sens = float(r.sensitivity[-1]) if len(r.thresholds) else 0.0
    fps = float(r.fps_per_scan[-1]) if len(r.thresholds) else 0.0
    return Performance(label, int(round(sens * r.n_nodules)), r.n_nodules, int(round(fps * r.n_scans)),
                       r.n_scans)

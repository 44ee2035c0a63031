"""The model card's operating-point table: expected sensitivity and false positives per scan at a
score threshold, with bootstrap 95 % confidence intervals, measured on held-out scans.
Torch-free (numpy only): the viewer reads it to show what a threshold means.

In ``manifest.json`` under ``operating_points``::

    {"sets": [{"data": "...", "command": "...", "n_scans": 20, "n_nodules": 60, "bootstrap": 1000,
               "rows": [{"threshold": 0.8, "sensitivity": 0.72, "sensitivity_ci95": [0.6, 0.83],
                         "fps_per_scan": 0.0, "fps_per_scan_ci95": [0.0, 0.0]}, ...]}, ...],
     "floor": 0.3}

``floor`` is the lowest threshold in the table: the worker keeps candidates down to it (below the
operating threshold) so a reader can lower the point without running detection again.
Counting follows :mod:`inference.training.froc` (LUNA16 hit rule, excluded findings count neither
way); a row's sensitivity is the fraction of reference nodules hit by a candidate scoring at least
the threshold, its FP/scan the mean number of other candidates at least that high per scan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the thresholds a card's table lists (plus the card's own operating threshold)
GRID = tuple(round(0.05 * k, 2) for k in range(6, 20))  # 0.30 .. 0.95
TABLE_KEY = "operating_points"
#: the lowest threshold a reader can choose: candidates below it are never kept (about 2 FP/scan on
#: the held-out phantoms and 8 on the synthetic chests of nodulelens-cnn-v2's card)
DEFAULT_FLOOR = 0.5


class OperatingTableError(ValueError):
    """A model card whose ``operating_points`` entry is malformed."""


@dataclass(frozen=True, slots=True)
class OperatingRow:
    threshold: float
    sensitivity: float
    sensitivity_ci95: tuple[float, float]
    fps_per_scan: float
    fps_per_scan_ci95: tuple[float, float]


@dataclass(frozen=True, slots=True)
class OperatingSet:
    """One held-out data set's table, thresholds ascending."""

    data: str
    command: str
    n_scans: int
    n_nodules: int
    rows: tuple[OperatingRow, ...]

    def at(self, threshold: float) -> OperatingRow:
        """The row of the highest tabulated threshold at or below ``threshold`` (a conservative
        reading: a threshold between two rows is credited with the lower row's false positives and
        the lower row's sensitivity is an upper bound for it). Below the table: its first row."""
        best = self.rows[0]
        for row in self.rows:
            if row.threshold <= threshold + 1e-9:
                best = row
        return best


@dataclass(frozen=True, slots=True)
class OperatingTable:
    sets: tuple[OperatingSet, ...]
    floor: float

    def to_json(self) -> dict:
        return {"floor": self.floor, "sets": [{
            "data": s.data, "command": s.command, "n_scans": s.n_scans, "n_nodules": s.n_nodules,
            "rows": [{"threshold": r.threshold, "sensitivity": r.sensitivity,
                      "sensitivity_ci95": list(r.sensitivity_ci95), "fps_per_scan": r.fps_per_scan,
                      "fps_per_scan_ci95": list(r.fps_per_scan_ci95)} for r in s.rows]}
            for s in self.sets]}


def _pair(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise OperatingTableError(f"{where}: a 95 % interval must be [low, high]")
    return float(value[0]), float(value[1])


def parse_table(data: dict, where: str = "manifest.json") -> OperatingTable:
    """An :class:`OperatingTable` from the card's ``operating_points`` object."""
    try:
        sets = []
        for s in data["sets"]:
            rows = tuple(sorted((OperatingRow(float(r["threshold"]), float(r["sensitivity"]),
                                              _pair(r["sensitivity_ci95"], where), float(r["fps_per_scan"]),
                                              _pair(r["fps_per_scan_ci95"], where)) for r in s["rows"]),
                                key=lambda r: r.threshold))
            if not rows:
                raise OperatingTableError(f"{where}: an operating-point set has no rows")
            sets.append(OperatingSet(str(s["data"]), str(s["command"]), int(s["n_scans"]),
                                     int(s["n_nodules"]), rows))
        if not sets:
            raise OperatingTableError(f"{where}: operating_points has no sets")
        return OperatingTable(tuple(sets), float(data["floor"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, OperatingTableError):
            raise
        raise OperatingTableError(f"{where}: operating_points is malformed ({exc!r}); regenerate it with "
                                  f"python -m inference.training.operating_points") from None


def load_table(manifest_path: str | Path) -> OperatingTable | None:
    """The card's table, or None when the card has none (the reader then sees no expected figures)."""
    path = Path(manifest_path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise OperatingTableError(f"{path}: cannot read the model card ({exc})") from None
    table = data.get(TABLE_KEY)
    return None if table is None else parse_table(table, str(path))


# -- computing a set from per-scan results ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """One evaluated scan: the best score of a candidate hitting each reference nodule (-inf when
    none does) and the scores of the false-positive candidates."""

    best_per_nodule: tuple[float, ...]
    fp_scores: tuple[float, ...]


def _counts(scans: list[ScanOutcome], thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sensitivity, FP/scan) at each threshold."""
    best = np.array([b for s in scans for b in s.best_per_nodule], float)
    fps = np.array([f for s in scans for f in s.fp_scores], float)
    n_nod = max(len(best), 1)
    sens = (best[None, :] >= thresholds[:, None]).sum(1) / n_nod if len(best) else np.zeros(len(thresholds))
    fpr = (fps[None, :] >= thresholds[:, None]).sum(1) / max(len(scans), 1) if len(fps) else \
        np.zeros(len(thresholds))
    return sens, fpr


def compute_set(scans: list[ScanOutcome], thresholds: tuple[float, ...], data: str, command: str,
                bootstrap: int = 1000, seed: int = 0) -> OperatingSet:
    """Rows at ``thresholds`` with percentile bootstrap CIs (resampling scans)."""
    thr = np.array(sorted(set(thresholds)), float)
    sens, fpr = _counts(scans, thr)
    rng = np.random.default_rng(seed)
    s_boot, f_boot = [], []
    for _ in range(bootstrap):
        pick = [scans[k] for k in rng.integers(0, len(scans), len(scans))]
        if not any(p.best_per_nodule for p in pick):
            continue
        s, f = _counts(pick, thr)
        s_boot.append(s)
        f_boot.append(f)
    sb = np.array(s_boot) if s_boot else sens[None, :]
    fb = np.array(f_boot) if f_boot else fpr[None, :]

    def ci(a: np.ndarray, k: int) -> tuple[float, float]:
        lo, hi = np.percentile(a[:, k], [2.5, 97.5])
        return round(float(lo), 4), round(float(hi), 4)

    rows = tuple(OperatingRow(round(float(t), 4), round(float(sens[k]), 4), ci(sb, k),
                              round(float(fpr[k]), 4), ci(fb, k)) for k, t in enumerate(thr))
    n_nod = sum(len(s.best_per_nodule) for s in scans)
    return OperatingSet(data, command, len(scans), n_nod, rows)

"""The reader's operating point per study: what the model card expects at a score threshold, and
the point chosen for a series, stored and audited. Qt-free.

The point lives in ``series.operating_threshold`` (the model card's threshold when the series was
screened; the reader's choice after they move it). Every change appends an ``operating_point``
audit row with the old and new threshold and the card's expected figures at the new one.
"""

from __future__ import annotations

import enum
import sqlite3
from pathlib import Path
from typing import Any

from inference.training.operating_table import OperatingTable, load_table
from viewer.review.errors import ReviewError

AUDIT_ACTION = "operating_point"


class BelowPoint(enum.Enum):
    """How findings scoring below the operating point are shown."""

    DIMMED = "dimmed"
    HIDDEN = "hidden"


def card_table(model: str | Path | None) -> OperatingTable | None:
    """The operating-point table of a model card (id or folder; None = the default model), or None
    when the card has none. Raises ``OperatingTableError`` for a malformed table."""
    from inference.detection.registry import ModelError, load_manifest

    try:
        manifest = load_manifest(model) if model is not None else load_manifest(_default_model())
    except ModelError:
        return None
    return load_table(manifest.manifest_path)


def _default_model() -> str:
    from inference.detection.registry import default_model_id

    return default_model_id()


def readout_lines(table: OperatingTable | None, threshold: float) -> list[str]:
    """One line per held-out data set: expected sensitivity and FP/scan (95 % CIs) at ``threshold``."""
    if table is None:
        return ["the model card has no operating-point table: no expected figures"]
    lines = []
    for s in table.sets:
        r = s.at(threshold)
        note = "" if abs(r.threshold - threshold) < 1e-6 else f" [table row {r.threshold:g}]"
        lines.append(f"{s.data.split(' (')[0]} ({s.n_scans} scans, {s.n_nodules} nodules): "
                     f"sensitivity {r.sensitivity:.0%} (95% CI {r.sensitivity_ci95[0]:.0%}-"
                     f"{r.sensitivity_ci95[1]:.0%}), {r.fps_per_scan:.2f} FP/scan (95% CI "
                     f"{r.fps_per_scan_ci95[0]:.2f}-{r.fps_per_scan_ci95[1]:.2f}){note}")
    return lines


def expected_detail(table: OperatingTable | None, threshold: float) -> dict[str, Any]:
    """The card's figures at ``threshold`` for the audit row."""
    if table is None:
        return {}
    out = []
    for s in table.sets:
        r = s.at(threshold)
        out.append({"data": s.data, "row_threshold": r.threshold, "sensitivity": r.sensitivity,
                    "sensitivity_ci95": list(r.sensitivity_ci95), "fps_per_scan": r.fps_per_scan,
                    "fps_per_scan_ci95": list(r.fps_per_scan_ci95)})
    return {"expected": out}


def operating_point(store: Any, series_uid: str) -> float | None:
    """The point stored for a series (None: never screened here)."""
    rows = store.query("SELECT operating_threshold FROM series WHERE series_uid=?", (series_uid,))
    if not rows:
        raise ReviewError(series_uid, "is not in the store", "Open or screen the scan first")
    value = rows[0]["operating_threshold"]
    return None if value is None else float(value)


def record_operating_point(store: Any, series_uid: str, threshold: float, actor: str,
                           table: OperatingTable | None = None) -> bool:
    """Store the reader's point for a series and audit the change; False when it did not change."""
    if not 0.0 <= threshold <= 1.0:
        raise ReviewError(series_uid, f"operating point {threshold:g} is not a score in 0..1",
                          "Choose a point between 0 and 1")
    threshold = round(float(threshold), 4)
    old = operating_point(store, series_uid)
    if old is not None and abs(old - threshold) < 1e-9:
        return False

    def tx(c: sqlite3.Connection) -> None:
        c.execute("UPDATE series SET operating_threshold=? WHERE series_uid=?", (threshold, series_uid))
        store.append_audit(c, actor, AUDIT_ACTION, series_uid,
                     detail={"from": old, "to": threshold, **expected_detail(table, threshold)})

    store.transaction("storing the operating point", tx)
    return True

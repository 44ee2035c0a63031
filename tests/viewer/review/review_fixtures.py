"""Shared test data of the review tests: a series with stored AI findings (imported by name)."""

from __future__ import annotations

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.nodule import LungRads
from viewer.review.store import Store

STUDY = "1.2.826.0.1.3680043.8.498.1"
SERIES = "1.2.826.0.1.3680043.8.498.1.1"
MODEL = ModelInfo("test-model", "1.0", "ab" * 32, "test detector", operating_threshold=0.5)

def ai_findings() -> list[Finding]:
    return [Finding(f"f{i}", (10.0 * i, -20.0, -100.0 + i), Box3D.around((10.0 * i, -20.0, -100.0 + i), 8.0),
                    score, diameter_mm=6.0 + i)
            for i, score in enumerate((0.9, 0.7, 0.4), start=1)]

def add_screened_series(store: Store, scan_path: str = "/data/scan1") -> str:
    store.add_series(STUDY, SERIES, scan_path, actor="screening", patient_id="P1", n_slices=40)
    store.record_screening(SERIES, ai_findings(), MODEL, flagged=True, highest_lung_rads=LungRads.CAT_4A,
                           highest_risk=0.12, saliency_paths={"f1": "/data/f1.npz"})
    return SERIES

"""Reviewer settings (Qt-free), store location precedence, and analysis JSON round trips."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from inference.domain.analysis_codec import AnalysisFormatError
from inference.domain.nodule import LungRads, Measurement, NoduleAnalysis, NoduleType, Side
from viewer.review import codec
from viewer.review.errors import NoReviewer
from viewer.review.settings import JsonBackend, ReviewSettings, default_store_path


def test_reviewer_is_stored_trimmed_and_owner_only(tmp_path: Path) -> None:
    backend = JsonBackend(tmp_path / "cfg" / "settings.json")
    settings = ReviewSettings(backend)
    assert settings.reviewer == ""
    with pytest.raises(NoReviewer, match="first-run prompt"):
        settings.require_reviewer()
    settings.set_reviewer("  Dr  Ada\tLovelace ")
    assert ReviewSettings(JsonBackend(backend.path)).reviewer == "Dr Ada Lovelace"
    assert stat.S_IMODE(backend.path.stat().st_mode) == 0o600
    with pytest.raises(NoReviewer, match="empty"):
        settings.set_reviewer(" \n ")
    with pytest.raises(NoReviewer, match="shorter"):
        settings.set_reviewer("x" * 500)


def test_store_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ReviewSettings(JsonBackend(tmp_path / "s.json"))
    monkeypatch.delenv("NODULELENS_DB", raising=False)
    assert default_store_path(None, settings).name == "nodulelens.db"
    settings.set_store_path(tmp_path / "from-settings.db")
    assert default_store_path(None, settings) == tmp_path / "from-settings.db"
    monkeypatch.setenv("NODULELENS_DB", str(tmp_path / "from-env.db"))
    assert default_store_path(None, settings) == tmp_path / "from-env.db"
    assert default_store_path(tmp_path / "explicit.db", settings) == tmp_path / "explicit.db"


def test_analysis_round_trips_without_class_paths() -> None:
    m = Measurement(long_axis_mm=9.1, short_axis_mm=7.0, mean_diameter_mm=8.05, max_3d_diameter_mm=9.5,
                    volume_mm3=310.0, mean_hu=-20.0, max_hu=80.0,
                    long_axis_lps=((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)))
    analysis = NoduleAnalysis(measurement=m, nodule_type=NoduleType.PART_SOLID, calcified=False,
                              juxta_pleural=False, side=Side.RIGHT, zone=None, location_note="",
                              malignancy_risk=0.031, risk_defaults_used=("sex",), lung_rads=LungRads.CAT_4A,
                              lung_rads_reason="r", management="m")
    text = codec.analysis_json(analysis)
    assert text is not None and "__type__" not in text and "inference." not in text
    assert json.loads(text)["schema"] == "nodulelens.analysis" and json.loads(text)["version"] == 1
    assert codec.parse_analysis(text) == analysis
    assert codec.parse_analysis(None) is None and codec.analysis_json(None) is None


def test_unreadable_analyses_are_typed_errors_and_never_import_anything() -> None:
    with pytest.raises(AnalysisFormatError, match="not a nodule analysis"):
        codec.parse_analysis('{"__type__": "os:system", "fields": {"a": 1}}')
    with pytest.raises(AnalysisFormatError, match="version 99"):
        codec.parse_analysis('{"schema": "nodulelens.analysis", "version": 99}')
    with pytest.raises(AnalysisFormatError, match="missing or bad field"):
        codec.parse_analysis('{"schema": "nodulelens.analysis", "version": 1, "long_axis_mm": 3}')
    garbage = '{"__type__": "os:system", "fields": {}}'
    assert codec.upgrade_analysis_json(garbage) == garbage  # the migration keeps what it cannot read

"""Reviewer settings (Qt-free), store location precedence, and analysis JSON round trips."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from inference.nodules.types import LungRads, Measurement, NoduleType
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


def test_analysis_round_trips_as_its_own_types() -> None:
    m = Measurement(long_axis_mm=9.1, short_axis_mm=7.0, mean_diameter_mm=8.05, max_3d_diameter_mm=9.5,
                    volume_mm3=310.0, mean_hu=-20.0, max_hu=80.0,
                    long_axis_lps=((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)))
    analysis = {"measurement": m, "type": NoduleType.PART_SOLID, "lung_rads": LungRads.CAT_4A,
                "risk": 0.031}
    back = codec.parse_analysis(codec.analysis_json(analysis))
    assert back["measurement"] == m and back["type"] is NoduleType.PART_SOLID
    assert codec.lung_rads_of(back) == "4A" and codec.risk_of(back) == pytest.approx(0.031)
    assert codec.lung_rads_rank("4A") > codec.lung_rads_rank("3") > codec.lung_rads_rank(None)


def test_unknown_types_stay_plain_data() -> None:
    text = '{"__type__": "os:system", "fields": {"a": 1}}'
    assert codec.parse_analysis(text) == {"a": 1}  # never imported outside inference.*
    gone = '{"__type__": "inference.nodules.types:Gone", "fields": {"b": [1, 2]}}'
    assert codec.parse_analysis(gone) == {"b": (1, 2)}

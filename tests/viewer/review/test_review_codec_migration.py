"""The _V_CODEC migration: a store written by the previous version (nodule analyses stored with
Python class paths) opens with every analysis rewritten in the versioned codec's form."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from inference.domain.nodule import Growth, LungRads, Measurement, NoduleAnalysis, NoduleType, Side, Zone
from viewer.review import schema
from viewer.review.errors import StoreCorrupt
from viewer.review.model import Decision
from viewer.review.store import Store

#: values the previous store code wrote (see "written_by" in the file)
LEGACY = json.loads((Path(__file__).parent / "data" / "legacy_store_values.json").read_text())
STUDY, SERIES, BROKEN = "1.2.3", "1.2.3.1", "1.2.3.2"
NOW = "2026-11-30T10:00:00.000000+00:00"
GEOMETRY = json.dumps({"center": [10.0, -20.0, -99.0], "lo": [6.0, -24.0, -103.0], "hi": [14.0, -16.0, -95.0]})
UNREADABLE = '{"__type__": "os:system", "fields": {}}'


def _expected() -> NoduleAnalysis:
    m = Measurement(long_axis_mm=9.1, short_axis_mm=7.0, mean_diameter_mm=8.05, max_3d_diameter_mm=9.5,
                    volume_mm3=310.0, mean_hu=-20.0, max_hu=80.0, solid_component_mm=4.2,
                    long_axis_lps=((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)),
                    short_axis_lps=((1.5, 2.5, 3.0), (3.5, 4.5, 3.0)))
    return NoduleAnalysis(measurement=m, nodule_type=NoduleType.PART_SOLID, calcified=False, juxta_pleural=True,
                          side=Side.LEFT, zone=Zone.UPPER, location_note="side from the lung mask's midline",
                          malignancy_risk=0.031, risk_defaults_used=("family_history", "emphysema"),
                          lung_rads=LungRads.CAT_4A, lung_rads_reason="part-solid, solid component 4.2 mm",
                          management="3-month LDCT", nodule_count=2, growth=Growth.BASELINE)


def _version_1_store(path: Path) -> None:
    """A store at schema version 1 holding what the previous code wrote."""
    conn = sqlite3.connect(path)
    conn.executescript(schema.MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO studies VALUES (?,?,?,?,?,?)", (STUDY, "P1", "", "", "", NOW))
    for uid in (SERIES, BROKEN):
        conn.execute("INSERT INTO series (series_uid, study_uid, scan_path, created_at) VALUES (?,?,?,?)",
                     (uid, STUDY, f"/data/{uid}", NOW))
    rows = [(SERIES, "f1", LEGACY["analysis_column"]), (SERIES, "f2", None), (BROKEN, "f1", UNREADABLE)]
    for uid, fid, analysis in rows:
        conn.execute("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (uid, fid, "ai", "m", "1", "ab", GEOMETRY, 0.9, 8.05, analysis, None, NOW, "screening"))
    conn.execute("INSERT INTO decisions (series_uid, finding_id, decision, reviewer, at, previous_value, "
                 "new_value) VALUES (?,?,?,?,?,?,?)",
                 (SERIES, "f2", Decision.EDITED.value, "Dr A", NOW, "{}", LEGACY["decision_new_value"]))
    conn.commit()
    conn.close()


def test_old_store_is_migrated_to_the_versioned_codec(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_1_store(path)
    with Store(path) as store:
        assert schema.user_version(store._conn) == schema.SCHEMA_VERSION
        stored = dict(store._conn.execute("SELECT finding_id, analysis FROM findings WHERE series_uid=?",
                                          (SERIES,)).fetchall())
        assert stored["f2"] is None
        doc = json.loads(stored["f1"])
        assert (doc["schema"], doc["version"]) == ("nodulelens.analysis", 1)
        assert "__type__" not in stored["f1"] and "inference." not in stored["f1"]
        study = store.reviewed_study(SERIES)
        by_id = {fs.finding.finding_id: fs.finding for fs in study.findings}
        assert by_id["f1"].analysis == _expected()
        # the append-only decision keeps its legacy value and still reads as the same analysis
        assert by_id["f2"].analysis == _expected()
        # what the codec cannot read is kept, untouched, and reported as a typed error
        kept = store._conn.execute("SELECT analysis FROM findings WHERE series_uid=?", (BROKEN,)).fetchone()[0]
        assert kept == UNREADABLE
        with pytest.raises(StoreCorrupt, match="cannot read"):
            store.reviewed_study(BROKEN)

"""LUNA16 CSV and the versioned JSON export of a reviewed study."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from viewer.export.exporter import ExportFormat, ExportInputs, export_study
from viewer.export.errors import UnknownFormat
from viewer.export.identity import tracking_uid
from viewer.review.model import AuditEntry, Decision, DecisionRecord

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "resources" / "schemas" / "export-v1.json"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_candidates_csv_lists_every_ai_finding(tmp_path, study) -> None:
    export_study(ExportInputs(study), "csv", tmp_path / "c.csv")
    rows = _rows(tmp_path / "c.csv")
    assert list(rows[0]) == ["seriesuid", "coordX", "coordY", "coordZ", "probability"]
    assert [float(r["probability"]) for r in rows] == [0.93, 0.41]  # accepted and rejected; no added
    assert (float(rows[0]["coordX"]), float(rows[0]["coordY"]), float(rows[0]["coordZ"])) == (56.21, 86.34, -115.87)
    assert {r["seriesuid"] for r in rows} == {study.series_instance_uid}


def test_reviewed_csv_has_the_luna16_annotations_layout(tmp_path, study, luna_annotations) -> None:
    export_study(ExportInputs(study), "csv", tmp_path / "r.csv", reviewed_csv=True)
    header = (tmp_path / "r.csv").read_text().splitlines()[0]
    assert header == luna_annotations.read_text().splitlines()[0].strip()
    rows = _rows(tmp_path / "r.csv")
    means = [s.finding.analysis.measurement.mean_diameter_mm for s in study.findings if s.finding.analysis]
    assert [float(r["diameter_mm"]) for r in rows] == pytest.approx(means, abs=0.01)
    # the reference nodule of LIDC-IDRI-0001 in LUNA16 is the accepted finding
    ref = next(r for r in _rows(luna_annotations) if r["seriesuid"] == study.series_instance_uid)
    got = rows[0]
    dist = sum((float(got[k]) - float(ref[k])) ** 2 for k in ("coordX", "coordY", "coordZ")) ** 0.5
    assert dist < float(ref["diameter_mm"]) / 2


def test_json_holds_findings_decisions_and_audit(tmp_path, study) -> None:
    t = study.signed_off_at
    decisions = [DecisionRecord("f1", Decision.ACCEPTED, "Doe^Jane", t),
                 DecisionRecord("f2", Decision.REJECTED, "Doe^Jane", t, reason=study.findings[1].reason)]
    audit = [AuditEntry(1, t, "Doe^Jane", "sign_off", detail='{"accepted": 2}')]
    export_study(ExportInputs(study, decisions=decisions, audit=audit), "json", tmp_path / "e.json")
    doc = json.loads((tmp_path / "e.json").read_text())
    assert (doc["schema"], doc["version"]) == ("nodulelens.export", 1)
    assert doc["study"]["signed_off"] is True and doc["study"]["signed_off_by"] == "Doe^Jane"
    by_id = {f["id"]: f for f in doc["findings"]}
    assert set(by_id) == {"f1", "f2", "r1"}
    assert by_id["f2"]["status"] == "rejected" and by_id["f2"]["reason"] == "vessel"
    assert by_id["r1"]["source"] == "reviewer" and by_id["r1"]["analysis"]["nodule_type"] == "part-solid"
    assert by_id["f1"]["analysis"]["lung_rads"] == "4B"
    assert by_id["f1"]["analysis"]["measurement"]["long_axis_mm"] == 23.35
    assert by_id["f1"]["tracking_uid"] == tracking_uid(study, "f1")
    assert [d["decision"] for d in doc["decisions"]] == ["accepted", "rejected"]
    assert doc["audit"][0]["detail"] == {"accepted": 2}
    assert doc["model"]["manifest_sha256"] == study.model.manifest_sha256
    _check_schema(doc, json.loads(SCHEMA_FILE.read_text()))


def _check_schema(value, schema: dict, where: str = "$") -> None:
    """The subset of JSON Schema the published schema uses: type, required, properties, items,
    enum, const."""
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        py = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
              "number": (int, float), "integer": int}
        assert any(isinstance(value, py[t]) and not (t in ("number", "integer") and isinstance(value, bool))
                   for t in types), f"{where}: {value!r} is not {types}"
    if "const" in schema:
        assert value == schema["const"], where
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _check_schema(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check_schema(item, schema["items"], f"{where}[{i}]")


def test_schema_check_catches_a_broken_document(study) -> None:
    from viewer.export.json_export import export_document

    doc = export_document(study)
    schema = json.loads(SCHEMA_FILE.read_text())
    _check_schema(doc, schema)
    del doc["findings"][0]["status"]
    with pytest.raises(AssertionError, match="missing status"):
        _check_schema(doc, schema)


def test_unknown_format_is_a_typed_error(tmp_path, study) -> None:
    with pytest.raises(UnknownFormat, match="docx.*sr, seg, pmap, csv, json, pdf, sc"):
        export_study(ExportInputs(study), "docx", tmp_path / "x")
    assert ExportFormat.parse("SR") is ExportFormat.SR


def test_both_csv_files_load_in_the_evaluation_code(tmp_path, study, luna_annotations) -> None:
    froc = pytest.importorskip("inference.training.froc")
    export_study(ExportInputs(study), "csv", tmp_path / "c.csv")
    export_study(ExportInputs(study), "csv", tmp_path / "r.csv", reviewed_csv=True)
    reviewed = froc.read_annotations(tmp_path / "r.csv")  # usable as reference annotations
    assert [r.diameter_mm for r in reviewed[study.series_instance_uid]] == pytest.approx([21.0, 5.9])
    detections = [froc.Detection(r["seriesuid"], (float(r["coordX"]), float(r["coordY"]),
                                                  float(r["coordZ"])), float(r["probability"]))
                  for r in _rows(tmp_path / "c.csv")]
    luna = {k: v for k, v in froc.read_annotations(luna_annotations).items() if k == study.series_instance_uid}
    result = froc.froc(detections, luna, [study.series_instance_uid])
    assert result.n_nodules == 1
    assert result.sensitivity_at_threshold(0.9) == 1.0  # the accepted AI finding hits the LUNA16 nodule
    assert result.fps_at_threshold(0.4) == 1.0  # the rejected one is a false positive

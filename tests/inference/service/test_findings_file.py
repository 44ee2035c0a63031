"""The findings file: round trip, saliency files, and typed errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.saliency import SaliencyMethod
from inference.imaging.volume import Volume
from inference.service.findings_file import (SCHEMA, VERSION, FindingsFileError, InvalidFindings,
                                             NotAFindingsFile, ScanFindings,
                                             UnsupportedFindingsVersion, load_saliency,
                                             read_findings, save_saliency, write_findings)

REPO = Path(__file__).resolve().parents[3]


def _scan(saliency: dict[str, str] | None = None) -> ScanFindings:
    f1 = Finding("F001", (56.2, 86.3, -115.9), Box3D.around((56.2, 86.3, -115.9), 23.4), 0.93,
                 diameter_mm=23.4)
    f2 = Finding("F002", (-40.0, 10.0, -90.0), Box3D((-43, 7, -92), (-37, 13, -88)), 0.61)
    return ScanFindings(
        findings=(f1, f2), model=ModelInfo("classical", "1.0", "ab" * 32, "baseline", 0.5),
        threshold=0.5, device="cpu", study_instance_uid="1.2.3", series_instance_uid="1.2.3.4",
        frame_of_reference_uid="1.2.3.5", source="../shared/data/lidc/LIDC-IDRI-0001",
        timings=(("detect", 12.5),), saliency_files=tuple((saliency or {}).items()))


def _saliency_volume() -> Volume:
    z, y, x = np.mgrid[0:6, 0:7, 0:8].astype(np.float32)
    v = np.exp(-((z - 3) ** 2 + (y - 3) ** 2 + (x - 4) ** 2) / 4.0).astype(np.float32)
    return Volume(v, Volume.make_affine((0.7, 0.7, 1.25), (50.0, 80.0, -120.0)))


def test_round_trip_keeps_everything(tmp_path):
    sal = save_saliency(_saliency_volume(), tmp_path / "maps" / "F001.npz", method=SaliencyMethod.OCCLUSION)
    out = write_findings(_scan({"F001": str(sal)}), tmp_path / "f.json")
    doc = json.loads(out.read_text())
    assert doc["schema"] == SCHEMA and doc["version"] == VERSION
    assert doc["findings"][0]["saliency"] == "maps/F001.npz"  # relative to the JSON
    back = read_findings(out)
    orig = _scan()
    assert back.findings == orig.findings
    assert back.model == orig.model and back.threshold == 0.5 and back.device == "cpu"
    assert back.series_instance_uid == "1.2.3.4" and back.frame_of_reference_uid == "1.2.3.5"
    assert dict(back.timings) == {"detect": 12.5}
    assert back.saliency == {"F001": str(sal.resolve())}


def test_saliency_file_is_uint8_compressed_and_keeps_the_grid(tmp_path):
    vol = _saliency_volume()
    path = save_saliency(vol, tmp_path / "F1.npz", method=SaliencyMethod.GRAD_CAM)
    with np.load(path) as data:
        assert data["voxels"].dtype == np.uint8 and data["voxels"].max() == 255
    back = load_saliency(path)
    assert back.voxels.dtype == np.float32 and back.shape == vol.shape
    assert np.allclose(back.affine, vol.affine)
    assert np.max(np.abs(back.voxels - vol.voxels)) <= 0.5 / 255 + 1e-6


def test_schema_file_documents_the_same_version():
    schema = json.loads((REPO / "resources" / "schemas" / "findings-v1.schema.json").read_text())
    assert schema["properties"]["schema"]["const"] == SCHEMA
    assert schema["properties"]["version"]["const"] == VERSION
    assert set(schema["required"]) == {"schema", "version", "scan", "model", "findings"}


def _write(tmp_path: Path, doc) -> Path:
    p = tmp_path / "bad.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def _good_doc(tmp_path: Path) -> dict:
    return json.loads(write_findings(_scan(), tmp_path / "good.json").read_text())


@pytest.mark.parametrize("mutate, error, words", [
    (lambda d: "{not json", NotAFindingsFile, "not valid JSON"),
    (lambda d: {**d, "schema": "something.else"}, NotAFindingsFile, "not a NoduleLens findings file"),
    (lambda d: {**d, "version": 2}, UnsupportedFindingsVersion, "version 2"),
    (lambda d: {k: v for k, v in d.items() if k != "model"}, InvalidFindings, "'model'"),
    (lambda d: {**d, "findings": [{**d["findings"][0], "center_mm": [1, 2]}]}, InvalidFindings,
     "findings[0].center_mm"),
    (lambda d: {**d, "findings": [{k: v for k, v in d["findings"][0].items() if k != "score"}]},
     InvalidFindings, "findings[0].score"),
    (lambda d: {**d, "findings": [{**d["findings"][0], "score": 1.7}]}, InvalidFindings, "score"),
    (lambda d: {**d, "findings": [d["findings"][0], d["findings"][0]]}, InvalidFindings, "share one id"),
    (lambda d: {**d, "scan": {}}, InvalidFindings, "scan.series_instance_uid"),
])
def test_bad_files_raise_typed_errors_naming_the_file(tmp_path, mutate, error, words):
    path = _write(tmp_path, mutate(_good_doc(tmp_path)))
    with pytest.raises(error) as err:
        read_findings(path)
    assert str(path) in str(err.value) and words in str(err.value)
    assert "nodulelens detect" in str(err.value) or "update NoduleLens" in str(err.value)


def test_missing_file_and_bad_saliency_are_typed(tmp_path):
    with pytest.raises(NotAFindingsFile, match="file not found"):
        read_findings(tmp_path / "absent.json")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"zip? no")
    with pytest.raises(FindingsFileError) as err:
        load_saliency(bad)
    assert str(bad) in str(err.value)
    np.savez_compressed(tmp_path / "f32.npz", voxels=np.zeros((2, 2, 2), np.float32), affine=np.eye(4))
    with pytest.raises(InvalidFindings, match="uint8"):
        load_saliency(tmp_path / "f32.npz")

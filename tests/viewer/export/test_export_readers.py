"""The SR, SEG and Parametric Map of the reviewed LIDC-IDRI-0001 study (one accepted AI nodule, one
reviewer-added nodule) read by the readers that the viewers radiologists use run:

- 3D Slicer (QuantitativeReporting): dcmqi's ``tid1500reader``, ``segimage2itkimage``,
  ``paramap2itkimage``;
- OHIF Viewer: ``dcmjs`` + ``@cornerstonejs/adapters`` under node (``tests/js/ohif_readers.mjs``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from export_helpers import ADDED_CENTER, NODULE_CENTER

from viewer.export import codes as nl
from viewer.export.exporter import ExportInputs, export_study

JS = Path(__file__).resolve().parents[2] / "js"
CENTRES = {"f1": NODULE_CENTER, "r1": ADDED_CENTER}
#: SR concept code value → the JSON report's measurement key
MEASUREMENT_KEYS = {
    nl.LONG_AXIS.value: "long_axis_mm", nl.SHORT_AXIS.value: "short_axis_mm",
    nl.MEAN_DIAMETER.value: "mean_diameter_mm", nl.VOLUME.value: "volume_mm3",
    nl.SOLID_DIAMETER.value: "solid_component_mm", nl.MALIGNANCY_RISK.value: "malignancy_risk_percent",
    nl.AI_SCORE.value: "ai_score",
}


@pytest.fixture(scope="module")
def out(tmp_path_factory, study, lidc1_volume, masks, saliency) -> dict[str, Path]:
    """One SR export (SR + SEG + map) and one JSON export of the same study."""
    root = tmp_path_factory.mktemp("readers")
    inputs = ExportInputs(study, lidc1_volume, masks, saliency)
    files = {p.stem: p for p in export_study(inputs, "sr", root / "sr").files}
    files["json"] = export_study(inputs, "json", root / "export.json").files[0]
    files["root"] = root
    return files


def _tool(name: str) -> str:
    exe = shutil.which(name) or str(Path(".venv/bin") / name)
    if not Path(exe).exists():
        pytest.skip(f"{name} (dcmqi) is not installed; run scripts/setup.sh")
    return exe


def _run(args: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def _node(kind: str, path: Path, ct_dir: Path) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (OHIF's readers run under node); run scripts/setup.sh")
    if not (JS / "node_modules" / "@cornerstonejs" / "adapters").is_dir():
        pytest.skip("tests/js/node_modules is missing: run `npm ci` in tests/js (scripts/setup.sh does)")
    done = subprocess.run([node, str(JS / "ohif_readers.mjs"), kind, str(path), str(ct_dir)],
                          capture_output=True, text=True, timeout=300, cwd=JS)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(out) -> dict:
    return json.loads(out["json"].read_text())["report"]


# -- 3D Slicer: dcmqi -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tid1500(out) -> dict:
    target = out["root"] / "tid1500.json"
    _run([_tool("tid1500reader"), "--inputDICOM", str(out["sr"]), "--outputMetadata", str(target)])
    return json.loads(target.read_text())


def test_tid1500reader_gives_one_group_per_nodule_paired_with_its_segment(tid1500, out) -> None:
    groups = tid1500["Measurements"]
    seg = pydicom.dcmread(out["seg"], stop_before_pixels=True)
    assert len(groups) == len(seg.SegmentSequence) == 2  # Slicer pairs groups and segments by position
    for i, g in enumerate(groups):
        assert g["ReferencedSegment"] == i + 1
        assert g["TrackingUniqueIdentifier"] == seg.SegmentSequence[i].TrackingUID
        assert g["segmentationSOPInstanceUID"] == seg.SOPInstanceUID


def test_tid1500reader_values_equal_the_json_export_field_by_field(tid1500, out) -> None:
    report = _report(out)
    assert [n["finding_id"] for n in report["nodules"]] == ["f1", "r1"]
    for group, nodule in zip(tid1500["Measurements"], report["nodules"], strict=True):
        assert group["TrackingUniqueIdentifier"] == nodule["tracking_uid"]
        assert group["TrackingIdentifier"] == nodule["tracking_identifier"]
        assert group["ReferencedSegment"] == nodule["segment_number"]
        assert group["Finding"]["CodeValue"] == "27925004"  # SCT Nodule
        sr_values = {MEASUREMENT_KEYS[i["quantity"]["CodeValue"]]: float(i["value"])
                     for i in group["measurementItems"]}
        expected = {k: v for k, v in nodule["measurements"].items() if v is not None}
        assert sr_values == pytest.approx(expected, abs=1e-3)
        quals = {q["conceptCode"]["CodeValue"]: q["conceptValue"]["CodeValue"]
                 for q in group["qualitativeEvaluations"] if isinstance(q["conceptValue"], dict)}
        assert quals["LUNGRADS"] == f"LR{nodule['lung_rads']}"
        assert quals["NODTYPE"] == {"solid": "SOLID", "part-solid": "PARTSOLID",
                                    "ground-glass": "GGN"}[nodule["nodule_type"]]
        assert quals["REVDEC"] == nodule["decision"].upper()
        side = {"left": "7771000", "right": "24028007"}[nodule["side"]]
        assert group["Laterality"]["CodeValue"] == side


def test_every_group_has_the_same_measurement_list_so_slicer_columns_line_up(tid1500) -> None:
    lists = [[i["quantity"]["CodeValue"] for i in g["measurementItems"]] for g in tid1500["Measurements"]]
    first = lists[0]
    assert first == list(MEASUREMENT_KEYS)  # Slicer takes its columns from the first group
    for other in lists[1:]:  # a missing value may only be missing at the end (an empty cell)
        assert other == first[:len(other)]
    assert lists[1] == first[:-1]  # the reviewer-added nodule: no AI score, nothing shifted


def test_reviewer_added_nodule_is_not_credited_to_the_detector(tid1500) -> None:
    ai, added = tid1500["Measurements"]
    assert ai["measurementAlgorithmIdentification"]["AlgorithmName"] == "NoduleLens detector"
    assert "measurementAlgorithmIdentification" not in added


def test_segimage2itkimage_masks_are_centred_on_each_nodule(out) -> None:
    import SimpleITK as sitk

    target = out["root"] / "seg_itk"
    target.mkdir()
    _run([_tool("segimage2itkimage"), "--inputDICOM", str(out["seg"]), "--outputDirectory", str(target),
          "-t", "nrrd"])
    for number, fid in ((1, "f1"), (2, "r1")):
        image = sitk.ReadImage(str(target / f"{number}.nrrd"))
        mask = sitk.GetArrayFromImage(image)  # (z, y, x)
        idx = np.argwhere(mask > 0)
        assert len(idx) > 0
        centre = np.mean([image.TransformContinuousIndexToPhysicalPoint(p[::-1].astype(float).tolist())
                          for p in idx[:: max(1, len(idx) // 2000)]], axis=0)
        assert np.linalg.norm(centre - np.asarray(CENTRES[fid])) < 2.0, (fid, centre)
    meta = json.loads((target / "meta.json").read_text())
    labels = [s[0]["SegmentLabel"] for s in meta["segmentAttributes"]]
    assert labels[0].endswith("Lung-RADS 4B") and "reviewer-added" in labels[1]
    colours = [tuple(s[0]["recommendedDisplayRGBValue"]) for s in meta["segmentAttributes"]]
    assert len(set(colours)) == 2  # each segment its own colour


def test_paramap2itkimage_converts_the_saliency_map(out) -> None:
    import SimpleITK as sitk

    target = out["root"] / "pm_itk"
    target.mkdir()
    _run([_tool("paramap2itkimage"), "--inputDICOM", str(out["pm_f1"]), "--outputDirectory", str(target)])
    image = sitk.ReadImage(str(target / "pmap.nrrd"))
    values = sitk.GetArrayFromImage(image)
    peak = np.unravel_index(np.argmax(values), values.shape)
    world = image.TransformIndexToPhysicalPoint([int(v) for v in peak[::-1]])
    assert values.max() == pytest.approx(1.0, abs=0.05)
    assert np.linalg.norm(np.asarray(world) - np.asarray(NODULE_CENTER)) < 2.0


# -- OHIF: dcmjs + @cornerstonejs/adapters -----------------------------------------------------------
def test_cornerstone_adapter_restores_one_bidirectional_per_nodule_on_its_key_slice(out, lidc1_volume) -> None:
    got = _node("sr", out["sr"], Path(lidc1_volume.info.source))
    report = _report(out)
    by_uid = {m["trackingUid"]: m for m in got["measurements"]}
    assert len(got["measurements"]) == len(report["nodules"]) == 2
    for nodule in report["nodules"]:
        m = by_uid[nodule["tracking_uid"]]
        assert m["toolType"] == "Bidirectional"
        key = lidc1_volume.info.sop_instance_uids[nodule["key_slice_index"]]
        assert m["sopInstanceUid"] == key
        slice_z = lidc1_volume.index_to_world((nodule["key_slice_index"], 0, 0))[2]
        points = np.asarray(m["points"])
        assert points.shape == (4, 3) and np.allclose(points[:, 2], slice_z, atol=0.01)  # on the slice
        assert m["stats"]["length"] == pytest.approx(nodule["measurements"]["long_axis_mm"])
        assert m["stats"]["width"] == pytest.approx(nodule["measurements"]["short_axis_mm"])
        drawn = np.linalg.norm(points[0] - points[1])  # the long axis as drawn, in mm
        assert drawn == pytest.approx(nodule["measurements"]["long_axis_mm"], abs=1.0)
        centre = points.mean(axis=0)[:2]
        assert np.linalg.norm(centre - np.asarray(CENTRES[nodule["finding_id"]][:2])) < 2.0


def test_cornerstone_seg_adapter_gives_one_coloured_segment_per_nodule(out, lidc1_volume) -> None:
    got = _node("seg", out["seg"], Path(lidc1_volume.info.source))
    report = _report(out)
    assert [s["trackingUid"] for s in got["segments"]] == [n["tracking_uid"] for n in report["nodules"]]
    assert [s["label"] for s in got["segments"]] == [n["label"] for n in report["nodules"]]
    assert len({tuple(s["lab"]) for s in got["segments"]}) == 2
    for nodule in report["nodules"]:
        world = got["centroids"][str(nodule["segment_number"])]["world"]
        assert np.linalg.norm(np.array([world["x"], world["y"], world["z"]])
                              - np.asarray(CENTRES[nodule["finding_id"]])) < 2.0


def test_cornerstone_parametric_map_adapter_accepts_the_map(out, saliency, lidc1_volume) -> None:
    got = _node("pm", out["pm_f1"], Path(lidc1_volume.info.source))
    assert got["length"] == int(np.prod(lidc1_volume.shape))  # overlaid on the whole series
    assert got["max"] == pytest.approx(float(saliency["f1"].volume.voxels.max()), rel=1e-5)
    assert got["sum"] == pytest.approx(float(saliency["f1"].volume.voxels.sum()), rel=1e-4)

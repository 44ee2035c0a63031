"""Saliency as Parametric Maps: valid (with Frame Anatomy), float values on the source grid, and
labelled by the method that made each map (occlusion sensitivity, Grad-CAM, or unknown for a
saliency file from before methods were recorded)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from export_helpers import NODULE_CENTER, dciodvfy_errors

from inference.domain.finding import ModelInfo
from inference.domain.nodule import LungRads
from inference.domain.saliency import SaliencyMethod
from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap
from viewer.export.exporter import ExportInputs, export_study


@pytest.fixture(scope="module")
def maps(tmp_path_factory, study, lidc1_volume, saliency) -> dict[str, Path]:
    """``--format pmap``: a map for every finding with saliency, whatever its decision."""
    out = tmp_path_factory.mktemp("pmap") / "maps"
    result = export_study(ExportInputs(study, lidc1_volume, saliency=saliency), "pmap", out)
    return {p.stem: p for p in result.files}


def test_every_map_passes_dciodvfy_without_errors(maps) -> None:
    assert sorted(maps) == ["pm_f1", "pm_f2", "pm_r1"]
    for path in maps.values():
        assert dciodvfy_errors(path) == [], path.name


def test_map_values_round_trip_and_peak_at_the_finding(exported, saliency, lidc1_volume) -> None:
    ds = pydicom.dcmread(exported["pm_f1"])
    values = ds.pixel_array.astype(np.float32)
    crop = saliency["f1"].volume
    assert values.shape == lidc1_volume.shape  # the source CT's frames (OHIF's reader needs them)
    z0, y0, x0 = np.rint(lidc1_volume.world_to_index(crop.origin)).astype(int)
    nz, ny, nx = crop.shape
    for i, frame in enumerate(ds.PerFrameFunctionalGroupsSequence):  # frames located by position
        pos = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        z, y, x = np.rint(lidc1_volume.world_to_index(pos)).astype(int)
        assert (y, x) == (0, 0)
        inside = values[i, y0:y0 + ny, x0:x0 + nx]
        expected = crop.voxels[z - z0] if z0 <= z < z0 + nz else np.zeros_like(inside)
        assert np.allclose(inside, expected, atol=1e-6)
        outside = values[i].copy()
        outside[y0:y0 + ny, x0:x0 + nx] = 0
        assert not outside.any()
    k, r, c = np.unravel_index(np.argmax(values), values.shape)
    frame = ds.PerFrameFunctionalGroupsSequence[k]
    origin = np.array([float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient])
    spacing = [float(v) for v in ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]
    peak = origin + np.array([c * spacing[1], r * spacing[0], 0.0])
    assert np.linalg.norm(peak - np.asarray(NODULE_CENTER)) < 2.0  # within a voxel or so


def test_map_declares_saliency_and_frame_anatomy(exported, lidc1_volume) -> None:
    ds = pydicom.dcmread(exported["pm_f1"], stop_before_pixels=True)
    shared = ds.SharedFunctionalGroupsSequence[0]
    rwvm = shared.RealWorldValueMappingSequence[0]
    assert rwvm.QuantityDefinitionSequence[0].ConceptCodeSequence[0].CodeValue == "130404"  # Saliency
    assert (rwvm.DoubleFloatRealWorldValueFirstValueMapped, rwvm.DoubleFloatRealWorldValueLastValueMapped) == (0.0, 1.0)
    anatomy = shared.FrameAnatomySequence[0]
    assert anatomy.FrameLaterality == "L"  # the nodule is in the left lung
    assert anatomy.AnatomicRegionSequence[0].CodeValue == "816094009"
    sources = {s.ReferencedSOPInstanceUID for f in ds.PerFrameFunctionalGroupsSequence
               for d in f.DerivationImageSequence for s in d.SourceImageSequence}
    assert sources <= set(lidc1_volume.info.sop_instance_uids) and sources
    assert ds.FrameOfReferenceUID == lidc1_volume.info.frame_of_reference_uid


def test_maps_of_one_export_share_one_series(maps) -> None:
    series = {pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID for p in maps.values()}
    numbers = sorted(int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber) for p in maps.values())
    assert len(series) == 1 and numbers == [1, 2, 3]


def test_a_map_off_the_scan_grid_is_refused(study, lidc1_volume, saliency) -> None:
    from viewer.export.errors import MissingAnalysis
    from viewer.export.pmap import build_parametric_maps
    from viewer.export.source import load_source

    crop = saliency["f1"].volume
    shifted = crop.affine.copy()
    shifted[0, 3] += 0.3  # a third of a voxel
    with pytest.raises(MissingAnalysis, match="saliency of finding f1.*fraction of a voxel"):
        build_parametric_maps(study, load_source(lidc1_volume),
                              {"f1": SaliencyMap(crop.with_voxels(crop.voxels, shifted), saliency["f1"].method)})


def test_highdicom_reads_the_map_back_as_the_same_volume(exported, saliency) -> None:
    from highdicom.pm.sop import pmread

    volume = pmread(exported["pm_f1"]).get_volume()
    crop = saliency["f1"].volume
    assert np.isclose(volume.array.sum(), crop.voxels.sum(), rtol=1e-5)  # nothing lost or added
    assert np.isclose(volume.array.max(), crop.voxels.max(), rtol=1e-6)
    peak = np.unravel_index(np.argmax(volume.array), volume.array.shape)
    world = volume.affine[:3, :3] @ np.asarray(peak, float) + volume.affine[:3, 3]
    assert np.linalg.norm(world - np.asarray(NODULE_CENTER)) < 2.0


# -- the method that made each map names it in every label ----------------------------------------
def _labels(path: Path) -> tuple[str, str, str, str]:
    """(SeriesDescription, LUT Explanation, Content Label, Content Description) read back with pydicom."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    rwvm = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    return str(ds.SeriesDescription), str(rwvm.LUTExplanation), str(ds.ContentLabel), str(ds.ContentDescription)


def test_maps_made_by_occlusion_say_occlusion_in_every_label(maps) -> None:
    for fid, path in ((p.removeprefix("pm_"), path) for p, path in maps.items()):
        series, lut, label, description = _labels(path)
        assert series == "NoduleLens AI saliency (occlusion sensitivity)"
        assert lut == "Saliency of the detection, 0..1: occlusion sensitivity"
        assert label == "OCCLUSION"
        assert description == f"Saliency (occlusion sensitivity) of finding {fid}"
        assert not any("grad" in text.lower() for text in (series, lut, label, description))


def test_a_map_made_by_grad_cam_says_grad_cam_and_stays_valid(tmp_path, study, lidc1_volume, saliency) -> None:
    made = {"f1": SaliencyMap(saliency["f1"].volume, SaliencyMethod.GRAD_CAM)}
    (path,) = export_study(ExportInputs(study, lidc1_volume, saliency=made), "pmap", tmp_path / "maps").files
    assert dciodvfy_errors(path) == []
    series, lut, label, description = _labels(path)
    assert series == "NoduleLens AI saliency (Grad-CAM)"
    assert lut == "Saliency of the detection, 0..1: Grad-CAM"
    assert (label, description) == ("GRAD_CAM", "Saliency (Grad-CAM) of finding f1")
    assert not any("occlusion" in text.lower() for text in (series, lut, label, description))


def test_one_series_of_maps_by_two_methods_names_both() -> None:
    from viewer.export.pmap import series_description

    crop = Volume(np.zeros((1, 1, 1), np.float32), np.eye(4))
    both = [SaliencyMap(crop, SaliencyMethod.OCCLUSION), SaliencyMap(crop, SaliencyMethod.GRAD_CAM)]
    assert series_description(both) == "NoduleLens AI saliency (Grad-CAM, occlusion sensitivity)"


def _store_with_map(root: Path, lidc1: Path, lidc1_volume, study, model: ModelInfo, saliency_file: Path):
    from viewer.review.store import Store

    info = lidc1_volume.info
    store = Store(root / "review.db")
    store.add_series(info.study_instance_uid, info.series_instance_uid, str(lidc1), actor="test")
    store.record_screening(info.series_instance_uid, [study.findings[0].finding], model, flagged=True,
                           highest_lung_rads=LungRads.CAT_4B, highest_risk=0.42,
                           saliency_paths={"f1": str(saliency_file)})
    return store


def _old_saliency_file(path: Path, crop: Volume) -> Path:
    """A saliency file as written before the method was recorded: voxels and affine only."""
    np.savez_compressed(path, voxels=np.rint(crop.voxels * 255).astype(np.uint8), affine=crop.affine)
    return path


def test_an_old_map_file_without_its_method_exports_as_unknown_method(tmp_path, lidc1, lidc1_volume, study,
                                                                       saliency) -> None:
    from viewer.export.from_store import export_from_store

    old = _old_saliency_file(tmp_path / "f1.npz", saliency["f1"].volume)
    with _store_with_map(tmp_path, lidc1, lidc1_volume, study, study.model, old) as store:  # card not installed
        result, _ = export_from_store(store, lidc1_volume.info.series_instance_uid, "pmap", tmp_path / "maps")
    (path,) = result.files
    assert dciodvfy_errors(path) == []
    series, lut, label, description = _labels(path)
    assert series == "NoduleLens AI saliency (unknown method)"
    assert lut == "Saliency of the detection, 0..1: unknown method"
    assert (label, description) == ("SALIENCY", "Saliency (unknown method) of finding f1")


def test_an_old_map_file_of_an_unchanged_installed_card_takes_the_cards_method(
        tmp_path, monkeypatch, lidc1, lidc1_volume, study, saliency) -> None:
    from viewer.export.from_store import export_from_store

    card = tmp_path / "models" / "cnn-occ"
    card.mkdir(parents=True)
    raw = json.dumps({"id": "cnn-occ", "version": "2", "architecture": "classical-hessian-dot",
                      "operating_threshold": 0.5, "intended_use": "tests",
                      "network": {"saliency_method": "occlusion"}}).encode()
    (card / "manifest.json").write_bytes(raw)
    monkeypatch.setenv("NODULELENS_MODELS_DIR", str(tmp_path / "models"))
    model = ModelInfo("cnn-occ", "2", hashlib.sha256(raw).hexdigest(), operating_threshold=0.5)
    old = _old_saliency_file(tmp_path / "f1.npz", saliency["f1"].volume)
    with _store_with_map(tmp_path, lidc1, lidc1_volume, study, model, old) as store:
        result, _ = export_from_store(store, lidc1_volume.info.series_instance_uid, "pmap", tmp_path / "maps")
    (path,) = result.files
    assert _labels(path)[:3] == ("NoduleLens AI saliency (occlusion sensitivity)",
                                 "Saliency of the detection, 0..1: occlusion sensitivity", "OCCLUSION")

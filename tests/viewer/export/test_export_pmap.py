"""Saliency as Parametric Maps: valid (with Frame Anatomy), float values on the source grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from export_helpers import NODULE_CENTER, dciodvfy_errors

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
    crop = saliency["f1"]
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

    crop = saliency["f1"]
    shifted = crop.affine.copy()
    shifted[0, 3] += 0.3  # a third of a voxel
    with pytest.raises(MissingAnalysis, match="saliency of finding f1.*fraction of a voxel"):
        build_parametric_maps(study, load_source(lidc1_volume), {"f1": crop.with_voxels(crop.voxels, shifted)})


def test_highdicom_reads_the_map_back_as_the_same_volume(exported, saliency) -> None:
    from highdicom.pm.sop import pmread

    volume = pmread(exported["pm_f1"]).get_volume()
    crop = saliency["f1"]
    assert np.isclose(volume.array.sum(), crop.voxels.sum(), rtol=1e-5)  # nothing lost or added
    assert np.isclose(volume.array.max(), crop.voxels.max(), rtol=1e-6)
    peak = np.unravel_index(np.argmax(volume.array), volume.array.shape)
    world = volume.affine[:3, :3] @ np.asarray(peak, float) + volume.affine[:3, 3]
    assert np.linalg.norm(world - np.asarray(NODULE_CENTER)) < 2.0

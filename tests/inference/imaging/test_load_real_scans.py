"""Real scans: LIDC-IDRI series against SimpleITK, LUNA16 nodules inside the volume, the NIfTI example."""

from __future__ import annotations

import csv
import gzip
import struct

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from inference.imaging import choose_series, load, scan_series


def _sitk_series(folder):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    reader.SetOutputPixelType(sitk.sitkInt16)
    return reader.Execute()


@pytest.fixture(scope="module")
def loaded(lidc1, lidc2):
    return {"lidc1": load(lidc1), "lidc2": load(lidc2)}


@pytest.mark.parametrize("name", ["lidc1", "lidc2"])
def test_lidc_matches_simpleitk(name, loaded, request):
    vol = loaded[name]
    folder = request.getfixturevalue(name)
    img = _sitk_series(next(folder.rglob("*.dcm")).parent)
    ref = sitk.GetArrayViewFromImage(img)
    assert vol.voxels.dtype == np.int16
    assert vol.shape == ref.shape
    np.testing.assert_allclose(vol.spacing_xyz, img.GetSpacing(), atol=1e-5)
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.direction, np.reshape(img.GetDirection(), (3, 3)), atol=1e-6)
    # SimpleITK keeps padding pixels (raw PixelPaddingValue rescaled); the loader makes them air.
    padding = int(pydicom.dcmread(vol.info.source_files[0], stop_before_pixels=True).PixelPaddingValue)
    padding = padding - 0x10000 if padding >= 0x8000 else padding
    padded = ref == padding - 1024
    np.testing.assert_array_equal(vol.voxels[~padded], ref[~padded])
    assert np.all(vol.voxels[padded] == -1024)
    if padded.any():
        assert any(f"{int(padded.sum())} padding pixels" in w for w in vol.info.warnings)


def test_lidc1_geometry_and_metadata(loaded, lidc1):
    vol = loaded["lidc1"]
    assert vol.shape == (133, 512, 512)
    np.testing.assert_allclose(vol.spacing_xyz, (0.703125, 0.703125, 2.5))
    info = vol.info
    assert info.series_instance_uid.endswith("179049373636438705059720603192")
    assert info.study_instance_uid and info.frame_of_reference_uid
    assert info.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"
    assert len(set(info.sop_instance_uids)) == 133 == len(info.source_files)
    assert (info.modality, info.manufacturer, info.kvp, info.convolution_kernel) == (
        "CT", "GE MEDICAL SYSTEMS", 120.0, "STANDARD")
    assert (info.slice_thickness_mm, info.study_date, info.patient_id) == (2.5, "20000101", "LIDC-IDRI-0001")
    # slices in volume order: z of each source file's ImagePositionPatient increases with the index
    z = [float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2])
         for f in info.source_files[:5]]
    np.testing.assert_allclose(z, vol.index_to_world([[k, 0, 0] for k in range(5)])[:, 2])


def test_one_file_loads_its_whole_series(lidc1, loaded):
    one = next(lidc1.rglob("*.dcm"))
    vol = load(one)
    assert vol.shape == (133, 512, 512)
    np.testing.assert_array_equal(vol.voxels, loaded["lidc1"].voxels)


def test_scan_and_choose_on_real_folder(lidc1):
    cands = scan_series(lidc1)
    assert len(cands) == 1 and cands[0].slice_count == 133 and cands[0].modality == "CT"
    assert cands[0].orientation.value == "axial" and cands[0].thickness_mm == 2.5
    best, reason = choose_series(cands)
    assert best is cands[0] and "only series" in reason


def test_luna16_nodules_are_soft_tissue(loaded, luna_annotations):
    rows = list(csv.DictReader(luna_annotations.open()))
    checked = 0
    for vol in loaded.values():
        for row in (r for r in rows if r["seriesuid"] == vol.info.series_instance_uid):
            world = (float(row["coordX"]), float(row["coordY"]), float(row["coordZ"]))
            assert vol.contains_world(world)
            z, y, x = np.rint(vol.world_to_index(world)).astype(int)
            near = vol.voxels[max(z - 1, 0):z + 2, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
            assert np.median(near) > -300, f"nodule at {world} has HU {near.ravel().tolist()}"
            checked += 1
    assert checked >= 1  # LIDC-IDRI-0001 has one LUNA16 reference nodule


def test_nifti_example_geometry(example_nifti):
    vol = load(example_nifti)
    img = sitk.ReadImage(str(example_nifti))
    np.testing.assert_array_equal(vol.voxels, sitk.GetArrayViewFromImage(img))
    assert vol.voxels.dtype == np.int16 and vol.shape == (112, 101, 122)
    # independent check: the file's sform is RAS; the Volume's affine must be the same map in LPS
    with gzip.open(example_nifti) as fh:
        header = fh.read(348)
    assert struct.unpack("<h", header[254:256])[0] > 0  # sform present
    ras = np.vstack([np.reshape(struct.unpack("<12f", header[280:328]), (3, 4)), [0, 0, 0, 1]])
    np.testing.assert_allclose(vol.affine, np.diag([-1, -1, 1, 1]) @ ras, atol=1e-4)
    assert vol.voxels.min() < -900  # air in Hounsfield units


def test_lidc2_ground_glass_nodule_is_ground_glass(loaded, shared_data):
    """README: the -0002 nodule (2 of 4 readers, annotations_excluded.csv) is ground glass, about -600 HU."""
    vol = loaded["lidc2"]
    rows = [r for r in csv.DictReader((shared_data / "luna16" / "annotations_excluded.csv").open())
            if r["seriesuid"] == vol.info.series_instance_uid]
    near = [r for r in rows if np.linalg.norm(
        np.array([float(r["coordX"]), float(r["coordY"]), float(r["coordZ"])]) - (59.8, 71.5, -104.1)) < 10]
    assert near
    z, y, x = np.rint(vol.world_to_index([float(near[0][k]) for k in ("coordX", "coordY", "coordZ")])).astype(int)
    mean = float(vol.voxels[z - 1:z + 2, y - 1:y + 2, x - 1:x + 2].mean())
    assert -800 < mean < -400, mean

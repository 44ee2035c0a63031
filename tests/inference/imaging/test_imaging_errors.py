"""Every kind of bad input gets its typed error naming the file and the fix (real LIDC copies, damaged)."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pydicom
import pytest
from dicom_copies import copy_slices, edit
from pydicom.uid import generate_uid

from inference.imaging import (
    CorruptFile,
    DuplicateSlices,
    GantryTilt,
    InconsistentGeometry,
    MissingSlices,
    MultipleSeries,
    NoDicomFound,
    PathNotFound,
    UnevenSpacing,
    UnsupportedFormat,
    UnsupportedSeries,
    load,
)

N = 8


@pytest.fixture()
def series(lidc1, tmp_path):
    return copy_slices(lidc1, tmp_path / "series", N)


def _names_and_fixes(err, path) -> None:
    assert str(path) in str(err)
    assert err.fix and err.fix in str(err)


def test_clean_copy_loads(series):
    vol = load(series[0].parent)
    assert vol.shape == (N, 512, 512) and vol.info.warnings == ()


def test_missing_path(tmp_path):
    with pytest.raises(PathNotFound) as e:
        load(tmp_path / "nowhere")
    _names_and_fixes(e.value, tmp_path / "nowhere")


def test_empty_folder(tmp_path):
    with pytest.raises(NoDicomFound, match="empty") as e:
        load(tmp_path)
    _names_and_fixes(e.value, tmp_path)


def test_folder_without_dicom(lidc1, tmp_path):
    shutil.copyfile(next(lidc1.rglob("*.xml")), tmp_path / "069.xml")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(NoDicomFound, match="none of its 2 files") as e:
        load(tmp_path)
    _names_and_fixes(e.value, tmp_path)


def test_unknown_file_format(tmp_path):
    f = tmp_path / "scan.png"
    f.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(UnsupportedFormat) as e:
        load(f)
    _names_and_fixes(e.value, f)


def test_raw_half_of_metaimage(tmp_path):
    f = tmp_path / "scan.raw"
    f.write_bytes(bytes(64))
    with pytest.raises(UnsupportedFormat, match=r"\.mhd"):
        load(f)


def test_non_ct_modality(series):
    for f in series:
        edit(f, Modality="MR")
    with pytest.raises(UnsupportedSeries, match="modality is MR") as e:
        load(series[0].parent)
    assert "CT" in e.value.fix


def test_truncated_pixel_data(series):
    victim = series[3]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - 100_000])
    with pytest.raises(CorruptFile) as e:
        load(series[0].parent)
    _names_and_fixes(e.value, victim)


def test_truncated_header(series):
    victim = series[5]
    victim.write_bytes(victim.read_bytes()[:600])
    with pytest.raises(CorruptFile) as e:
        load(series[0].parent)
    _names_and_fixes(e.value, victim)


def test_garbage_in_header(series):
    victim = series[2]
    data = bytearray(victim.read_bytes())
    data[140:148] = b"\xff" * 8  # the length of an early element now points far past the end
    victim.write_bytes(bytes(data))
    with pytest.raises(CorruptFile) as e:
        load(series[0].parent)
    _names_and_fixes(e.value, victim)


def test_two_series_mixed(lidc1, lidc2, tmp_path):
    copy_slices(lidc1, tmp_path, 4)
    other = copy_slices(lidc2, tmp_path / "b", 5)
    with pytest.raises(MultipleSeries, match="2 image series") as e:
        load(tmp_path)
    _names_and_fixes(e.value, tmp_path)
    assert sorted(c.slice_count for c in e.value.series) == [4, 5]
    uid = str(pydicom.dcmread(other[0], stop_before_pixels=True).SeriesInstanceUID)
    assert load(tmp_path, series_uid=uid).shape == (5, 512, 512)


def test_missing_slice(series):
    series[4].unlink()
    with pytest.raises(MissingSlices, match="1 slice") as e:
        load(series[0].parent)
    _names_and_fixes(e.value, series[5])


def test_uneven_spacing(series):
    ipp = pydicom.dcmread(series[4]).ImagePositionPatient
    edit(series[4], ImagePositionPatient=[ipp[0], ipp[1], float(ipp[2]) + 0.8])
    with pytest.raises(UnevenSpacing) as e:
        load(series[0].parent)
    assert "constant slice increment" in e.value.fix


def test_gantry_tilt(series):
    shear = math.tan(math.radians(15))
    z0 = float(pydicom.dcmread(series[0]).ImagePositionPatient[2])
    for f in series:
        x, y, z = (float(v) for v in pydicom.dcmread(f).ImagePositionPatient)
        edit(f, ImagePositionPatient=[x, y + (z - z0) * shear, z], GantryDetectorTilt=15)
    with pytest.raises(GantryTilt, match="15") as e:
        load(series[0].parent)
    assert "tilt" in e.value.fix


def test_inconsistent_rows_columns(series):
    ds = pydicom.dcmread(series[2])
    small = ds.pixel_array[::2, ::2].copy()
    ds.Rows, ds.Columns = small.shape
    ds.PixelData = small.tobytes()
    ds.save_as(series[2])
    with pytest.raises(InconsistentGeometry, match="256x256") as e:
        load(series[0].parent)
    _names_and_fixes(e.value, series[2])


@pytest.mark.parametrize("own_series", [False, True])
def test_localizer_is_excluded_with_warning(series, own_series):
    scout = series[0].parent / "scout.dcm"
    shutil.copyfile(series[0], scout)
    extra = {"SeriesInstanceUID": generate_uid()} if own_series else {}
    edit(scout, ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"], SOPInstanceUID=generate_uid(),
         ImageOrientationPatient=[1, 0, 0, 0, 0, -1], **extra)
    vol = load(series[0].parent)
    assert vol.shape == (N, 512, 512)
    assert any("localizer" in w and "scout.dcm" in w for w in vol.info.warnings)
    assert str(scout) not in vol.info.source_files


def test_identical_duplicate_is_dropped_with_warning(series):
    dup = series[0].parent / "copy_of_slice.dcm"
    shutil.copyfile(series[3], dup)
    vol = load(series[0].parent)
    assert vol.shape == (N, 512, 512)
    assert any("duplicates" in w for w in vol.info.warnings)
    np.testing.assert_array_equal(vol.voxels, load(series[0].parent).voxels)


def test_duplicate_with_different_pixels(series):
    dup = series[0].parent / "other_version.dcm"
    shutil.copyfile(series[3], dup)
    ds = pydicom.dcmread(dup)
    arr = ds.pixel_array.copy()
    arr[200:220, 200:220] += 300
    ds.PixelData = arr.tobytes()
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(dup)
    with pytest.raises(DuplicateSlices, match="different pixels") as e:
        load(series[0].parent)
    assert "other_version.dcm" in str(e.value) or "slice003.dcm" in str(e.value)


def test_segmentation_next_to_the_series_is_not_a_second_series(series):
    import highdicom as hd

    sources = [pydicom.dcmread(f) for f in series[:3]]
    mask = np.zeros((3, 512, 512), dtype=bool)
    mask[1, 200:240, 200:240] = True
    desc = hd.seg.SegmentDescription(
        segment_number=1, segment_label="nodule",
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically Altered Structure"),
        segmented_property_type=hd.sr.CodedConcept("27925004", "SCT", "Nodule"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[desc], series_instance_uid=generate_uid(), series_number=99,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="test", manufacturer_model_name="test",
        software_versions="1", device_serial_number="1")
    seg.save_as(series[0].parent / "seg.dcm")
    vol = load(series[0].parent)
    assert vol.shape == (N, 512, 512)


def test_only_localizers(series):
    for f in series:
        edit(f, ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    with pytest.raises(UnsupportedSeries, match="only localizer") as e:
        load(series[0].parent)
    _names_and_fixes(e.value, series[0].parent)


def test_unknown_series_uid(series):
    with pytest.raises(MultipleSeries, match="no series with SeriesInstanceUID 1.2.3") as e:
        load(series[0].parent, series_uid="1.2.3")
    assert len(e.value.series) == 1 and e.value.series[0].slice_count == N


def test_small_position_jitter_loads_with_warning(series):
    ipp = pydicom.dcmread(series[4]).ImagePositionPatient
    edit(series[4], ImagePositionPatient=[ipp[0], ipp[1], float(ipp[2]) + 0.05])
    vol = load(series[0].parent)
    assert vol.shape == (N, 512, 512) and any("vary by up to" in w for w in vol.info.warnings)


def test_tilt_tag_with_orthogonal_positions_is_not_tilt(series):
    for f in series:
        edit(f, GantryDetectorTilt=15)
    assert load(series[0].parent).shape == (N, 512, 512)

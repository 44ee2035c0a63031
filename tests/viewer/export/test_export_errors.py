"""Bad input gives typed errors that name the file or study and say what to do."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from inference.imaging.volume import Volume
from viewer.errors import user_facing_errors
from viewer.export.errors import ExportError, NotDicomSource, SourceFilesMissing, SourceMismatch
from viewer.export.exporter import ExportInputs, export_study
from viewer.export.source import load_source


def _with_files(volume: Volume, files: tuple[str, ...]) -> Volume:
    return Volume(volume.voxels, volume.affine, dataclasses.replace(volume.info, source_files=files))


def test_moved_source_files_are_named(tmp_path, study, lidc1_volume, masks) -> None:
    moved = tuple(str(tmp_path / "moved" / f"{i:06d}.dcm") for i in range(lidc1_volume.shape[0]))
    with pytest.raises(SourceFilesMissing) as err:
        export_study(ExportInputs(study, _with_files(lidc1_volume, moved), masks), "sr", tmp_path / "out")
    assert err.value.missing == moved
    text = str(err.value)
    assert "133 source CT file(s) are missing" in text and moved[0] in text and "130 more" in text
    assert "Move the scan back" in text
    assert not (tmp_path / "out").exists()  # nothing written
    assert isinstance(err.value, user_facing_errors())


def test_one_deleted_slice_is_named(tmp_path, lidc1_volume) -> None:
    copies = []
    for i, f in enumerate(lidc1_volume.info.source_files):
        dst = tmp_path / f"{i:03d}.dcm"
        if i != 7:  # slice 7 "was deleted"
            dst.symlink_to(shutil.os.path.abspath(f))
        copies.append(str(dst))
    with pytest.raises(SourceFilesMissing, match="1 source CT file.*007.dcm") as err:
        load_source(_with_files(lidc1_volume, tuple(copies)))
    assert err.value.missing == (copies[7],)


def test_a_file_replaced_by_another_instance_is_refused(tmp_path, lidc1_volume) -> None:
    files = list(lidc1_volume.info.source_files)
    files[0], files[1] = files[1], files[0]
    with pytest.raises(SourceMismatch, match="holds instance .* but the reviewed slice was"):
        load_source(_with_files(lidc1_volume, tuple(files)))


def test_a_scan_without_dicom_sources_cannot_give_dicom(tmp_path, study, lidc1_volume) -> None:
    bare = Volume(lidc1_volume.voxels, lidc1_volume.affine)
    with pytest.raises(NotDicomSource, match="Export CSV or JSON"):
        export_study(ExportInputs(study, bare), "seg", tmp_path / "s.dcm")


def test_dicom_export_without_the_scan_is_refused(tmp_path, study) -> None:
    with pytest.raises(ExportError, match="needs the source scan"):
        export_study(ExportInputs(study), "sr", tmp_path / "out")


def test_pmap_without_saliency_is_refused(tmp_path, study, lidc1_volume) -> None:
    with pytest.raises(ExportError, match="no finding has a saliency map"):
        export_study(ExportInputs(study, lidc1_volume), "pmap", tmp_path / "out")

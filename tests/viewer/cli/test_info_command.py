"""``nodulelens info`` through the real CLI entry point on real scans."""

from __future__ import annotations

import pytest

from viewer.cli import main


def test_info_lidc1(lidc1, capsys):
    assert main(["info", str(lidc1)]) == 0
    out = capsys.readouterr().out
    assert "133 slices of 512x512" in out
    assert "0.703x0.703x2.5 mm" in out
    assert "modality:      CT" in out
    from inference.imaging import load

    vol = load(lidc1)
    assert "axial" in out and f"HU range:      {vol.voxels.min()} .. {vol.voxels.max()}" in out
    assert "LIDC-IDRI-0001" not in out  # no patient identifiers
    assert "warnings:      none" in out


def test_info_reports_padding_warning(lidc2, capsys):
    assert main(["info", str(lidc2)]) == 0
    out = capsys.readouterr().out
    assert "261 slices of 512x512" in out and "0.682x0.682x1.25 mm" in out
    assert "padding pixels" in out and "-1024 HU (air)" in out


def test_info_nifti(example_nifti, capsys):
    assert main(["info", str(example_nifti)]) == 0
    out = capsys.readouterr().out
    assert "112 slices of 122x101" in out and "3x3x3 mm" in out


def test_info_bad_path_is_one_line_error(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nodulelens info: ") and str(tmp_path) in err and "empty" in err
    assert "Traceback" not in err


def test_info_lists_series_of_mixed_folder(lidc1, lidc2, tmp_path, capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "inference" / "imaging"))
    from dicom_copies import copy_slices

    copy_slices(lidc1, tmp_path / "a", 3)
    copy_slices(lidc2, tmp_path / "b", 25)
    assert main(["info", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "holds 2 series" in out and "most likely" in out
    uid_line = next(line for line in out.splitlines() if line.startswith("most likely"))
    assert "619372068417051974713149104919" in uid_line  # the longer series of LIDC-IDRI-0002


@pytest.mark.parametrize("argv", [["info", "--help"]])
def test_info_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0 and "SeriesInstanceUID" in capsys.readouterr().out

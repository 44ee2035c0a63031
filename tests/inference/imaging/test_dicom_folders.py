"""What is true about a folder that cannot be read as a series: locked folders and files are named
(a PermissionError, not "empty" or "missing"), a DICOMDIR-only folder is not "empty", and a DICOMDIR
whose files are under the folder loads like any folder."""

from __future__ import annotations

import shutil

import pydicom
import pytest
from dicom_made import load_unprivileged, make_series, unprivileged_command
from pydicom.fileset import FileSet

from inference.imaging import load
from inference.imaging.errors import MissingSlices, NoDicomFound, NotReadable

needs_permissions = pytest.mark.skipif(
    unprivileged_command() is None,
    reason="running as root without setpriv: file permissions cannot be made to apply to a reader")


@pytest.fixture()
def series(tmp_path):
    return make_series(tmp_path / "study" / "series", n=5)


@pytest.fixture()
def relock():
    locked = []
    yield locked.append
    for p in locked:  # so that tmp_path can be removed
        p.chmod(0o755)


def _locked_error(result, path) -> None:
    assert result.get("type") == "NotReadable", result
    assert "PermissionError" in result["mro"] and "ImagingError" in result["mro"]
    assert result["path"] == str(path) and "permission denied" in result["text"]
    assert "chmod" in result["fix"]


@needs_permissions
def test_unreadable_folder_is_named_not_empty(series, relock):
    folder = series[0].parent
    folder.chmod(0o000)
    relock(folder)
    result = load_unprivileged(folder)
    _locked_error(result, folder)
    assert "the folder cannot be read" in result["text"] and "empty" not in result["text"]


@needs_permissions
def test_unreadable_subfolder_is_named(series, relock):
    study = series[0].parent.parent
    series[0].parent.chmod(0o000)
    relock(series[0].parent)
    result = load_unprivileged(study)
    _locked_error(result, series[0].parent)


@needs_permissions
def test_unreadable_slice_is_named_not_missing(series, relock):
    series[2].chmod(0o000)
    relock(series[2])
    result = load_unprivileged(series[0].parent)
    _locked_error(result, series[2])
    assert "1 file(s) cannot be read (permission denied): " + str(series[2]) in result["text"]
    assert "missing" not in result["text"].split("permission denied")[0]


@needs_permissions
def test_unreadable_single_file(series, relock):
    series[1].chmod(0o000)
    relock(series[1])
    _locked_error(load_unprivileged(series[1]), series[1])


@needs_permissions
def test_path_inside_an_unreadable_folder(series, relock):
    study = series[0].parent.parent
    study.chmod(0o000)
    relock(study)
    result = load_unprivileged(series[0].parent)
    assert result.get("type") == "NotReadable" and "PermissionError" in result["mro"], result
    assert result["path"] == str(series[0].parent)
    assert "a folder on the way to it cannot be read" in result["text"]  # not "no such file or folder"


def test_a_readable_series_loads_in_the_unprivileged_reader(series):
    """The reader itself works: the errors above come from the locks, not from the child."""
    if unprivileged_command() is None:
        pytest.skip("no unprivileged reader here")
    assert load_unprivileged(series[0].parent) == {"ok": [5, 24, 24]}


def test_not_readable_is_a_permission_error_with_the_users_message(tmp_path):
    err = NotReadable(tmp_path, "the folder cannot be read (permission denied)", "Make it readable")
    assert isinstance(err, PermissionError)
    assert str(err) == f"{tmp_path}: the folder cannot be read (permission denied). Make it readable"


def _disc(series, root):
    """A disc layout: DICOMDIR at ``root`` and the images in the folders it names."""
    fs = FileSet()
    for f in series:
        fs.add(pydicom.dcmread(f))
    fs.write(root)
    return root


def test_dicomdir_only_folder_says_so(series, tmp_path):
    root = _disc(series, tmp_path / "disc")
    refs = [p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR"]
    assert len(refs) == 5
    for d in [p for p in root.iterdir() if p.is_dir()]:
        shutil.rmtree(d)
    with pytest.raises(NoDicomFound) as e:
        load(root)
    err = e.value
    assert err.path == str(root / "DICOMDIR")
    assert "holds only a DICOMDIR index" in err.problem and "empty" not in err.problem
    assert "it lists 5 file(s), e.g. PT000000" in err.problem and "5 of them are not in the folder" in err.problem
    assert "including the folders the DICOMDIR points to" in err.fix


def test_dicomdir_with_its_files_loads(series, tmp_path):
    plain = load(series[0].parent)
    root = _disc(series, tmp_path / "disc")
    vol = load(root)
    assert vol.shape == plain.shape and (vol.voxels == plain.voxels).all()
    assert (load(root / "DICOMDIR").voxels == plain.voxels).all()  # the index file itself opens its disc


@pytest.mark.filterwarnings("ignore:End of file reached:UserWarning")  # pydicom on the damaged index
def test_damaged_dicomdir_alone(tmp_path):
    (tmp_path / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 40)
    with pytest.raises(NoDicomFound, match="holds only a DICOMDIR index .* cannot be read .*no DirectoryRecordSeq"):
        load(tmp_path)


@pytest.mark.parametrize("lost", [0, 4], ids=["first-slice", "last-slice"])
def test_partly_copied_disc_is_missing_slices_not_a_shorter_scan(series, tmp_path, lost):
    """Without the index an end slice lost in copying leaves a shorter scan that looks complete."""
    root = _disc(series, tmp_path / "disc")
    images = sorted(p for p in root.rglob("IM*"))
    gone = images[lost]
    gone.unlink()
    with pytest.raises(MissingSlices) as e:
        load(root)
    err = e.value
    assert err.path == str(root / "DICOMDIR")
    assert "the DICOMDIR lists 5 image(s) of series" in err.problem
    assert "1 of them are not in the folder: " + str(gone.relative_to(root)) in err.problem
    assert "copy the whole series again" in err.fix

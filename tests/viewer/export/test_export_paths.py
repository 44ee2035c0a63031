"""Exports that never surprise: typed one-line errors for impossible outputs, no silent
overwrite without --force, the de-identification record beside its own export, private modes.

Real parts: a real SQLite review store, a small phantom CT written as real DICOM files, the real
``nodulelens export`` entry point, os.stat on what it wrote.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pydicom
import pytest

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.nodule import LungRads
from viewer.cli import main
from viewer.review.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_phantom_dicom import small_phantom, write_ct_series  # noqa: E402 (after the path it needs)

MODEL = ModelInfo("classical", "1.0", "cd" * 32, operating_threshold=0.5)


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> tuple[Path, str]:
    """(store path, series UID): a phantom CT on disk, screened into a store with one finding."""
    root = tmp_path_factory.mktemp("paths")
    study, series = write_ct_series(small_phantom().volume, root / "scan", "P-PATHS")
    for f in (root / "scan").glob("*.dcm"):  # the type 2 attributes an SR copies from its source
        ds = pydicom.dcmread(f)
        ds.PatientBirthDate, ds.StudyTime, ds.ReferringPhysicianName, ds.AccessionNumber = "", "", "", ""
        ds.StudyID, ds.Manufacturer = "", ""
        ds.save_as(f, enforce_file_format=True)
    with Store(root / "store.db") as store:
        store.add_series(study, series, str(root / "scan"), actor="screening", patient_id="P-PATHS",
                         n_slices=40)
        c = (0.0, 0.0, 0.0)
        store.record_screening(series, [Finding("f1", c, Box3D.around(c, 10.0), 0.9)], MODEL, flagged=True,
                               highest_lung_rads=LungRads.CAT_4A, highest_risk=0.2)
    return root / "store.db", series


def export(screened, fmt: str, out: str | Path, *extra: str) -> int:
    db, series = screened
    return main(["export", series, "--db", str(db), "--format", fmt, "--out", str(out), *extra])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("nodulelens export: ")
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_sr_onto_an_existing_file_is_one_line_naming_it(screened, tmp_path, capsys):
    target = tmp_path / "report.sr"
    target.write_text("keep me")
    assert export(screened, "sr", target) == 2
    line = one_line_error(capsys)
    assert str(target) in line and "is a file, but a sr export writes a folder" in line
    assert target.read_text() == "keep me"


def test_csv_onto_a_folder_is_one_line_naming_it(screened, tmp_path, capsys):
    assert export(screened, "csv", tmp_path) == 2
    line = one_line_error(capsys)
    assert str(tmp_path) in line and "is a folder, but a csv export writes one file" in line


def test_impossible_and_empty_paths_are_typed(screened, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert export(screened, "json", blocker / "sub" / "e.json") == 2
    line = one_line_error(capsys)
    assert str(blocker / "sub" / "e.json") in line and f"{blocker} is a file, not a folder" in line
    too_long = tmp_path / ("x" * 300 + ".json")
    assert export(screened, "json", too_long) == 2
    line = one_line_error(capsys)
    assert str(too_long) in line and "is not a usable path: File name too long" in line
    assert export(screened, "json", "/dev/null", "--force") == 2  # never truncated, never chmod-ed
    assert "/dev/null: is a link, a device or a pipe" in one_line_error(capsys)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and mode(Path("/dev/null")) == 0o666
    assert export(screened, "json", "") == 2
    assert "--out: is empty" in one_line_error(capsys)
    assert export(screened, "pdf", "   ") == 2
    assert "--out: is empty" in one_line_error(capsys)


def test_existing_output_is_refused_for_every_format_unless_force(screened, tmp_path, capsys):
    for fmt, name in (("json", "e.json"), ("csv", "c.csv"), ("seg", "s.dcm")):
        target = tmp_path / name
        target.write_text("an earlier export")
        assert export(screened, fmt, target) == 2, fmt
        line = one_line_error(capsys)
        assert str(target) in line and "already exists" in line and "--force" in line
        assert target.read_text() == "an earlier export"
    for fmt in ("sr", "pmap", "pdf", "sc"):
        folder = tmp_path / f"{fmt}-out"
        folder.mkdir()
        (folder / "sr.dcm").write_text("an earlier export")
        assert export(screened, fmt, folder) == 2, fmt
        line = one_line_error(capsys)
        assert str(folder) in line and "already holds 1 file(s) (sr.dcm)" in line
    assert export(screened, "json", tmp_path / "e.json", "--force") == 0
    doc = json.loads((tmp_path / "e.json").read_text())
    assert [f["id"] for f in doc["findings"]] == ["f1"]


def test_deidentification_records_belong_to_their_exports(screened, tmp_path):
    assert export(screened, "csv", tmp_path / "a.csv", "--deidentify") == 0
    assert export(screened, "json", tmp_path / "b.json", "--deidentify") == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["a.csv", "a.csv.deidentification.json", "b.json", "b.json.deidentification.json"]
    for record in ("a.csv.deidentification.json", "b.json.deidentification.json"):
        assert json.loads((tmp_path / record).read_text())["uids_remapped_consistently"] is True
    # an export in the same place again is refused (the record too) until --force
    (tmp_path / "a.csv").unlink()
    assert export(screened, "csv", tmp_path / "a.csv", "--deidentify") == 2
    assert export(screened, "csv", tmp_path / "a.csv", "--deidentify", "--force") == 0


def test_exports_with_patient_data_are_private_and_deidentified_ones_are_not(screened, tmp_path):
    assert export(screened, "json", tmp_path / "e.json") == 0
    assert mode(tmp_path / "e.json") == 0o600
    assert export(screened, "csv", tmp_path / "d.csv", "--deidentify") == 0
    assert mode(tmp_path / "d.csv") == 0o666 & ~umask()
    out = tmp_path / "new" / "sr"
    assert export(screened, "sr", out, "--with-ct") == 0
    assert mode(out) == 0o700 and mode(out / "ct") == 0o700
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"sr.dcm", "ct_0001.dcm"}
    assert {mode(p) for p in written} == {0o600}
    assert mode(tmp_path / "new") == 0o777 & ~umask()  # a parent it made on the way is not the export

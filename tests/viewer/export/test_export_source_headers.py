"""Source CT files that dropped type 2 attributes (anonymisers, old scanners) still export."""

from __future__ import annotations

import sys
from pathlib import Path

import pydicom

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.nodule import LungRads
from viewer.cli import main
from viewer.export.source import TYPE2_COPIED
from viewer.review.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from export_helpers import dciodvfy_errors  # noqa: E402 (after the path it needs)
from review_phantom_dicom import small_phantom, write_ct_series  # noqa: E402

MODEL = ModelInfo("classical", "1.0", "cd" * 32, operating_threshold=0.5)


def test_sr_of_a_series_without_type2_patient_and_study_attributes(tmp_path: Path, capsys) -> None:
    study, series = write_ct_series(small_phantom().volume, tmp_path / "scan", "P-T2")
    dropped = ("PatientBirthDate", "PatientSex", "StudyTime", "ReferringPhysicianName", "AccessionNumber",
               "StudyID", "Manufacturer")
    for f in (tmp_path / "scan").glob("*.dcm"):
        ds = pydicom.dcmread(f)
        for keyword in dropped:
            if keyword in ds:
                delattr(ds, keyword)
        ds.save_as(f, enforce_file_format=True)
    assert set(dropped) <= set(TYPE2_COPIED)
    with Store(tmp_path / "store.db") as store:
        store.add_series(study, series, str(tmp_path / "scan"), actor="screening", patient_id="P-T2", n_slices=40)
        c = (0.0, 0.0, 0.0)
        store.record_screening(series, [Finding("f1", c, Box3D.around(c, 10.0), 0.9)], MODEL, flagged=True,
                               highest_lung_rads=LungRads.CAT_4A, highest_risk=0.2)
    out = tmp_path / "out"
    rc = main(["export", series, "--db", str(tmp_path / "store.db"), "--format", "sr", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0 and "Traceback" not in err, err
    sr = pydicom.dcmread(out / "sr.dcm")
    assert sr.PatientBirthDate == "" and sr.StudyID == "" and sr.PatientID == "P-T2"
    assert dciodvfy_errors(out / "sr.dcm") == []
    rc = main(["export", series, "--db", str(tmp_path / "store.db"), "--format", "pdf", "--out", str(tmp_path / "pdf")])
    assert rc == 0, capsys.readouterr().err
    encapsulated = pydicom.dcmread(tmp_path / "pdf" / "report.dcm")  # the Encapsulated PDF copies them too
    assert encapsulated.PatientBirthDate == "" and encapsulated.AccessionNumber == ""
    assert dciodvfy_errors(tmp_path / "pdf" / "report.dcm") == []
    for f in (tmp_path / "scan").glob("*.dcm"):  # the source files are not touched
        assert "PatientBirthDate" not in pydicom.dcmread(f, stop_before_pixels=True)

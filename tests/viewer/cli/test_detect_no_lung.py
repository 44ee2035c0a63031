"""``detect`` and ``screen`` on scans with no or little aerated lung (real files, the real worker, a real
store): a head is one line and status 2 for ``detect`` and a failed series for ``screen``, never a clean
scan; a slab is screened with the partial-lung warning on stderr, in the findings file and in the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lung_scans import chest, head_ct, slab, write_image

from inference.imaging.dicom_writer import write_series
from viewer.cli import main
from viewer.review.store import Store

FAST = ["--model", "classical", "--device", "cpu", "--threads", "1"]
WARNED = "mL of aerated lung found; a screening chest CT holds about 3,000–6,000 mL: part of the lungs " \
         "may lie outside the scan and nodules there are not searched"


def test_detect_on_a_head_is_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_image(head_ct(), tmp_path / "head.nii.gz")
    out = tmp_path / "f.json"
    code = main(["detect", str(path), "--out", str(out), *FAST])
    captured = capsys.readouterr()
    assert code == 2
    errors = [line for line in captured.err.splitlines() if line.startswith("nodulelens detect:")]
    assert errors == [f"nodulelens detect: {path}: no aerated lung found: the lung mask holds 0 mL, less than "
                      "the 100 mL needed to screen (a screening chest CT holds about 3,000–6,000 mL); this looks "
                      "like a scan of another body part (head, neck, abdomen), a field of view that leaves the "
                      "lungs out, or lungs without air, and it is not screened. Open the chest CT series of "
                      "this study (both lungs, from apex to base, in the field of view)"]
    assert "Traceback" not in captured.err and "finding(s)" not in captured.out
    assert not out.exists()


def test_detect_on_a_slab_warns_on_stderr_and_in_the_findings_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_image(slab(chest(), 60.0), tmp_path / "slab.mha")
    out = tmp_path / "f.json"
    code = main(["detect", str(path), "--out", str(out), "--no-analysis", *FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warned = [w for w in json.loads(out.read_text())["warnings"] if w.endswith(WARNED)]
    assert len(warned) == 1 and warned[0].startswith("only ")
    assert f"WARNING: {path}: {warned[0]}" in captured.err.splitlines()
    assert "WARNING(S) about this scan or its result" in captured.out


def test_screen_records_a_head_as_failed_and_a_slab_with_its_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    write_series(head_ct(), scans / "head", uid_seed="lungs-head", patient_id="HEAD")
    write_series(slab(chest(), 60.0), scans / "slab", uid_seed="lungs-slab", patient_id="SLAB")
    db = tmp_path / "store.db"
    code = main(["screen", str(scans), "--db", str(db), "--no-saliency", *FAST])
    out = capsys.readouterr().out
    assert code == 1, out  # one series failed, the other was screened
    assert "2 scan(s): 1 screened, 0 already screened (skipped)" in out and "1 failed" in out
    with Store(db) as store:
        rows = {Path(r.scan_path).name: r for r in store.worklist()}
        head = rows["head"]
        assert head.screen_state == "failed" and head.n_findings == 0  # not a clean scan
        assert head.screen_error.startswith(f"NoLungFound: {(scans / 'head').resolve()}: no aerated lung found")
        assert not store.stored_findings(head.series_uid)
        part = rows["slab"]
        assert part.screen_state == "screened"
        warned = [w for w in store.screen_warnings(part.series_uid) if w.endswith(WARNED)]
        assert len(warned) == 1 and warned[0].startswith("only ")
    assert f"WARNING: {warned[0]}" in out

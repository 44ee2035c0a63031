"""``nodulelens screen`` goes on past one damaged file and keeps the loader's warnings with the series.

Real DICOM series written here, the real inference worker (classical model, CPU), a real store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_scans import FAST, add_duplicate, cut_header, write_good

from inference.imaging import Volume, load
from inference.imaging.coverage import lungs_cut_off
from inference.imaging.extent import check_lungs
from inference.imaging.lung_mask import lung_mask
from viewer.cli import main
from viewer.review.screening import ScreenState, find_series
from viewer.review.store import Store

pytestmark = pytest.mark.slow


def test_one_unreadable_header_fails_its_series_by_name_and_the_rest_are_screened(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    write_good(scans, "a-good", 1)
    dup = add_duplicate(write_good(scans, "b-warned", 2))
    cut = cut_header(write_good(scans, "c-cut", 3)[0])  # the first slice: a shorter volume if left out
    db = tmp_path / "store.db"

    code = main(["screen", str(scans), "--db", str(db), *FAST])
    out = capsys.readouterr().out
    assert code == 1, out  # one series failed: status 1 as the README says, not 2 for the whole batch
    assert "3 scan(s): 2 screened, 0 already screened (skipped), 2 flagged, 1 failed" in out
    assert f"CorruptFile: {cut}: " in out  # the log line names the file
    with Store(db) as store:
        rows = {Path(r.scan_path).name: r for r in store.worklist()}
        assert set(rows) == {"a-good", "b-warned", "c-cut"}
        bad = rows["c-cut"]
        assert bad.screen_state == "failed" and bad.n_findings == 0
        assert bad.screen_error.startswith(f"CorruptFile: {cut}: ") and "not screened" in bad.screen_error
        assert not store.stored_findings(bad.series_uid)
        failed = [a for a in store.audit_log(bad.study_uid) if a.action == "screen_failed"]
        assert len(failed) == 1 and str(cut) in json.loads(failed[0].detail)["error"]
        assert rows["a-good"].screen_state == rows["b-warned"].screen_state == "screened"

        # the loader's warning about the duplicate slice is stored with its series, word for word,
        # then the worker's: these 60 mm phantoms hold ~150 mL of lung, part of a chest
        vol = load(dup.parent)
        loaded = vol.info.warnings
        assert len(loaded) == 1 and str(dup) in loaded[0]
        warned = (*loaded, *_lung_warnings(vol))
        uid = rows["b-warned"].series_uid
        assert store.screen_warnings(uid) == warned
        assert rows["b-warned"].warnings == warned
        assert rows["a-good"].warnings == _lung_warnings(load(scans / "a-good"))
        assert rows["b-warned"].tooltip().splitlines()[1:] == [f"warning: {w}" for w in warned]
        screen = [a for a in store.audit_log(uid) if a.action == "screen"]
        assert json.loads(screen[0].detail)["warnings"] == list(warned)
    assert all(f"WARNING: {w}" in out for w in warned)  # and printed while screening


def _lung_warnings(volume: Volume) -> tuple[str, ...]:
    """The worker's warnings about this small phantom's lungs: little aerated lung, and cut off."""
    mask = lung_mask(volume)
    warnings = (check_lungs(volume, mask), lungs_cut_off(volume, mask))
    assert warnings[0] is not None and warnings[0].startswith("only ")
    assert warnings[1] is not None and warnings[1].startswith("the lungs are cut off at the ")
    return warnings


def test_a_damaged_file_outside_any_series_is_a_failed_job_naming_it(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    files = write_good(scans, "a-good", 1)
    stray = scans / "stray"
    stray.mkdir()
    lone = stray / "lone.dcm"
    lone.write_bytes(files[0].read_bytes())
    cut_header(lone)
    jobs, _ = find_series(scans)
    assert [(j.folder, bool(j.series_uid), bool(j.error)) for j in jobs] == \
        [(str((scans / "a-good").resolve()), True, False), (str(stray.resolve()), False, True)]
    assert jobs[1].error.startswith(f"CorruptFile: {lone}: ")

    from viewer.review.screening import screen_folder

    def never(job, progress):  # the damaged job is recorded without running the detector
        raise AssertionError(f"detector called for {job.folder}")

    with Store(tmp_path / "s.db") as store:
        summary = screen_folder(stray, store, never)
    assert [o.state for o in summary.outcomes] == [ScreenState.FAILED]
    assert "lone.dcm" in summary.outcomes[0].error

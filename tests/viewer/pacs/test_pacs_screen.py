"""`nodulelens screen --from-pacs`: find on a real Orthanc, pull with priors, screen, resume; typed errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pacs_orthanc import CURRENT_DATE, PATIENT

from viewer.cli import main
from viewer.pacs.nodes import Node, PacsConfig
from viewer.review.comparisons import latest_comparison
from viewer.review.pacs_queue import received
from viewer.review.store import Store


def _uids(folder: Path) -> tuple[str, str]:
    ds = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def _settings(path: Path, config: PacsConfig, archive: Path, nodes: tuple[Node, ...] | None = None) -> list[str]:
    local = replace(config.local, archive=str(archive))
    path.write_text(json.dumps({"pacs/local": local.to_json(),
                                "pacs/nodes": [n.to_json() for n in (config.nodes if nodes is None else nodes)]}))
    return ["--settings", str(path)]


def test_screen_from_pacs_pulls_with_priors_screens_and_resumes(config: PacsConfig, phantom_studies: dict[str, Path],
                                                                 tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    s = _settings(tmp_path / "settings.json", config, tmp_path / "archive")
    db = str(tmp_path / "s.db")
    argv = ["screen", "--from-pacs", "orthanc", "--patient", PATIENT, "--date", f"{CURRENT_DATE}-",
            "--db", db, "--model", "classical", "--no-saliency", *s]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "orthanc: 1 study found" in out and "pulled with 1 prior(s)" in out
    current_study, current = _uids(phantom_studies["current"])
    _, prior = _uids(phantom_studies["prior"])
    _, old = _uids(phantom_studies["old"])
    with Store(db) as store:
        assert store.is_screened(current) and store.is_screened(prior)  # the prior is screened for the follow-up
        assert old not in store.series_uids()  # outside the 5-year priors window: not pulled
        row = store.series_row(current)
        assert row["study_uid"] == current_study and Path(row["scan_path"]).is_relative_to(tmp_path / "archive")
        assert latest_comparison(store, current) is not None  # compared with the pulled prior
        pulls = {r.series_uid: r.received_at for r in received(store)}
    assert set(pulls) == {current, prior}

    assert main(argv) == 0  # resumable: the screened study is neither pulled nor screened again
    out = capsys.readouterr().out
    assert "already screened, not pulled again" in out and "1 already screened (skipped)" in out
    with Store(db) as store:
        assert {r.series_uid: r.received_at for r in received(store)} == pulls


def test_screen_from_an_unknown_or_unreachable_node_says_which_and_what_to_do(
        config: PacsConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pacs_orthanc import free_port

    db = str(tmp_path / "s.db")
    s = _settings(tmp_path / "a.json", config, tmp_path / "archive")
    assert main(["screen", "--from-pacs", "nowhere", "--db", db, *s]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "is not a configured PACS node" in err and "pacs nodes add" in err

    closed = replace(config.nodes[0], name="gone", port=free_port(), web_url="")
    s = _settings(tmp_path / "b.json", config, tmp_path / "archive", (closed,))
    assert main(["screen", "--from-pacs", "gone", "--patient", PATIENT, "--db", db, *s]) == 2
    err = capsys.readouterr().err
    assert "gone:" in err and "did not answer" in err and "nodulelens pacs echo gone" in err

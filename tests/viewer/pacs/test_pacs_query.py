"""Echo, find and pull (with priors) against a real Orthanc, by DIMSE and by DICOMweb."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pacs_orthanc import CURRENT_DATE, OLD_DATE, PATIENT, PRIOR_DATE

from viewer.pacs import dimse, web
from viewer.pacs.errors import NodeUnreachable, RemoteFailure
from viewer.pacs.nodes import Node, PacsConfig
from viewer.pacs.query import StudyQuery
from viewer.pacs.retrieve import RetrieveMethod, pull, search
from viewer.review.pacs_queue import ReceivedSource, received
from viewer.review.store import Store


def _study_uid(folder: Path) -> str:
    import pydicom
    return str(pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True).StudyInstanceUID)


def test_echo_by_dimse_and_dicomweb(config: PacsConfig) -> None:
    node = config.node("orthanc")
    assert dimse.echo(node, config.local) >= 0
    assert web.ping(node, config.local) >= 0


def test_dicomweb_with_a_wrong_password_says_so(config: PacsConfig) -> None:
    wrong = replace(config.node("orthanc"), secret="wrong")
    with pytest.raises(RemoteFailure, match="HTTP 401.*Check the user name and password"):
        web.ping(wrong, config.local)


def test_echo_of_a_closed_port_names_the_node(config: PacsConfig) -> None:
    from pacs_orthanc import free_port

    dead = Node("dead", ae_title="NOBODY", host="127.0.0.1", port=free_port())
    with pytest.raises(NodeUnreachable) as err:
        dimse.echo(dead, replace(config.local, timeout_s=3))
    assert "NOBODY@127.0.0.1" in str(err.value) and "pacs echo dead" in str(err.value)


@pytest.mark.parametrize("prefer_web", [False, True], ids=["c-find", "qido-rs"])
def test_find_by_patient_and_by_date(config: PacsConfig, phantom_studies: dict[str, Path], prefer_web: bool) -> None:
    node = config.node("orthanc")
    by_patient = search(config, node, StudyQuery(patient_id=PATIENT), prefer_web)
    assert [s.study_date for s in by_patient] == sorted([CURRENT_DATE, PRIOR_DATE, OLD_DATE])
    assert all(len(s.series) == 1 and s.series[0].modality == "CT" and s.series[0].n_instances == 64
               for s in by_patient)
    recent = search(config, node, StudyQuery(study_date="20200101-"), prefer_web)
    assert {s.study_date for s in recent if s.patient_id == PATIENT} == {CURRENT_DATE, PRIOR_DATE}
    by_name = search(config, node, StudyQuery(patient_name="PHANTOM^P*"), prefer_web)
    assert {s.study_uid for s in by_name} == {s.study_uid for s in by_patient}


@pytest.mark.parametrize("how", ["c-get", "c-move", "wado-rs"])
def test_pull_with_priors(config: PacsConfig, phantom_studies: dict[str, Path], tmp_path: Path, how: str) -> None:
    from inference.imaging import load

    cfg = replace(config, local=replace(config.local, archive=str(tmp_path / "archive")))
    current = _study_uid(phantom_studies["current"])
    with Store(tmp_path / "store.db") as store:
        method = RetrieveMethod.C_MOVE if how == "c-move" else RetrieveMethod.C_GET
        result = pull(cfg, cfg.node("orthanc"), current, store, priors_years=5, prefer_web=how == "wado-rs",
                      method=method)
        assert result.current.study.study_uid == current and result.current.n_instances == 64
        assert [p.study.study_date for p in result.priors] == [PRIOR_DATE]  # the 2010 study is too old
        for s in result.studies:
            assert len(s.registered) == 1
            row = store.series_row(s.registered[0])
            assert row["study_uid"] == s.study.study_uid
            folder = Path(row["scan_path"])
            assert folder.parts[-3:] == (PATIENT, s.study.study_uid, s.registered[0])
            assert len(list(folder.glob("*.dcm"))) == 64 and not list(folder.glob(".*"))
        rows = store.query("SELECT patient_id, study_date FROM studies ORDER BY study_date")
        assert rows == [{"patient_id": PATIENT, "study_date": PRIOR_DATE},
                        {"patient_id": PATIENT, "study_date": CURRENT_DATE}]
        assert {r.source for r in received(store)} == {ReceivedSource.PULL}
        pulled = load(result.current.series_folders[0])
    source = load(phantom_studies["current"])
    assert np.array_equal(pulled.voxels, source.voxels) and np.allclose(pulled.affine, source.affine)


def test_pull_of_an_unknown_study_says_so(config: PacsConfig, phantom_studies: dict[str, Path],
                                          tmp_path: Path) -> None:
    with Store(tmp_path / "store.db") as store, pytest.raises(RemoteFailure, match="was not found on orthanc"):
        pull(config, config.node("orthanc"), "1.2.3.4.5.6.7", store)


def test_pull_lidc_voxels_identical_to_the_folder(config: PacsConfig, orthanc, lidc1: Path, tmp_path: Path) -> None:
    from inference.imaging import load

    files = sorted(lidc1.rglob("*.dcm"))
    orthanc.upload(files)
    study_uid = _study_uid(files[0].parent)
    cfg = replace(config, local=replace(config.local, archive=str(tmp_path / "archive")))
    with Store(tmp_path / "store.db") as store:
        result = pull(cfg, cfg.node("orthanc"), study_uid, store, priors_years=0)
        assert result.current.n_instances == len(files) and not result.priors
        folder = Path(store.series_row(result.current.registered[0])["scan_path"])
    pulled, original = load(folder), load(lidc1)
    assert pulled.voxels.dtype == original.voxels.dtype
    assert np.array_equal(pulled.voxels, original.voxels)
    assert np.allclose(pulled.affine, original.affine)


def test_cli_nodes_echo_find_pull(config: PacsConfig, orthanc, phantom_studies: dict[str, Path], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from pacs_orthanc import PASSWORD, USER

    from viewer.cli import main

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"pacs/local": {"ae_title": "NODULELENS", "archive": str(tmp_path / "arch"),
                                                   "min_free_mb": 10}}))
    s = ["--settings", str(settings)]
    assert main(["pacs", "nodes", "add", "pacs1", "--ae", orthanc.ae_title, "--port", str(orthanc.dicom_port),
                 "--web-url", orthanc.web_url, "--auth", "basic", "--user", USER, "--password", PASSWORD, *s]) == 0
    assert main(["pacs", "nodes", "add", "pacs1", "--ae", "X", "--port", "1", *s]) == 2  # already there
    assert main(["pacs", "nodes", "add", "bad", "--ae", "MUCH-TOO-LONG-AE-TITLE", "--port", "104", *s]) == 2
    assert main(["pacs", "nodes", *s]) == 0
    assert main(["pacs", "echo", "pacs1", *s]) == 0
    assert main(["pacs", "find", "pacs1", "--patient", PATIENT, "--date", "20200101-", *s]) == 0
    out = capsys.readouterr()
    assert "pacs1: TESTPACS@127.0.0.1" in out.out and "C-ECHO TESTPACS" in out.out and "QIDO-RS" in out.out
    assert "2 studies" in out.out and "already configured" in out.err and "AE title" in out.err
    current = _study_uid(phantom_studies["current"])
    assert main(["pacs", "pull", "pacs1", current, "--priors-years", "0", "--db", str(tmp_path / "s.db"), *s]) == 0
    assert "64 instance(s), 1 CT series in the store" in capsys.readouterr().out
    assert main(["pacs", "echo", "nowhere", *s]) == 2
    assert "is not a configured PACS node" in capsys.readouterr().err
    assert main(["pacs", "nodes", "remove", "pacs1", *s]) == 0


@pytest.mark.gui
def test_query_pacs_dialog_searches_and_pulls_onto_the_worklist(qtbot, config: PacsConfig, orthanc,
                                                                phantom_studies: dict[str, Path],
                                                                tmp_path: Path) -> None:
    import json
    import os
    import shutil

    from viewer.main_window import MainWindow
    from viewer.pacs.config import PacsSettings
    from viewer.review.settings import JsonBackend, ReviewSettings
    from viewer.widgets.pacs_actions import install_pacs
    from viewer.controllers.review_setup import install_review

    settings_file = tmp_path / "settings.json"
    local = replace(config.local, archive=str(tmp_path / "archive")).to_json()
    settings_file.write_text(json.dumps({"pacs/local": local, "pacs/nodes": [n.to_json() for n in config.nodes]}))
    review_settings = ReviewSettings(JsonBackend(settings_file))
    review_settings.set_reviewer("Dr Pacs")
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 750)
    win.show()
    store = Store(tmp_path / "store.db")
    review = install_review(win, store, review_settings)
    pacs = install_pacs(win, review, PacsSettings(JsonBackend(settings_file)))
    try:
        assert "PACS listener: off" in pacs.status.text()
        dialog = pacs.open_query()
        qtbot.waitExposed(dialog)
        dialog.patient.setText(PATIENT)
        dialog.modality.setText("")
        assert dialog.search()
        qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 3, timeout=60000)
        current = _study_uid(phantom_studies["current"])
        row = next(i for i, h in enumerate(dialog.hits) if h.study_uid == current)
        dialog.results.setCurrentItem(dialog.results.topLevelItem(row))
        dialog.priors.setValue(5)
        with qtbot.waitSignal(dialog.study_pulled, timeout=120000) as pulled:
            assert dialog.pull_selected()
        result = pulled.args[0]
        assert result.current.n_instances == 64 and len(result.priors) == 1
        assert dialog.bar.value() == 1000 and "Pulled 64 instance(s)" in dialog.message.text()
        review.refresh_worklist()
        listed = {r.series_uid for r in review.worklist.visible_rows()}
        assert set(result.current.registered) | set(result.priors[0].registered) <= listed
        pacs.listen_action.setChecked(True)  # the listener in the app, its state in the status bar
        qtbot.waitUntil(lambda: f":{config.local.port}" in pacs.status.text(), timeout=10000)
        shot = tmp_path / "query-pacs.png"
        assert dialog.grab().save(str(shot))
        if os.environ.get("NODULELENS_SCREENSHOT_DIR"):  # refreshes resources/screenshots/
            shutil.copy(shot, Path(os.environ["NODULELENS_SCREENSHOT_DIR"]) / "query-pacs.png")
        pacs.listen_action.setChecked(False)
        assert pacs.status.text() == "PACS listener: off"
        dialog.close()
    finally:  # nothing of this window may fire after its store is closed
        pacs.close()
        for timer in (review.worklist_timer, review.retry_timer):
            timer.stop()
        win.close()
        store.close()

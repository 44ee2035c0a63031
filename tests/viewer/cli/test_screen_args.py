"""`nodulelens screen`: a folder or --from-pacs NODE, exactly one; the search options only with --from-pacs."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewer.cli import build_parser, main


@pytest.mark.parametrize("argv", [["screen"], ["screen", "scans", "--from-pacs", "pacs1"]])
def test_screen_takes_a_folder_or_a_pacs_node(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--from-pacs" in err and "folder" in err


def test_search_options_go_with_from_pacs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["screen", str(tmp_path), "--patient", "P1", "--db", str(tmp_path / "s.db")])
    assert exit_.value.code == 2
    assert "go with --from-pacs" in capsys.readouterr().err


def test_from_pacs_parses_the_search_of_pacs_find() -> None:
    from viewer.cli.commands.pacs import study_query
    from viewer.cli.commands.screen import PACS_LIMIT

    args = build_parser().parse_args(["screen", "--from-pacs", "pacs1", "--patient", "P1", "--name", "DOE^*",
                                      "--date", "20240101-", "--modality", "CT"])
    assert args.folder is None and args.from_pacs == "pacs1" and args.limit == PACS_LIMIT
    q = study_query(args)
    assert (q.patient_id, q.patient_name, q.study_date, q.modality, q.limit) == \
        ("P1", "DOE^*", "20240101-", "CT", PACS_LIMIT)
    find = build_parser().parse_args(["pacs", "find", "pacs1", "--patient", "P1", "--date", "20240101-"])
    assert study_query(find).limit == 200 and study_query(find).study_date == "20240101-"


@pytest.mark.parametrize("command", ["screen", "listen"])
def test_no_saliency_help_names_both_methods_not_one_for_every_model(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--no-saliency skip the saliency maps (each made by the method its model card names: " \
           "occlusion sensitivity or Grad-CAM)" in text
    assert "Grad-CAM maps" not in text

"""`nodulelens evaluate` and `nodulelens train` run the torch work in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from viewer.cli import build_parser


def test_evaluate_end_to_end_on_one_held_out_scan(tmp_path) -> None:
    out = tmp_path / "ev"
    r = subprocess.run([sys.executable, "-m", "viewer.cli", "evaluate", "--phantoms", "1",
                        "--bootstrap", "20", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    s = summary["classical"]
    assert s["n_scans"] == 1 and s["n_nodules"] >= 1 and 0.0 <= s["cpm"] <= 1.0
    assert set(s["sensitivity_at_fps"]) == {"0.125", "0.25", "0.5", "1.0", "2.0", "4.0", "8.0"}
    assert (out / "froc.png").stat().st_size > 1000
    header = (out / "candidates_classical.csv").read_text().splitlines()[0]
    assert header == "seriesuid,coordX,coordY,coordZ,probability"
    assert "classical: CPM" in r.stdout


def test_evaluate_without_inputs_is_a_usage_error() -> None:
    r = subprocess.run([sys.executable, "-m", "viewer.cli", "evaluate"], capture_output=True, text=True)
    assert r.returncode == 2 and "--phantoms" in r.stderr


def test_train_command_line_is_the_seeded_module() -> None:
    from viewer.cli.commands.train import command

    args = build_parser().parse_args(["train", "--seed", "7", "--epochs", "2", "--out", "x/m"])
    cmd = command(args)
    assert cmd[1:3] == ["-m", "inference.training"]
    assert cmd[cmd.index("--seed") + 1] == "7" and cmd[cmd.index("--out") + 1] == "x/m"

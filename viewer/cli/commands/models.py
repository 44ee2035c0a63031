"""``nodulelens models list|add``: the installed models, and installing external weights.

``models add PATH --as monai-lung-nodule`` checks a downloaded MONAI ``lung_nodule_ct_detection``
``model.pt`` against the bundle's architecture (in a separate Python process: this process never
imports torch), then copies it with its sha256 and the model card into the user's models folder
(``inference.service.installed.user_models_dir()``), never into the repository.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HELP = "list installed models, or install downloaded weights (models add PATH --as ID)"

#: model ids that `models add` can install → module whose `verify` subcommand checks the weights
VERIFIERS = {"monai-lung-nodule": "inference.detection.monai_bundle"}
REPO_MODELS = Path(__file__).resolve().parents[3] / "resources" / "models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    sub.add_parser("list", help="models in the repository and in the user's models folder")
    add = sub.add_parser("add", help="verify and install a weights file")
    add.add_argument("path", help="the weights file (for the MONAI bundle: models/model.pt)")
    add.add_argument("--as", dest="model_id", required=True, choices=sorted(VERIFIERS),
                     help="which model card these weights belong to")
    add.add_argument("--models-dir", default=None,
                     help="install here instead of the user's models folder")


def _verify(weights: Path, model_id: str) -> dict:
    from inference.detection.registry import ModelError

    cmd = [sys.executable, "-m", VERIFIERS[model_id], "verify", str(weights),
           "--manifest", str(REPO_MODELS / model_id)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO_MODELS.parents[1]))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"{weights}: the weights check could not run ({tail}); "
                         "check the installation with `bash scripts/setup.sh`")
    result = json.loads(lines[-1])
    if not result.get("ok"):
        raise ModelError(result.get("error", f"{weights}: weights rejected"))
    return result


def run(args: argparse.Namespace) -> int:
    from inference.detection.registry import list_models, models_dir
    from inference.service.installed import install_model, user_models_dir

    if args.models_command == "add":
        weights = Path(args.path)
        print(f"checking {weights} against the {args.model_id} architecture …", file=sys.stderr)
        result = _verify(weights, args.model_id)
        dest = install_model(weights, REPO_MODELS / args.model_id, args.model_id, args.models_dir)
        print(f"installed {args.model_id} ({result['tensors']} tensors, "
              f"{result['parameters'] / 1e6:.1f} M parameters) → {dest}")
        print(f"use it with: nodulelens detect SCAN --out findings.json --model {args.model_id}")
        return 0
    print(f"repository models ({models_dir()}):")
    for m in list_models():
        state = "no weights" if m.weights and not (m.weights_path and m.weights_path.is_file()) else "ready"
        print(f"  {m.model_id:<20} {m.version:<26} {m.architecture:<30} {state}")
    user = user_models_dir()
    print(f"user models ({user}):")
    for sub in sorted(user.glob("*/manifest.json")) if user.is_dir() else []:
        data = json.loads(sub.read_text(encoding="utf-8"))
        print(f"  {data.get('id', sub.parent.name):<20} {data.get('version', ''):<26} "
              f"{data.get('architecture', ''):<30} sha256 {str(data.get('weights_sha256'))[:12]}")
    return 0

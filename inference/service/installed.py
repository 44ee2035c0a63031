"""Models the user installed (``nodulelens models add``): a folder outside the repository. Torch-free.

The user's models folder is ``<platformdirs user data dir>/nodulelens/models`` (on Linux
``~/.local/share/nodulelens/models``); ``NODULELENS_USER_MODELS`` overrides it. A model installed
there wins over the repository's folder of the same id (e.g. the ``monai-lung-nodule`` manifest,
which ships without weights).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from inference.detection.registry import sha256_file
from inference.service.errors import ServiceError


class InstallError(ServiceError):
    """A model could not be installed into the user's models folder."""


def user_models_dir() -> Path:
    env = os.environ.get("NODULELENS_USER_MODELS")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("nodulelens", appauthor=False)) / "models"


def resolve_model(model: str | None) -> str | None:
    """The folder of a user-installed model with this id, else ``model`` unchanged."""
    if model is None or os.sep in str(model) or Path(str(model)).is_dir():
        return model
    folder = user_models_dir() / str(model)
    return str(folder) if (folder / "manifest.json").is_file() else model


def install_model(weights: str | Path, manifest_dir: str | Path, model_id: str,
                  dest_root: str | Path | None = None) -> Path:
    """Copy ``weights`` and a manifest (``manifest_dir``'s, with the weights' sha256 filled in)
    into ``dest_root/model_id/``; returns that folder. Atomic per file; refuses the repository."""
    weights, manifest_dir = Path(weights), Path(manifest_dir)
    root = Path(dest_root) if dest_root is not None else user_models_dir()
    repo = Path(__file__).resolve().parents[2]
    dest = (root / model_id).resolve()
    if dest.is_relative_to(repo):
        raise InstallError(f"{dest}: models are installed into the user's models folder, never into "
                           "the repository; set NODULELENS_USER_MODELS or --models-dir elsewhere")
    try:
        manifest = json.loads((manifest_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InstallError(f"{manifest_dir / 'manifest.json'}: cannot read the model card ({exc})") from exc
    name = manifest.get("weights") or "model.pt"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        tmp = dest / (name + ".part")
        shutil.copyfile(weights, tmp)
        digest = sha256_file(tmp)
        os.replace(tmp, dest / name)
        manifest.update({"id": model_id, "weights": name, "weights_sha256": digest,
                         "installed_from": str(weights.resolve())})
        manifest.pop("weights_note", None)
        tmp_m = dest / "manifest.json.part"
        tmp_m.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp_m, dest / "manifest.json")
    except OSError as exc:
        raise InstallError(f"{dest}: cannot install the model there ({exc}); check the folder's "
                           "permissions and free disk space") from exc
    return dest

"""Installed models: ``resources/models/<id>/manifest.json`` (a model is data). Torch-free.

A manifest names the network, its weights file and sha256, the input spacing, HU window, patch
size, candidate-generator settings, operating threshold, exactly what it was trained on, its
intended use and its measured evaluation figures (each with the command that reproduces it).
The built-in ``classical`` model has no weights: it is the Hessian blob filter alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.domain.finding import ModelInfo
from inference.domain.saliency import SaliencyMethod

REPO = Path(__file__).resolve().parents[2]
#: where models live; NODULELENS_MODELS_DIR overrides it (tests, user installs)
DEFAULT_MODELS_DIR = REPO / "resources" / "models"
CLASSICAL_ID = "classical"
#: architecture name → ``module:Class`` that runs it (its ``from_manifest(manifest, device)``
#: builds a :class:`inference.detection.detector.Detector`); the module is imported only when a
#: detector is built. A new architecture adds one class and its line here.
IMPLEMENTATIONS: dict[str, str] = {
    "classical-hessian-dot": "inference.detection.pipeline:ClassicalDetector",
    "candidate-cnn-v1": "inference.detection.pipeline:CandidateCnnDetector",
    "monai-retinanet-resnet50-fpn": "inference.detection.monai_bundle:BundleDetector",
}
#: the architectures a manifest may name
KNOWN_ARCHITECTURES = frozenset(IMPLEMENTATIONS)
_REQUIRED = ("id", "version", "architecture", "operating_threshold", "intended_use")


class ModelError(Exception):
    """A model folder that cannot be used: bad manifest, missing weights, sha256 mismatch, wrong
    architecture. The message names the file and what to do about it."""


class DeviceUnavailable(ModelError):
    """The device asked for (``--device``) is unknown or not present on this machine."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """One model card. ``folder`` is where the manifest was read from."""

    model_id: str
    version: str
    architecture: str
    operating_threshold: float
    intended_use: str
    folder: Path
    name: str = ""
    weights: str | None = None
    weights_sha256: str | None = None
    input_spacing_mm: tuple[float, float, float] = (1.0, 1.0, 1.0)
    hu_window: tuple[float, float] = (-1000.0, 400.0)
    patch_size: tuple[int, int, int] = (32, 32, 32)
    candidate_generator: dict = field(default_factory=dict)
    network: dict = field(default_factory=dict)
    training_data: Any = None
    evaluation: tuple = ()
    manifest_sha256: str = ""

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def weights_path(self) -> Path | None:
        return None if self.weights is None else self.folder / self.weights

    @property
    def saliency_method(self) -> SaliencyMethod:
        """The card's ``network.saliency_method`` (absent: Grad-CAM); ModelError for another value."""
        try:
            return SaliencyMethod.from_card(self.network.get("saliency_method"))
        except ValueError as exc:
            raise ModelError(f"{self.manifest_path}: network.saliency_method {exc}; fix the manifest") from None

    def model_info(self) -> ModelInfo:
        return ModelInfo(model_id=self.model_id, version=self.version,
                         manifest_sha256=self.manifest_sha256, name=self.name or self.model_id,
                         operating_threshold=self.operating_threshold)

    def verify_weights(self) -> Path:
        """The weights path after checking it exists and matches its sha256 (raises ModelError)."""
        path = self.weights_path
        if path is None:
            raise ModelError(f"{self.manifest_path}: this model has no weights file")
        if not path.is_file():
            raise ModelError(f"{self.manifest_path}: weights file {path.name} is missing; "
                             f"reinstall the model or retrain it (python -m inference.training)")
        digest = sha256_file(path)
        if self.weights_sha256 and digest != self.weights_sha256:
            raise ModelError(f"{path}: sha256 {digest[:12]}… does not match the manifest's "
                             f"{self.weights_sha256[:12]}…; the file is damaged or from another "
                             f"model — reinstall it")
        return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def models_dir() -> Path:
    return Path(os.environ.get("NODULELENS_MODELS_DIR", DEFAULT_MODELS_DIR))


def _tuple(value: Any, n: int, path: Path, key: str, kind=float) -> tuple:
    try:
        out = tuple(kind(v) for v in value)
    except (TypeError, ValueError):
        raise ModelError(f"{path}: '{key}' must be a list of {n} numbers, got {value!r}") from None
    if len(out) != n:
        raise ModelError(f"{path}: '{key}' must have {n} entries, got {len(out)}")
    return out


def parse_manifest(data: dict, folder: Path, sha: str = "") -> Manifest:
    path = folder / "manifest.json"
    if not isinstance(data, dict):
        raise ModelError(f"{path}: a manifest must be a JSON object")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ModelError(f"{path}: missing required key(s) {', '.join(missing)}; "
                         f"see resources/models/classical/manifest.json for a complete example")
    arch = str(data["architecture"])
    if arch not in KNOWN_ARCHITECTURES:
        raise ModelError(f"{path}: unknown architecture {arch!r}; this version builds "
                         f"{', '.join(sorted(KNOWN_ARCHITECTURES))}")
    if arch != "classical-hessian-dot" and not data.get("weights"):
        raise ModelError(f"{path}: architecture {arch} needs a 'weights' file name and 'weights_sha256'")
    try:
        thr = float(data["operating_threshold"])
    except (TypeError, ValueError):
        raise ModelError(f"{path}: operating_threshold must be a number in 0..1") from None
    if not 0.0 <= thr <= 1.0:
        raise ModelError(f"{path}: operating_threshold {thr} is outside 0..1")
    return Manifest(
        model_id=str(data["id"]), version=str(data["version"]), architecture=arch,
        operating_threshold=thr, intended_use=str(data["intended_use"]), folder=folder,
        name=str(data.get("name", "")), weights=data.get("weights"),
        weights_sha256=data.get("weights_sha256"),
        input_spacing_mm=_tuple(data.get("input_spacing_mm", (1, 1, 1)), 3, path, "input_spacing_mm"),
        hu_window=_tuple(data.get("hu_window", (-1000, 400)), 2, path, "hu_window"),
        patch_size=_tuple(data.get("patch_size", (32, 32, 32)), 3, path, "patch_size", int),
        candidate_generator=dict(data.get("candidate_generator", {})),
        network=dict(data.get("network", {})), training_data=data.get("training_data"),
        evaluation=tuple(data.get("evaluation", ())), manifest_sha256=sha,
    )


def load_manifest(id_or_dir: str | Path) -> Manifest:
    """A manifest by model id (a folder under :func:`models_dir`) or by folder / manifest path."""
    p = Path(id_or_dir)
    if p.name == "manifest.json":
        p = p.parent
    if not p.is_dir():
        candidate = models_dir() / str(id_or_dir)
        if not candidate.is_dir():
            known = ", ".join(m.model_id for m in list_models()) or "none"
            raise ModelError(f"no model {str(id_or_dir)!r} (looked in {models_dir()}); "
                             f"installed: {known}")
        p = candidate
    path = p / "manifest.json"
    if not path.is_file():
        raise ModelError(f"{p}: no manifest.json in this model folder")
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc}); fix or reinstall the model") from None
    return parse_manifest(data, p.resolve(), hashlib.sha256(raw).hexdigest())


def list_models() -> list[Manifest]:
    """Every usable model folder, sorted by id (broken folders are skipped)."""
    root = models_dir()
    out = []
    if root.is_dir():
        for sub in sorted(root.iterdir()):
            if (sub / "manifest.json").is_file():
                try:
                    out.append(load_manifest(sub))
                except ModelError:
                    continue
    return out


def default_model_id() -> str:
    """The model ``load_detector(None)`` uses: a ``default`` file in the models folder naming
    an installed id, else the first trained model, else ``classical``."""
    root = models_dir()
    marker = root / "default"
    ids = [m.model_id for m in list_models()]
    if marker.is_file():
        wanted = marker.read_text(encoding="utf-8").strip()
        if wanted in ids:
            return wanted
    trained = [m.model_id for m in list_models() if m.architecture == "candidate-cnn-v1"]
    return trained[0] if trained else CLASSICAL_ID


def card_saliency_method(model: ModelInfo) -> SaliencyMethod:
    """The saliency method of the card that wrote ``model``'s maps, if that very card (same
    manifest sha256) is installed; UNKNOWN otherwise: a card edited since may name another method."""
    try:
        manifest = load_manifest(model.model_id)
        if not model.manifest_sha256 or manifest.manifest_sha256 != model.manifest_sha256:
            return SaliencyMethod.UNKNOWN
        return manifest.saliency_method
    except (ModelError, OSError):
        return SaliencyMethod.UNKNOWN

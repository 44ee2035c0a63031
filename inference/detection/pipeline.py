"""The detector: lung region → classical candidates → (optionally) the candidate CNN → Findings.

``Detector.from_model(None)`` uses the default installed model, or the classical baseline when no
trained model is installed. ``detect`` returns the findings at or above the manifest's operating
threshold, highest score first; ``candidates`` returns every scored candidate (for FROC).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from inference.detection.candidates import generate_candidates
from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.detection.lungs import lung_region
from inference.detection.registry import Manifest, ModelError, default_model_id, load_manifest
from inference.imaging.volume import Volume

Progress = Callable[[float, str], None] | None
IsCancelled = Callable[[], bool] | None
#: classical score = 1 - exp(-response / CLASSICAL_SCALE)
CLASSICAL_SCALE = 0.15


class Cancelled(Exception):
    """The caller's ``cancelled()`` returned True; no findings were produced."""


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device not in ("cpu", "cuda", "mps") and not device.startswith("cuda:"):
        raise ModelError(f"unknown device {device!r}; use auto, cpu, cuda or mps")
    return device


class Detector:
    def __init__(self, manifest: Manifest, device: str = "cpu", net=None) -> None:
        self.manifest = manifest
        self.device = device
        self.net = net
        self.model_info: ModelInfo = manifest.model_info()
        self.threshold: float = manifest.operating_threshold
        gen = manifest.candidate_generator
        self._gen_kwargs = {k: gen[k] for k in ("sigmas_mm", "min_response", "max_candidates", "channels")
                            if k in gen}
        if "sigmas_mm" in self._gen_kwargs:
            self._gen_kwargs["sigmas_mm"] = tuple(self._gen_kwargs["sigmas_mm"])
        if "channels" in self._gen_kwargs:
            self._gen_kwargs["channels"] = tuple(self._gen_kwargs["channels"])

    @classmethod
    def from_model(cls, model: str | Path | None = None, device: str = "auto") -> "Detector":
        manifest = load_manifest(default_model_id() if model is None else model)
        dev = pick_device(device)
        if manifest.architecture == "classical-hessian-dot":
            return cls(manifest, dev)
        if manifest.architecture != "candidate-cnn-v1":
            raise ModelError(f"{manifest.manifest_path}: architecture {manifest.architecture} is not "
                             f"a candidate detector; run it through its own loader")
        import torch

        from inference.detection.network import build

        weights = manifest.verify_weights()
        net = build(manifest.network)
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise ModelError(f"{weights}: weights do not fit architecture candidate-cnn-v1 "
                             f"({str(exc).splitlines()[0]}); retrain or reinstall the model") from None
        net.eval().to(dev)
        return cls(manifest, dev, net)

    # -- scoring -----------------------------------------------------------------------------
    def score_patches(self, patches: np.ndarray, batch: int = 64) -> np.ndarray:
        """Nodule probabilities for (N, 2, s, s, s) patches."""
        import torch

        out = []
        amp = self.device.startswith("cuda")
        with torch.inference_mode():
            for i in range(0, len(patches), batch):
                x = torch.from_numpy(patches[i:i + batch]).to(self.device)
                with torch.autocast("cuda", enabled=amp):
                    out.append(torch.sigmoid(self.net(x).float()).cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def candidates(self, volume: Volume, progress: Progress = None,
                   cancelled: IsCancelled = None) -> list[Finding]:
        """Every scored candidate, highest score first."""
        def report(frac: float, msg: str) -> None:
            if progress is not None:
                progress(frac, msg)

        def check() -> None:
            if cancelled is not None and cancelled():
                raise Cancelled("detection cancelled")

        report(0.0, "lung mask")
        region = lung_region(volume)
        check()
        gen_share = 0.6 if self.net is not None else 0.95
        cands = generate_candidates(volume, region=region, cancelled=cancelled,
                                    progress=lambda f, m: report(0.05 + gen_share * f, m),
                                    **self._gen_kwargs)
        check()
        if not cands:
            report(1.0, "no candidates")
            return []
        centres = np.array([c.center for c in cands])
        if self.net is None:
            scores = np.array([1.0 - math.exp(-c.response / CLASSICAL_SCALE) for c in cands])
        else:
            from inference.detection.patches import extract_patches

            size = int(self.manifest.patch_size[0])
            scores = np.zeros(len(cands))
            step = 64
            for i in range(0, len(cands), step):
                check()
                p = extract_patches(volume, centres[i:i + step], size, self.manifest.hu_window)
                scores[i:i + step] = self.score_patches(p)
                report(0.65 + 0.35 * min(1.0, (i + step) / len(cands)), "scoring candidates")
            w = float(self.manifest.network.get("blob_score_weight", 0.0))
            if w > 0:  # geometric blend with the classical score (chosen on tuning scans)
                blob = np.array([1.0 - math.exp(-c.response / CLASSICAL_SCALE) for c in cands])
                scores = scores ** (1.0 - w) * np.maximum(blob, 1e-6) ** w
        order = np.argsort(-scores, kind="stable")
        findings = []
        for rank, k in enumerate(order):
            c = cands[k]
            d = float(np.clip(c.diameter_mm, 3.0, 40.0))
            findings.append(Finding(
                finding_id=f"F{rank + 1:03d}", center=c.center,
                box=Box3D.around(c.center, d), score=float(np.clip(scores[k], 0.0, 1.0)),
                diameter_mm=round(d, 1),
                extra={"blob_response": round(c.response, 5), "blob_sigma_mm": c.sigma_mm},
            ))
        report(1.0, f"{len(findings)} candidates scored")
        return findings

    def detect(self, volume: Volume, progress: Progress = None,
               cancelled: IsCancelled = None) -> list[Finding]:
        """Findings at or above the operating threshold, highest score first."""
        out = [f for f in self.candidates(volume, progress, cancelled) if f.score >= self.threshold]
        return [f.evolve(finding_id=f"F{i + 1:03d}") for i, f in enumerate(out)]

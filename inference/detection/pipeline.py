"""The candidate detectors: lung region → classical candidates → (optionally) the candidate CNN → Findings.

:class:`ClassicalDetector` (architecture ``classical-hessian-dot``) scores each blob-filter
candidate from its response; :class:`CandidateCnnDetector` (``candidate-cnn-v1``) scores the same
candidates with the CNN and can be explained with Grad-CAM. Both follow
:class:`inference.detection.detector.Detector` and are built by
:func:`inference.detection.detector.load_detector` from a manifest. ``detect`` returns the findings
at or above the manifest's operating threshold, highest score first; ``candidates`` returns every
scored candidate (for FROC).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from inference.detection.candidates import Candidate, generate_candidates
from inference.detection.lungs import lung_region
from inference.detection.registry import Manifest, ModelError
from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.progress import IsCancelled, Progress, check_cancelled
from inference.imaging.volume import Volume

if TYPE_CHECKING:
    from torch import nn

#: classical score = 1 - exp(-response / CLASSICAL_SCALE)
CLASSICAL_SCALE = 0.15


def blob_scores(cands: list[Candidate]) -> np.ndarray:
    """The classical score of each candidate (0..1 from its dot-filter response)."""
    return np.array([1.0 - math.exp(-c.response / CLASSICAL_SCALE) for c in cands])


class ClassicalDetector:
    """The blob-filter baseline: no network, nothing for Grad-CAM to explain."""

    explains = False
    #: share of the progress bar the candidate generator takes
    _GEN_SHARE = 0.95

    def __init__(self, manifest: Manifest, device: str = "cpu") -> None:
        self.manifest = manifest
        self.device = device
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
    def from_manifest(cls, manifest: Manifest, device: str = "cpu") -> "ClassicalDetector":
        return cls(manifest, device)

    # -- scoring -----------------------------------------------------------------------------
    def candidates(self, volume: Volume, progress: Progress | None = None,
                   cancelled: IsCancelled | None = None) -> list[Finding]:
        """Every scored candidate, highest score first."""
        def report(frac: float, msg: str) -> None:
            if progress is not None:
                progress(frac, msg)

        report(0.0, "lung mask")
        region = lung_region(volume)
        check_cancelled(cancelled)
        share = self._GEN_SHARE
        cands = generate_candidates(volume, region=region, cancelled=cancelled,
                                    progress=lambda f, m: report(0.05 + share * f, m),
                                    **self._gen_kwargs)
        check_cancelled(cancelled)
        if not cands:
            report(1.0, "no candidates")
            return []
        scores = self._scores(volume, cands, report, cancelled)
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

    def _scores(self, volume: Volume, cands: list[Candidate], report: Progress,
                cancelled: IsCancelled | None) -> np.ndarray:
        return blob_scores(cands)

    def detect(self, volume: Volume, progress: Progress | None = None,
               cancelled: IsCancelled | None = None) -> list[Finding]:
        """Findings at or above the operating threshold, highest score first."""
        out = [f for f in self.candidates(volume, progress, cancelled) if f.score >= self.threshold]
        return [f.evolve(finding_id=f"F{i + 1:03d}") for i, f in enumerate(out)]


class CandidateCnnDetector(ClassicalDetector):
    """The blob-filter candidates scored by the candidate CNN (optionally blended with the blob
    score, ``network.blob_score_weight``); Grad-CAM explains its findings through ``net``."""

    explains = True
    _GEN_SHARE = 0.6

    def __init__(self, manifest: Manifest, device: str, net: nn.Module) -> None:
        super().__init__(manifest, device)
        self.net = net

    @classmethod
    def from_manifest(cls, manifest: Manifest, device: str = "cpu") -> "CandidateCnnDetector":
        import torch

        from inference.detection.network import build

        weights = manifest.verify_weights()
        net = build(manifest.network)
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise ModelError(f"{weights}: weights do not fit architecture {manifest.architecture} "
                             f"({str(exc).splitlines()[0]}); retrain or reinstall the model") from None
        net.eval().to(device)
        return cls(manifest, device, net)

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

    def _scores(self, volume: Volume, cands: list[Candidate], report: Progress,
                cancelled: IsCancelled | None) -> np.ndarray:
        from inference.detection.patches import extract_patches

        centres = np.array([c.center for c in cands])
        size = int(self.manifest.patch_size[0])
        scores = np.zeros(len(cands))
        step = 64
        for i in range(0, len(cands), step):
            check_cancelled(cancelled)
            p = extract_patches(volume, centres[i:i + step], size, self.manifest.hu_window)
            scores[i:i + step] = self.score_patches(p)
            report(0.65 + 0.35 * min(1.0, (i + step) / len(cands)), "scoring candidates")
        w = float(self.manifest.network.get("blob_score_weight", 0.0))
        if w > 0:  # geometric blend with the classical score (chosen on tuning scans)
            scores = scores ** (1.0 - w) * np.maximum(blob_scores(cands), 1e-6) ** w
        return scores

"""Saliency methods side by side: is the map faithful, and does a reader see it on the nodule?

    PYTHONPATH=$PWD .venv/bin/python benchmarks/saliency_methods.py [--model nodulelens-cnn-v2]

Per method (HiResCAM / Grad-CAM / Grad-CAM++ on features.block2, Grad-CAM on the 1 mm stem, a
blend of stem + block2 + block3 Grad-CAM, and world-space occlusion sensitivity: MONAI's
``OcclusionSensitivity`` (8 mm occluders, overlap 0.25) and the grid engine the card uses
(8 mm occluders 6 mm apart, interpolated trilinearly)):

- visible coverage on the real LIDC findings: the findings at or above the model card's floor
  that hit a LUNA16 reference nodule (LIDC-IDRI-0001) or the excluded ground-glass nodule
  (LIDC-IDRI-0002); per finding the fraction of its segmented nodule's area on the key axial slice
  (largest area) where the map is at or above the heat colour map's visibility threshold;
- faithfulness on a phantom 10 mm solid nodule (the checks of tests/inference/saliency): map mass
  inside 1.5x the box, correlation with the map of a randomly initialised network (low = the map
  depends on what the model learned), shift of the map's centre of mass when the nodule moves 8 mm;
- seconds per finding (shared 2-core CPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
REFS = {"LIDC-IDRI-0001": ((56.21, 86.34, -115.87), 23.35), "LIDC-IDRI-0002": ((59.8, 71.5, -104.1), 23.0)}


def methods() -> dict[str, Callable[..., dict[str, Any]]]:
    """Method name -> explain(detector, volume, findings)."""
    from inference.saliency.gradcam import explain
    from inference.saliency.occlusion import explain_occlusion

    def blend(det: Any, vol: Any, fs: list) -> dict[str, Any]:
        maps = [explain(det, vol, fs, layer=ly, mode="grad-cam")
                for ly in ("features.stem", "features.block2", "features.block3")]
        out = {}
        for f in fs:
            v = np.mean([m[f.finding_id].voxels for m in maps], axis=0)
            out[f.finding_id] = maps[0][f.finding_id].with_voxels((v / max(v.max(), 1e-12)).astype(np.float32))
        return out

    return {
        "hirescam block2": lambda d, v, fs: explain(d, v, fs, layer="features.block2", mode="hires"),
        "grad-cam block2": lambda d, v, fs: explain(d, v, fs, layer="features.block2", mode="grad-cam"),
        "grad-cam++ block2": lambda d, v, fs: explain(d, v, fs, layer="features.block2", mode="grad-cam++"),
        "grad-cam stem": lambda d, v, fs: explain(d, v, fs, layer="features.stem", mode="grad-cam"),
        "blend stem+b2+b3": blend,
        "occlusion MONAI": lambda d, v, fs: explain_occlusion(d, v, fs, engine="monai"),
        "occlusion grid": lambda d, v, fs: explain_occlusion(d, v, fs, engine="grid"),
    }


def on_scan(sal: Any, volume: Any) -> np.ndarray:
    """The crop pasted into a zero array on the scan's grid (same spacing/orientation)."""
    out = np.zeros(volume.shape, np.float32)
    o = np.rint(volume.world_to_index(sal.index_to_world((0.0, 0.0, 0.0)))).astype(int)
    lo = np.maximum(o, 0)
    hi = np.minimum(o + sal.shape, volume.shape)
    out[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = sal.voxels[tuple(slice(a - oo, b - oo)
                                                                        for a, b, oo in zip(lo, hi, o, strict=True))]
    return out


def coverage(sal: Any, volume: Any, full_mask: np.ndarray, threshold: float) -> tuple[float, int]:
    """(fraction of the key slice's nodule pixels with map >= threshold, key slice index)."""
    z = int(np.argmax(full_mask.sum(axis=(1, 2))))
    m = on_scan(sal, volume)[z]
    area = full_mask[z]
    return float((m[area] >= threshold).mean()), z


def lidc_findings(det: Any) -> Iterator[tuple[str, Any, Any, np.ndarray]]:
    from inference.imaging import load
    from inference.nodules import analyze
    from inference.training.operating_table import DEFAULT_FLOOR

    for name, (ref, diam) in REFS.items():
        vol = load(DATA / "lidc" / name)
        for f in det.candidates(vol):
            if f.score < DEFAULT_FLOOR:
                break
            if np.linalg.norm(np.asarray(f.center) - ref) <= diam / 2:
                r = analyze(vol, f.center, f.box)
                yield name, vol, f.evolve(box=r.world_box(vol)), r.full_mask(vol.shape)


def faithfulness(det: Any, explain: Callable[..., dict[str, Any]]) -> tuple[float, float, float]:
    import torch

    from inference.domain.finding import Box3D, Finding
    from inference.detection.network import build
    from inference.detection.pipeline import CandidateCnnDetector
    from inference.phantom import NoduleSpec, make_phantom

    shape, sp, seed = (112, 112, 112), (1.0, 1.0, 1.0), 3
    p = make_phantom(seed, shape_zyx=shape, spacing_zyx=sp, nodules=[NoduleSpec(None, 10.0)])
    c = np.asarray(p.nodules[0].center)
    f = Finding("F001", tuple(c), Box3D.around(tuple(c), 10.0), 0.9)
    m = explain(det, p.volume, [f])["F001"]
    idx = np.indices(m.shape).reshape(3, -1).T.astype(float)
    w = m.index_to_world(idx)
    v = m.voxels.reshape(-1).astype(float)
    box = f.box.scaled(1.5)
    inside = float(v[np.all((w >= box.lo) & (w <= box.hi), axis=1)].sum() / max(v.sum(), 1e-12))
    torch.manual_seed(0)
    rand = explain(CandidateCnnDetector(det.manifest, "cpu", build(det.manifest.network).eval()), p.volume, [f])["F001"]
    r = rand.voxels.ravel()
    corr = float(np.corrcoef(m.voxels.ravel(), r)[0, 1]) if r.std() > 0 else 0.0
    coms = []
    for dx in (-4.0, 4.0):
        moved = make_phantom(seed, shape_zyx=shape, spacing_zyx=sp, nodules=[NoduleSpec(tuple(c + (dx, 0, 0)), 10.0)])
        mm = explain(det, moved.volume, [f])["F001"]
        vv = mm.voxels.reshape(-1).astype(float)
        coms.append((mm.index_to_world(idx) * vv[:, None]).sum(0) / vv.sum())
    return inside, corr, float(coms[1][0] - coms[0][0])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="nodulelens-cnn-v2")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--methods", nargs="*", default=None, help="only these methods (names as printed)")
    a = p.parse_args()
    import warnings

    import torch

    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(a.threads)
    from inference.detection.detector import load_detector
    from viewer.scene.heat import VISIBLE_FROM

    det = load_detector(a.model, "cpu")
    found = list(lidc_findings(det))
    print(f"model {det.model_info.model_id}; visible = map >= {VISIBLE_FROM} (the heat colour map's "
          f"transparent floor); LIDC findings: " + ", ".join(f"{n} {f.finding_id} score {f.score:.3f}"
                                                               for n, _, f, _ in found))
    head = f"{'method':20s} " + " ".join(f"{n[-4:]}:{f.finding_id:>5s}" for n, _, f, _ in found)
    print(f"{head} {'s/finding':>9s} {'in 1.5xbox':>10s} {'rand corr':>9s} {'moved mm':>8s}")
    for name, explain in methods().items():
        if a.methods and name not in a.methods:
            continue
        covs, secs = [], []
        for _, vol, f, mask in found:
            t = time.perf_counter()
            sal = explain(det, vol, [f])[f.finding_id]
            secs.append(time.perf_counter() - t)
            covs.append(coverage(sal, vol, mask, VISIBLE_FROM)[0])
        inside, corr, shift = faithfulness(det, explain)
        print(f"{name:20s} " + " ".join(f"{c:10.2f}" for c in covs)
              + f" {np.mean(secs):9.2f} {inside:10.2f} {corr:9.2f} {shift:8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

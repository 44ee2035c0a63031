"""The seeded training run: data → candidate CNN → weights + manifest + curves (CSV, PNG).

``python -m inference.training --out resources/models/nodulelens-cnn-v2 --seed 0`` builds the
patches (:mod:`inference.training.dataset`) from the LIDC scans in ../shared/data (read there,
never copied), synthetic chests and inference.phantom phantoms of training seeds, holds out
10 % of the patches for validation, trains with flips / axis permutations, and writes ``weights.pt`` (state dict),
``manifest.json``, ``training_log.csv`` and ``training_curves.png``.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inference.detection.network import GRADCAM_LAYER, build
from inference.detection.registry import sha256_file
from inference.detection.candidates import DEFAULT_CHANNELS
from inference.training.dataset import HU_WINDOW, PATCH, PHANTOM_TRAIN_SEEDS, build_dataset
from inference.training.scans import read_scan, reserved_for

NETWORK = {"in_channels": 2, "width": 8}
DEFAULT_SCANS = ("lidc/LIDC-IDRI-0001", "lidc/LIDC-IDRI-0002")


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    for axis in (2, 3, 4):
        if torch.rand(1, generator=g).item() < 0.5:
            x = x.flip(axis)
    perm = torch.randperm(3, generator=g).tolist()
    return x.permute(0, 1, *[p + 2 for p in perm])


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def train(out: Path, seed: int = 0, data_root: Path | None = None, n_synth: int = 30,
          epochs: int = 8, batch: int = 32, lr: float = 2e-3, threads: int = 2,
          cache: Path | None = None, n_phantom: int = 0, log=print) -> dict:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    real = []
    used_scans = []
    if data_root is not None and not (cache is not None and cache.exists()):
        for rel in DEFAULT_SCANS:
            p = data_root / rel
            if p.exists():
                real.append((rel, read_scan(p), tuple(reserved_for(p))))
    used_scans = [r for r in DEFAULT_SCANS if data_root is not None and (data_root / r).exists()]
    if cache is not None and cache.exists():
        z = np.load(cache, allow_pickle=False)
        X, y, tags, names = z["X"], z["y"], list(z["tags"]), list(z["names"])
        log(f"dataset read from {cache}")
    else:
        X, y, tags, names = build_dataset(seed, real, n_synth, n_phantom=n_phantom, log=log)
        if cache is not None:
            np.savez(cache, X=X, y=y, tags=np.asarray(tags), names=np.asarray(names))
    t_data = time.time() - t0
    log(f"dataset: {len(y)} patches, {int(y.sum())} positive, {t_data:.0f} s")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_val = max(1, len(y) // 10)
    val, tr = order[:n_val], order[n_val:]
    net = build(NETWORK)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(tr) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(seed)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    rows = []
    for epoch in range(epochs):
        net.train()
        perm = tr[rng.permutation(len(tr))]
        losses = []
        for i in range(0, len(perm) - batch + 1, batch):
            idx = torch.from_numpy(perm[i:i + batch])
            xb = _augment(Xt[idx].float() / 255.0, g)
            loss = loss_fn(net(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        net.eval()
        with torch.inference_mode():
            vs = torch.cat([net(Xt[torch.from_numpy(val[i:i + 128])].float() / 255.0)
                            for i in range(0, len(val), 128)])
            vloss = float(loss_fn(vs, yt[torch.from_numpy(val)]))
        row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "val_loss": vloss,
               "val_auc": _auc(vs.numpy(), y[val]), "seconds": round(time.time() - t0, 1)}
        rows.append(row)
        log(", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    torch.save(net.state_dict(), out / "weights.pt")
    _write_log(out, rows)
    info = {
        "seed": seed, "patches": int(len(y)), "positives": int(y.sum()),
        "real_backgrounds": used_scans, "synthetic_seeds": [1000, 1000 + n_synth - 1],
        "n_phantom": n_phantom, "patch_seconds": round(t_data, 1),
        "tags": {t: tags.count(t) for t in sorted(set(tags))}, "epochs": epochs,
        "final": rows[-1], "seconds": round(time.time() - t0, 1),
    }
    _write_manifest(out, info, n_synth)
    return info


def _write_log(out: Path, rows: list[dict]) -> None:
    with open(out / "training_log.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    e = [r["epoch"] for r in rows]
    ax[0].plot(e, [r["train_loss"] for r in rows], label="train")
    ax[0].plot(e, [r["val_loss"] for r in rows], label="validation")
    ax[0].set_xlabel("epoch")
    ax[0].set_ylabel("BCE loss")
    ax[0].legend()
    ax[1].plot(e, [r["val_auc"] for r in rows])
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("validation AUC")
    fig.tight_layout()
    fig.savefig(out / "training_curves.png", dpi=80)
    plt.close(fig)


def _write_manifest(out: Path, info: dict, n_synth: int) -> None:
    path = out / "manifest.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    n_ph = info.get("n_phantom", 0)
    phantoms = (f"inference.phantom.make_phantom seeds {PHANTOM_TRAIN_SEEDS.start}-"
                f"{PHANTOM_TRAIN_SEEDS.start + n_ph - 1} (160^3 at 1 mm; seeds = 2 mod 3 at "
                f"128 x 208 x 208, 1.25 x 0.75 x 0.75 mm), 3-6 random nodules each (fewer where "
                f"the lungs have no room); evaluation and tuning use other seeds" if n_ph else None)
    manifest = {
        "id": out.name, "version": old.get("version", "1.0"),
        "name": old.get("name", "NoduleLens candidate CNN v1"),
        "architecture": "candidate-cnn-v1", "weights": "weights.pt",
        "weights_sha256": sha256_file(out / "weights.pt"),
        "network": {**NETWORK, "gradcam_layer": GRADCAM_LAYER,
                    "input": "channel 0: 24^3 at 1 mm; channel 1: 24^3 at 2 mm; HU window to 0..1",
                    **({"blob_score_weight": old["network"]["blob_score_weight"]}
                       if "blob_score_weight" in old.get("network", {}) else {})},
        "input_spacing_mm": [1.0, 1.0, 1.0], "hu_window": list(HU_WINDOW),
        "patch_size": [PATCH] * 3,
        "candidate_generator": {"name": "classical Hessian dot enhancement",
                                "sigmas_mm": [1.0, 1.5, 2.2, 3.3, 5.0, 7.5],
                                "min_response": 0.005, "max_candidates": 600,
                                "channels": list(DEFAULT_CHANNELS)},
        "operating_threshold": old.get("operating_threshold", 0.5),
        "training_data": {
            "command": f"python -m inference.training --out {out} --seed {info['seed']} "
                       f"--synthetic {n_synth} --phantoms {n_ph} --epochs {info['epochs']}",
            "real_lung_backgrounds": [f"../shared/data/{s}" for s in info["real_backgrounds"]],
            "reserved_regions_excluded": "no patch centre within 40 mm (+ nodule radius + 24 mm "
                                         "for inserted nodules) of LIDC-IDRI-0001's LUNA16 nodule "
                                         "(56.21, 86.34, -115.87) or LIDC-IDRI-0002's excluded "
                                         "ground-glass nodule (59.8, 71.5, -104.1)",
            "synthetic_chests": (f"inference.training.synth_chest seeds {info['synthetic_seeds'][0]}"
                                 f"-{info['synthetic_seeds'][1]} (evaluation uses seeds 5000+)"
                                 if n_synth else None),
            **({"phantoms": phantoms} if phantoms else {}),
            "nodules": "synthetic (inference.training.synth_nodules): solid, part-solid, "
                       "ground-glass; free, juxta-pleural, juxta-vascular; 3-30 mm log-uniform"
                       + ("; on phantoms also their own nodules (inference.phantom: solid, "
                          "part-solid, ground-glass; free, juxta-pleural, juxta-vascular; 4-20 mm)"
                          if n_ph else ""),
            "negatives": "classical candidates that are not nodules (hard negatives) + random lung points",
            "patches": info["patches"], "positives": info["positives"], "by_tag": info["tags"],
            "seed": info["seed"], "epochs": info["epochs"], "seconds": info["seconds"],
            "final_epoch": info["final"],
        },
        "intended_use": "research; not for diagnosis",
        "evaluation": old.get("evaluation", []),
    }
    path.write_text(json.dumps(manifest, indent=2) + "\n")

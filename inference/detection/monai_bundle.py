"""The official MONAI ``lung_nodule_ct_detection`` bundle: its network, checks and runtime.

Architecture (the bundle's ``configs/inference.json``): RetinaNet, 3D, one input channel, one
class, 3 anchors per location, ``size_divisible`` (16, 16, 8), on a ResNet-50 backbone
(``conv1_t_stride`` (2, 2, 1), ``conv1_t_size`` (7, 7, 7)) with an FPN on ``returned_layers``
[1, 2] (256 channels, plus a max-pool level). Anchors: ``feature_map_scales`` [1, 2, 4],
``base_anchor_shapes`` [[6, 8, 4], [8, 6, 5], [10, 10, 6]]. Input: RAS orientation resampled to
0.703125 x 0.703125 x 1.25 mm, HU -1024..300 scaled to 0..1 (clipped). Box selector: score_thresh
0.02, topk_candidates_per_level 1000, nms_thresh 0.22, detections_per_img 300; sliding window
512 x 512 x 192, overlap 0.25. All of it is read from ``resources/models/monai-lung-nodule/
manifest.json`` (a model is data); the numbers above are that manifest's defaults.

The bundle's ``models/model.pt`` is ``torch.save(network.state_dict())`` of that RetinaNet.
MONAI's own ``resnet_fpn_feature_extractor`` needs torchvision, which this project cannot install,
so the feature extractor is rebuilt here with MONAI's FPN and the same module names: the bundle's
state dict loads unchanged (``feature_extractor.body.*``, ``feature_extractor.fpn.*``,
``classification_head.*``, ``regression_head.*``).

``python -m inference.detection.monai_bundle verify WEIGHTS [--manifest DIR]`` checks a weights
file against the architecture in a separate process and prints one JSON line (what
``nodulelens models add`` runs, since the GUI/CLI process never imports torch).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from inference.detection.registry import Manifest, ModelError, load_manifest
from inference.domain.finding import Box3D, Finding
from inference.domain.progress import IsCancelled, Progress, check_cancelled
from inference.imaging.volume import Volume

ARCHITECTURE = "monai-retinanet-resnet50-fpn"
REPO_MANIFEST_DIR = Path(__file__).resolve().parents[2] / "resources" / "models" / "monai-lung-nodule"

DEFAULT_NETWORK: dict[str, Any] = {
    "backbone": {"depth": 50, "spatial_dims": 3, "n_input_channels": 1,
                 "conv1_t_stride": [2, 2, 1], "conv1_t_size": [7, 7, 7]},
    "returned_layers": [1, 2],
    "fpn_out_channels": 256,
    "retinanet": {"spatial_dims": 3, "num_classes": 1, "num_anchors": 3, "size_divisible": [16, 16, 8]},
}


class _LayersUpTo(nn.ModuleDict):
    """The backbone's children in order, up to the last returned layer; returns their outputs.

    Same module names as the backbone (``conv1``, ``bn1``, ``act``, ``maxpool``, ``layer1`` …)."""

    def __init__(self, backbone: nn.Module, return_layers: dict[str, str]) -> None:
        wanted = dict(return_layers)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for name, module in backbone.named_children():
            layers[name] = module
            wanted.pop(name, None)
            if not wanted:
                break
        if wanted:
            raise ValueError(f"backbone has no layer(s) {sorted(wanted)}")
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class _ResNetFPN(nn.Module):
    """Backbone body + FPN, module names as in MONAI's ``BackboneWithFPN``."""

    def __init__(self, backbone: nn.Module, returned_layers: list[int], out_channels: int,
                 spatial_dims: int) -> None:
        from monai.networks.blocks.feature_pyramid_network import (FeaturePyramidNetwork,
                                                                   LastLevelMaxPool)

        super().__init__()
        return_layers = {f"layer{k}": str(v) for v, k in enumerate(returned_layers)}
        stage2 = cast(int, backbone.in_planes) // 8  # an int attribute of MONAI's ResNet
        self.body = _LayersUpTo(backbone, return_layers)
        self.fpn = FeaturePyramidNetwork(spatial_dims=spatial_dims,
                                         in_channels_list=[stage2 * 2 ** (i - 1) for i in returned_layers],
                                         out_channels=out_channels,
                                         extra_blocks=LastLevelMaxPool(spatial_dims))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.fpn(self.body(x))


def build_network(network: dict | None = None) -> nn.Module:
    """The bundle's RetinaNet, randomly initialised, from a manifest's ``network`` section."""
    from monai.apps.detection.networks.retinanet_network import RetinaNet
    from monai.networks.nets import resnet

    cfg = {**DEFAULT_NETWORK, **(network or {})}
    bb = dict(cfg["backbone"])
    depth = int(bb.pop("depth", 50))
    factory = {10: resnet.resnet10, 18: resnet.resnet18, 34: resnet.resnet34, 50: resnet.resnet50,
               101: resnet.resnet101}.get(depth)
    if factory is None:
        raise ModelError(f"monai bundle: unsupported ResNet depth {depth}")
    backbone = factory(**bb)
    rn = cfg["retinanet"]
    fe = _ResNetFPN(backbone, list(cfg["returned_layers"]), int(cfg["fpn_out_channels"]),
                    int(rn["spatial_dims"]))
    return RetinaNet(spatial_dims=int(rn["spatial_dims"]), num_classes=int(rn["num_classes"]),
                     num_anchors=int(rn["num_anchors"]), feature_extractor=fe,
                     size_divisible=list(rn["size_divisible"]))


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a bundle weights file (``model.pt``; also ``{"model": state_dict}``)."""
    path = Path(path)
    fix = ("give the bundle's models/model.pt (download the bundle with "
           "`python -m monai.bundle download --name lung_nodule_ct_detection --bundle_dir DIR`)")
    if not path.is_file():
        raise ModelError(f"{path}: file not found; {fix}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a bad file
        hint = " (TorchScript model.ts files are not accepted)" if path.suffix == ".ts" else ""
        raise ModelError(f"{path}: not a PyTorch state dict{hint} ({str(exc).splitlines()[0][:200]}); "
                         f"{fix}") from None
    for key in ("model", "state_dict", "network"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path}: holds no state dict of tensors; {fix}")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def verify_state_dict(path: str | Path, network: dict | None = None) -> dict[str, int]:
    """Check that ``path``'s tensors are exactly the bundle network's (names and shapes).

    Returns {"tensors": n, "parameters": n}; raises :class:`ModelError` naming the file."""
    state = read_state_dict(path)
    with torch.device("meta"):  # names and shapes only: no memory, no random init
        expected = build_network(network).state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} with the wrong shape (e.g. {k}: "
                         f"{tuple(state[k].shape)} instead of {tuple(expected[k].shape)})")
        raise ModelError(f"{path}: does not match the lung_nodule_ct_detection RetinaNet "
                         f"(ResNet-50 FPN): tensors {'; '.join(parts)}. Give that bundle's "
                         f"models/model.pt, not another model's weights")
    return {"tensors": len(state), "parameters": int(sum(v.numel() for v in state.values()))}


class BundleDetector:
    """Runs the bundle's RetinaNet on a Volume (architecture ``monai-retinanet-resnet50-fpn``; a
    :class:`inference.detection.detector.Detector`).

    ``candidates`` resamples the scan to the manifest's RAS grid and spacing, scales the HU window
    to 0..1, runs MONAI's ``RetinaNetDetector`` (whole image when it fits the sliding-window patch,
    else the sliding window) and maps every box its box selector keeps back to world LPS mm,
    highest score first; ``detect`` keeps those at or above the manifest's operating threshold.
    Grad-CAM does not explain this network (``explains`` is False)."""

    explains = False

    def __init__(self, manifest: Manifest, device: str = "cpu", network: nn.Module | None = None) -> None:
        from monai.apps.detection.networks.retinanet_detector import RetinaNetDetector
        from monai.apps.detection.utils.anchor_utils import AnchorGeneratorWithAnchorShape

        self.manifest = manifest
        self.device = device
        self.model_info = manifest.model_info()
        self.threshold = manifest.operating_threshold
        cfg = {**DEFAULT_NETWORK, **manifest.network}
        self.cfg = cfg
        if network is None:
            if manifest.weights_path is None or not manifest.weights_path.is_file():
                raise ModelError(
                    f"{manifest.manifest_path}: the MONAI bundle's weights are not installed. Download "
                    "the bundle (python -m monai.bundle download --name lung_nodule_ct_detection "
                    "--bundle_dir DIR), then run `nodulelens models add "
                    "DIR/lung_nodule_ct_detection/models/model.pt --as monai-lung-nodule`")
            state = read_state_dict(manifest.verify_weights())
            with torch.device("meta"):  # no random init: every tensor comes from the weights file
                network = build_network(cfg)
            try:
                network.load_state_dict(state, assign=True)
            except RuntimeError as exc:
                raise ModelError(f"{manifest.weights_path}: does not fit {ARCHITECTURE} "
                                 f"({str(exc).splitlines()[0]}); reinstall it with "
                                 f"`nodulelens models add`") from None
        self.net = network.eval().to(device)
        anchors = cfg.get("anchor_generator", {"feature_map_scales": [1, 2, 4],
                                               "base_anchor_shapes": [[6, 8, 4], [8, 6, 5], [10, 10, 6]]})
        rn = cfg["retinanet"]
        self.detector = RetinaNetDetector(
            network=self.net, anchor_generator=AnchorGeneratorWithAnchorShape(**anchors),
            spatial_dims=int(rn["spatial_dims"]), num_classes=int(rn["num_classes"]),
            size_divisible=list(rn["size_divisible"]))
        self.detector.set_box_selector_parameters(**cfg.get("box_selector", {
            "score_thresh": 0.02, "topk_candidates_per_level": 1000, "nms_thresh": 0.22,
            "detections_per_img": 300}))
        self.sliding = cfg.get("sliding_window", {"roi_size": [512, 512, 192], "overlap": 0.25})
        self.detector.eval()

    @classmethod
    def from_manifest(cls, manifest: Manifest, device: str = "cpu") -> "BundleDetector":
        return cls(manifest, device)

    def _grid(self, volume: Volume) -> tuple[Any, Any]:
        """(RAS voxels float32 0..1 indexed i=R, j=A, k=S; 4x4 affine of that grid to LPS mm)."""
        import numpy as np
        from scipy import ndimage

        s = np.asarray(self.manifest.input_spacing_mm, float)
        lo, hi = volume.world_bounds()
        d = np.diag([-1.0, -1.0, 1.0])  # R, A, S axes in LPS
        origin = np.array([hi[0], hi[1], lo[2]])
        shape = tuple(int(n) for n in np.floor((hi - lo) / s + 1e-6).astype(int) + 1)
        out_to_world = d @ np.diag(s)
        a = np.asarray(volume.affine)
        world_to_src = np.linalg.inv(a[:3, :3])
        perm = np.eye(3)[::-1]  # (x, y, z) index → array order (z, y, x)
        matrix = perm @ world_to_src @ out_to_world
        offset = perm @ world_to_src @ (origin - a[:3, 3])
        lo_hu, hi_hu = self.manifest.hu_window
        img = ndimage.affine_transform(np.asarray(volume.voxels, np.float32), matrix, offset,
                                       output_shape=shape, order=1, cval=float(lo_hu),
                                       output=np.float32)
        np.clip((img - lo_hu) / (hi_hu - lo_hu), 0.0, 1.0, out=img)
        aff = np.eye(4)
        aff[:3, :3], aff[:3, 3] = out_to_world, origin
        return img, aff

    def candidates(self, volume: Volume, progress: Progress | None = None,
                   cancelled: IsCancelled | None = None) -> list[Finding]:
        import numpy as np

        def report(f: float, msg: str) -> None:
            if progress is not None:
                progress(f, msg)

        report(0.0, "resampling to the bundle's grid")
        img, aff = self._grid(volume)
        check_cancelled(cancelled)
        report(0.3, "RetinaNet")
        x = torch.from_numpy(img)[None].to(self.device)
        roi = [int(v) for v in self.sliding["roi_size"]]
        whole = all(n <= r for n, r in zip(img.shape, roi, strict=True))
        if not whole:
            self.detector.set_sliding_window_inferer(
                roi_size=roi, overlap=float(self.sliding.get("overlap", 0.25)), sw_batch_size=1,
                mode="constant", device="cpu")
        with torch.no_grad(), torch.autocast("cuda", enabled=self.device.startswith("cuda")):
            out = self.detector([x], use_inferer=not whole)[0]
        check_cancelled(cancelled)
        boxes = out[self.detector.target_box_key].float().cpu().numpy()
        scores = out[self.detector.pred_score_key].float().cpu().numpy()
        findings = []
        for rank, k in enumerate(np.argsort(-scores, kind="stable")):
            corners = np.array([boxes[k, :3], boxes[k, 3:]])
            world = corners @ aff[:3, :3].T + aff[:3, 3]
            lo, hi = world.min(axis=0), world.max(axis=0)
            box = Box3D(tuple(lo), tuple(hi))
            findings.append(Finding(f"F{rank + 1:03d}", box.center, box, float(np.clip(scores[k], 0, 1)),
                                    diameter_mm=round(float(np.mean(hi - lo)), 1)))
        report(1.0, f"{len(findings)} finding(s)")
        return findings

    def detect(self, volume: Volume, progress: Progress | None = None,
               cancelled: IsCancelled | None = None) -> list[Finding]:
        return [f for f in self.candidates(volume, progress, cancelled) if f.score >= self.threshold]


def bundle_manifest(manifest_dir: str | Path | None = None) -> Manifest:
    m = load_manifest(Path(manifest_dir or REPO_MANIFEST_DIR))
    if m.architecture != ARCHITECTURE:
        raise ModelError(f"{m.manifest_path}: architecture {m.architecture}, expected {ARCHITECTURE}")
    return m


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference.detection.monai_bundle")
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check a weights file against the bundle's architecture")
    v.add_argument("weights")
    v.add_argument("--manifest", default=None, help="model folder (default: the repository's)")
    args = parser.parse_args(argv)
    try:
        manifest = bundle_manifest(args.manifest)
        result = verify_state_dict(args.weights, manifest.network)
    except ModelError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))
        return 2
    print(json.dumps({"ok": True, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(_main())

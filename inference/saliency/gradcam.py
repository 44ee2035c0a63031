"""Grad-CAM per finding, batched on local crops, mapped back to the scan's grid.

For each finding the candidate CNN sees the same two-scale patch it scored, centred on the
finding. Target: that finding's logit. Layer: the manifest's ``network.gradcam_layer``, by default
``features.block2`` of :class:`inference.detection.network.CandidateNet` (a 2 mm grid on the fine
1 mm patch; see that module for why not the 4 mm block3). Mode (``network.gradcam_mode``):
``grad-cam`` (default) weights each channel by the spatial mean of its gradients; ``hires``
(HiResCAM) multiplies gradients and activations voxel by voxel. Map = ReLU of the sum over
channels, trilinearly upsampled to the fine patch and divided by its maximum. One forward
and one backward pass per batch of findings (findings are independent: BatchNorm is in eval
mode), never a full-scan backward per finding.

Result: ``{finding_id: Volume}`` — a float32 0..1 crop on the scan's own grid (the scan's voxel
spacing and orientation) covering the fine patch around the finding.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from scipy import ndimage

from inference.detection.detector import Detector, ExplainableDetector
from inference.domain.finding import Finding
from inference.domain.progress import IsCancelled, Progress, check_cancelled
from inference.detection.patches import FINE_MM, extract_patches
from inference.imaging.volume import Volume

BATCH = 16


#: how gradients and activations combine: ``grad-cam`` weights each channel by its mean gradient;
#: ``hires`` (HiResCAM) multiplies gradient and activation voxel by voxel before summing over
#: channels, which keeps the map where the evidence is when the gradients vary inside the patch;
#: ``grad-cam++`` weights each channel by its positive gradients with the per-voxel coefficients of
#: Chattopadhay et al. (2018), for an exponential of the logit (closed form from first-order gradients)
MODES = ("grad-cam", "hires", "grad-cam++")


def _cams(net, patches: np.ndarray, device: str, layer_name: str,
          mode: str = "grad-cam") -> np.ndarray:
    """(N, s, s, s) Grad-CAM maps on the fine patch grid, each scaled to 0..1."""
    import torch
    import torch.nn.functional as F

    layer = net.feature_layer(layer_name)
    store: dict = {}

    def fwd_hook(_m, _i, out):
        out.retain_grad()
        store["act"] = out

    handle = layer.register_forward_hook(fwd_hook)
    try:
        x = torch.from_numpy(patches).to(device)
        with torch.enable_grad():
            logits = net(x)
            net.zero_grad(set_to_none=True)
            logits.sum().backward()
        act = store["act"].detach()
        grad = store["act"].grad.detach()
    finally:
        handle.remove()
    if mode == "grad-cam":
        w = grad.mean(dim=(2, 3, 4), keepdim=True)
    elif mode == "grad-cam++":
        g2, g3 = grad ** 2, grad ** 3
        denom = 2 * g2 + act.sum(dim=(2, 3, 4), keepdim=True) * g3
        alpha = g2 / torch.where(denom != 0, denom, torch.ones_like(denom))
        w = (alpha * torch.relu(grad)).sum(dim=(2, 3, 4), keepdim=True)
    else:
        w = grad
    coarse = torch.relu((w * act).sum(dim=1, keepdim=True))
    fine = F.interpolate(coarse, size=patches.shape[2:], mode="trilinear", align_corners=False)[:, 0]
    cam = fine.float().cpu().numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1)
    return np.where(peak[:, None, None, None] > 0, cam / np.maximum(peak, 1e-12)[:, None, None, None], 0.0)


def _to_scan_grid(volume: Volume, centre: np.ndarray, cam: np.ndarray) -> Volume:
    size = cam.shape[0]
    half = (size - 1) / 2 * FINE_MM
    corners = np.array([[centre[0] + a, centre[1] + b, centre[2] + c]
                        for a in (-half, half) for b in (-half, half) for c in (-half, half)])
    idx = volume.world_to_index(corners)
    lo = np.maximum(np.floor(idx.min(0)), 0).astype(int)
    hi = np.minimum(np.ceil(idx.max(0)) + 1, volume.shape).astype(int)
    hi = np.maximum(hi, lo + 1)
    zz, yy, xx = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)], indexing="ij")
    world = volume.index_to_world(np.stack([zz, yy, xx], -1).reshape(-1, 3).astype(float))
    # fine patch index (z, y, x) of each scan voxel: offsets (x, y, z) mm / spacing + centre index
    off = (world - centre) / FINE_MM + (size - 1) / 2
    vals = ndimage.map_coordinates(cam, off[:, ::-1].T, order=1, mode="constant", cval=0.0)
    crop = np.clip(vals, 0, 1).astype(np.float32).reshape(zz.shape)
    aff = np.array(volume.affine, float)
    aff[:3, 3] = volume.index_to_world(lo.astype(float))
    return Volume(crop, aff, volume.info)


def explain(detector: Detector, volume: Volume, findings: list[Finding],
            progress: Progress | None = None,
            cancelled: IsCancelled | None = None,
            layer: str | None = None, mode: str | None = None) -> dict[str, Volume]:
    """Grad-CAM saliency per finding, for a detector that ``explains`` (the candidate CNN);
    ``{}`` for one that does not (the classical baseline, the MONAI RetinaNet). ``layer`` / ``mode``
    override the manifest's (benchmarks compare them)."""
    if not detector.explains or not findings:
        return {}
    net = cast(ExplainableDetector, detector).net
    from inference.detection.network import GRADCAM_LAYER

    size = int(detector.manifest.patch_size[0])
    layer_name = layer or str(detector.manifest.network.get("gradcam_layer", GRADCAM_LAYER))
    mode = mode or str(detector.manifest.network.get("gradcam_mode", "grad-cam"))
    if mode not in MODES:
        from inference.detection.registry import ModelError

        raise ModelError(f"{detector.manifest.manifest_path}: network.gradcam_mode {mode!r} is not "
                         f"one of {list(MODES)}; fix the manifest")
    out: dict[str, Volume] = {}
    for i in range(0, len(findings), BATCH):
        check_cancelled(cancelled, "saliency")
        chunk = findings[i:i + BATCH]
        centres = np.array([f.center for f in chunk])
        patches = extract_patches(volume, centres, size, detector.manifest.hu_window)
        cams = _cams(net, patches, detector.device, layer_name, mode)
        for f, c, cam in zip(chunk, centres, cams, strict=True):
            out[f.finding_id] = _to_scan_grid(volume, c, cam)
        if progress is not None:
            progress(min(1.0, (i + len(chunk)) / len(findings)), "saliency")
    return out

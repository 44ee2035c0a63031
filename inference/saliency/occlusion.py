"""Occlusion sensitivity per finding in world space: hide a small cube of the scan, see how much
the finding's score drops.

The candidate CNN sees two cubes around a finding: 24^3 at 1 mm (fine) and 24^3 at 2 mm (coarse,
48 mm across). Occluding "the same voxel index" in both channels would hide two different places,
so the network is wrapped: its input becomes ONE cube of 48^3 at 1 mm around the finding, from
which the wrapper takes the fine channel (the central 24^3) and the coarse channel (2x2x2 means,
i.e. the values midway between 1 mm samples, where the coarse grid's points lie). Cubes of that
single world-space image are hidden (replaced by aerated lung, ``FILL_HU``) and the finding's logit
recorded for each; the map is the drop in logit, ReLU'd, so it covers every place whose removal
lowers the score: the nodule and the surroundings the model used. The drop is measured on the logit
(the probability saturates near 1 for a clear nodule, hiding every change).

Two engines: ``grid`` (the default; 8 mm occluders every 6 mm, drops interpolated trilinearly
between occluder centres) and ``monai`` (MONAI's ``OcclusionSensitivity``, 8 mm occluders with
overlap 0.25, slower). ``benchmarks/saliency_methods.py`` prints both beside Grad-CAM variants.

Result per finding: a float32 0..1 crop Volume on the scan's grid (divided by its maximum), like
:func:`inference.saliency.gradcam.explain`.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
from scipy import ndimage

from inference.domain.finding import Finding
from inference.detection.patches import FINE_MM, grid_offsets, sample_world, window
from inference.imaging.volume import Volume
from inference.saliency.gradcam import _to_scan_grid

#: what an occluded cube is filled with: aerated lung (HU), so hiding lung changes almost nothing
FILL_HU = -850.0
#: occluder edge (mm); overlap between neighbouring occluders (MONAI's ``overlap``); the grid
#: engine's step between occluders and its batch of occluded copies per forward pass
MASK_MM = 8
OVERLAP = 0.25
STRIDE_MM = 6
GRID_BATCH = 72


def _wrapped(net: Any) -> Any:  # a torch module in, a torch module out (torch is imported lazily)
    import torch
    from torch import nn
    import torch.nn.functional as F

    class WorldCube(nn.Module):
        """(B, 1, 2s, 2s, 2s) at 1 mm -> the candidate CNN's (B, 2, s, s, s) two-scale input."""

        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            s = x.shape[-1] // 2
            q = s // 2
            fine = x[:, :, q:q + s, q:q + s, q:q + s]
            coarse = F.avg_pool3d(x, 2)
            return self.inner(torch.cat([fine, coarse], 1))[:, None]

    return WorldCube(net).eval()


def world_cube(volume: Volume, centre: np.ndarray, size: int, hu_window: tuple[float, float]) -> np.ndarray:
    """(2*size)^3 windowed 1 mm cube around ``centre`` (z, y, x order)."""
    hu = sample_world(volume, grid_offsets(2 * size, FINE_MM) + centre)
    return window(hu, hu_window).reshape((2 * size,) * 3)


def occlusion_maps(net: Any, cubes: np.ndarray, device: str, hu_window: tuple[float, float],
                   mask_mm: int = MASK_MM, overlap: float = OVERLAP) -> np.ndarray:
    """(N, 2s, 2s, 2s) drop in logit when each place is hidden, scaled to 0..1 per map."""
    import torch
    from monai.visualize import OcclusionSensitivity

    model = _wrapped(net).to(device)
    fill = float(window(np.array([FILL_HU]), hu_window)[0])
    occ = OcclusionSensitivity(model, mask_size=mask_mm, n_batch=128, verbose=False, mode=fill,
                               overlap=overlap, activate=False)
    out = []
    with torch.no_grad():
        for cube in cubes:
            x = torch.from_numpy(np.ascontiguousarray(cube[None, None])).to(device)
            base = model(x).item()
            with warnings.catch_warnings():  # MONAI 1.6 indexes with lists; torch warns on each call
                warnings.filterwarnings("ignore", message="Using a non-tuple sequence", category=UserWarning)
                occ_map, _ = occ(x)
            drop = np.maximum(base - occ_map[0, 0].float().cpu().numpy(), 0.0)
            peak = drop.max()
            out.append(drop / peak if peak > 0 else drop)
    return np.stack(out) if out else np.zeros((0,) * 4, np.float32)


def grid_occlusion_maps(net: Any, cubes: np.ndarray, device: str, hu_window: tuple[float, float],
                        mask_mm: int = MASK_MM, stride_mm: int = STRIDE_MM,
                        step: Callable[[float], None] | None = None) -> np.ndarray:
    """Occlusion on a regular grid of occluder positions (``stride_mm`` apart, the last one flush
    with the far edge), the drop at each position placed at the occluder's centre and interpolated
    trilinearly to every voxel: the same measurement as MONAI's with no overlap (one forward pass
    per position, 512 for the defaults), without MONAI's blocky cubes. (N, 2s, 2s, 2s), 0..1 each.
    ``step(fraction)`` is called after each batch of forward passes (progress; a cancel check may
    raise there, so a cancel lands within one batch, not one finding)."""
    import torch

    model = _wrapped(net).to(device)
    fill = float(window(np.array([FILL_HU]), hu_window)[0])
    n = cubes.shape[-1]
    starts = np.arange(0, n - mask_mm + 1, stride_mm)
    if starts[-1] != n - mask_mm:
        starts = np.append(starts, n - mask_mm)
    positions = [(a, b, c) for a in starts for b in starts for c in starts]
    # fractional grid index of every voxel centre (clamped at the ends: the first/last occluder's value)
    coord = np.interp(np.arange(n), starts + (mask_mm - 1) / 2, np.arange(len(starts)))
    grid = np.stack(np.meshgrid(coord, coord, coord, indexing="ij"))
    out = []
    with torch.no_grad():
        for cube in cubes:
            x = torch.from_numpy(np.ascontiguousarray(cube[None, None], np.float32)).to(device)
            base = float(model(x).item())
            drops = []
            for i in range(0, len(positions), GRID_BATCH):
                chunk = positions[i:i + GRID_BATCH]
                xb = x.repeat(len(chunk), 1, 1, 1, 1)
                for k, (a, b, c) in enumerate(chunk):
                    xb[k, 0, a:a + mask_mm, b:b + mask_mm, c:c + mask_mm] = fill
                drops.append(base - model(xb)[:, 0].float().cpu().numpy())
                if step is not None:
                    step(min(1.0, (i + len(chunk)) / len(positions)))
            g = np.maximum(np.concatenate(drops), 0.0).reshape((len(starts),) * 3)
            m = ndimage.map_coordinates(g, grid, order=1, mode="nearest")
            peak = m.max()
            out.append((m / peak if peak > 0 else m).astype(np.float32))
    return np.stack(out) if out else np.zeros((0,) * 4, np.float32)


def explain_occlusion(detector: Any, volume: Volume, findings: list[Finding],
                      progress: Callable[[float, str], None] | None = None,
                      cancelled: Callable[[], bool] | None = None, engine: str = "grid") -> dict[str, Volume]:
    """Occlusion sensitivity per finding on the 48 mm cube the network sees; ``{}`` without a network."""
    net = getattr(detector, "net", None)
    if net is None or not findings:
        return {}
    from inference.domain.progress import Cancelled

    size = int(detector.manifest.patch_size[0])
    hu = detector.manifest.hu_window
    out: dict[str, Volume] = {}
    def step_for(i: int) -> Callable[[float], None]:
        def step(fraction: float) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled("saliency cancelled")
            if progress is not None:
                progress((i + fraction) / len(findings), f"saliency {i + 1}/{len(findings)}")
        return step

    for i, f in enumerate(findings):
        step_for(i)(0.0)
        c = np.asarray(f.center, float)
        cube = world_cube(volume, c, size, hu)[None]
        if engine == "grid":
            m = grid_occlusion_maps(net, cube, detector.device, hu, step=step_for(i))[0]
        else:
            m = occlusion_maps(net, cube, detector.device, hu)[0]
        out[f.finding_id] = _to_scan_grid(volume, c, m.astype(np.float32))
    if progress is not None:
        progress(1.0, "saliency")
    return out

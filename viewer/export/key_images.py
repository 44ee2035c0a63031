"""Key images of the reported nodules: the key axial slice in a lung window with the nodule's box,
its long and short axes and (for AI findings) the saliency map on top, its method (occlusion
sensitivity, Grad-CAM, or unknown for a map from before methods were recorded) in the caption.

Drawn with matplotlib's Agg canvas (no GUI toolkit), as RGB uint8 arrays: the PDF report places
them, and the Secondary Capture key images carry them for viewers without SR or SEG support.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from inference.domain.saliency import SaliencyMethod
from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap
from viewer.export.plan import PlannedNodule

LUNG_WINDOW = (-600.0, 1500.0)  # centre, width (HU)


@dataclass(frozen=True, slots=True, eq=False)
class KeyImage:
    nodule: PlannedNodule
    rgb: np.ndarray  # (rows, cols, 3) uint8
    pixel_spacing_mm: float  # square pixels of the rendered image
    caption: str
    #: the method of the saliency map drawn on it; None: no map drawn
    saliency_method: SaliencyMethod | None = None


def render(volume: Volume, nodule: PlannedNodule, saliency: Mapping[str, SaliencyMap],
           field_mm: float | None = 90.0, size_px: int = 512) -> KeyImage:
    """The nodule's key slice, ``field_mm`` wide around it (None: the whole slice)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    z = nodule.key.z
    ct = volume.voxels[z].astype(np.float32)
    dy, dx = (float(v) for v in volume.spacing_zyx[1:])
    centre = np.asarray(volume.world_to_index(nodule.state.finding.center), float)
    if field_mm is None:
        y0, y1, x0, x1 = 0, ct.shape[0], 0, ct.shape[1]
    else:
        hy, hx = int(field_mm / 2 / dy), int(field_mm / 2 / dx)
        cy = int(np.clip(round(centre[1]), hy, max(hy, ct.shape[0] - hy)))
        cx = int(np.clip(round(centre[2]), hx, max(hx, ct.shape[1] - hx)))
        y0, y1, x0, x1 = max(cy - hy, 0), min(cy + hy, ct.shape[0]), max(cx - hx, 0), min(cx + hx, ct.shape[1])
    c, w = LUNG_WINDOW
    grey = np.clip((ct[y0:y1, x0:x1] - (c - w / 2)) / w, 0, 1)
    fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    extent = (x0 - 0.5, x1 - 0.5, y1 - 0.5, y0 - 0.5)
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1, extent=extent, interpolation="bilinear")
    saliency_map = saliency.get(nodule.finding_id)
    heat = _saliency_slice(volume, None if saliency_map is None else saliency_map.volume, z)
    method = None if heat is None or saliency_map is None else saliency_map.method
    if heat is not None:
        part = np.ma.masked_less(heat[y0:y1, x0:x1], 0.3)
        ax.imshow(part, cmap="inferno", alpha=0.35, vmin=0, vmax=1, extent=extent, interpolation="bilinear")
    colour = tuple(v / 255 for v in nodule.colour_rgb)
    box = nodule.state.finding.box
    lo = np.asarray(volume.world_to_index(box.lo), float)
    hi = np.asarray(volume.world_to_index(box.hi), float)
    (ylo, yhi), (xlo, xhi) = sorted((lo[1], hi[1])), sorted((lo[2], hi[2]))
    ax.add_patch(Rectangle((xlo, ylo), xhi - xlo, yhi - ylo, fill=False, edgecolor=colour, linewidth=1.6))
    for ends, style in ((nodule.key.long_axis, "-"), (nodule.key.short_axis, "--")):
        pts = np.asarray([volume.world_to_index(p) for p in ends], float)
        ax.plot(pts[:, 2], pts[:, 1], style, color="#00e5ff", linewidth=1.3)
    ax.text(x0 + 2, y0 + 2, f"Nodule {nodule.number}", color=colour, fontsize=13, va="top",
            fontweight="bold")
    ax.set_xlim(x0 - 0.5, x1 - 0.5)
    ax.set_ylim(y1 - 0.5, y0 - 0.5)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    spacing = (x1 - x0) * dx / rgb.shape[1]
    caption = f"Nodule {nodule.number} ({nodule.finding_id}), slice {z + 1} of {volume.shape[0]}"
    if method is not None:
        caption += f", AI saliency: {method.label}"
    return KeyImage(nodule, rgb, float(spacing), caption, method)


def _saliency_slice(volume: Volume, crop: Volume | None, z: int) -> np.ndarray | None:
    if crop is None:
        return None
    from viewer.export.grid import crop_offset

    z0, y0, x0 = crop_offset(crop, volume, "saliency")
    k = z - z0
    if not 0 <= k < crop.shape[0]:
        return None
    out = np.zeros(volume.shape[1:], np.float32)
    out[y0:y0 + crop.shape[1], x0:x0 + crop.shape[2]] = np.clip(crop.voxels[k], 0, 1)
    return out


def png_bytes(image: KeyImage) -> bytes:
    """The image as PNG (for the PDF)."""
    import io

    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, image.rgb, format="png")
    return buf.getvalue()

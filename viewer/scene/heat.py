"""The saliency heat colour map: perceptual (matplotlib's inferno, no rainbow), shared by the slice
views, the 3D view and the colour bar, with its meaning in words.

The colour table itself is plain numpy (``heat_rgba``); the VTK objects are built from it here,
in the scene layer. Values are a finding's map divided by its maximum over the finding's region (0..1). Below
``VISIBLE_FROM`` a pixel stays transparent (the map's noise floor); above, the colour runs from
inferno's violet to its pale yellow and the alpha ramps up to full by ``OPAQUE_FROM``. The black
end of inferno is skipped: on a dark lung a black "heat" pixel would look like no heat at all.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from vtkmodules.vtkCommonCore import vtkLookupTable
from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

from inference.domain.saliency import SaliencyMethod, methods_label
from inference.imaging.volume import Volume

VISIBLE_FROM = 0.1
OPAQUE_FROM = 0.45
#: the part of inferno used (its first 15 % is near black)
INFERNO_FROM = 0.15
N_COLORS = 256


def heat_rgba(n: int = N_COLORS) -> np.ndarray:
    """(n, 4) float RGBA over values 0..1."""
    from matplotlib import colormaps

    t = np.linspace(0.0, 1.0, n)
    rgba = np.asarray(colormaps["inferno"](INFERNO_FROM + (1.0 - INFERNO_FROM) * t), float)
    ramp = np.clip((t - VISIBLE_FROM) / (OPAQUE_FROM - VISIBLE_FROM), 0.0, 1.0)
    rgba[:, 3] = np.where(t < VISIBLE_FROM, 0.0, 0.45 + 0.55 * ramp)
    return rgba

#: what the colours mean, for the colour bar and the legend
EVIDENCE = "evidence the model used (per finding, 0 = none, 1 = most)"
MEANING = f"Saliency: {EVIDENCE}"
BAR_TITLE = "evidence"
#: where the colour bar and its title sit, normalised viewport (x0, y0, x1, y1), origin bottom left
BAR_REGION = (0.85, 0.0, 1.0, 0.56)


def legend(methods: Iterable[SaliencyMethod] = ()) -> str:
    """The legend for the maps on screen, naming their method(s) (:data:`MEANING` for none)."""
    names = methods_label(methods)
    return f"Saliency ({names}): {EVIDENCE}" if names else MEANING


def heat_lut(n: int = N_COLORS) -> vtkLookupTable:
    """The colour map as a vtkLookupTable over 0..1 (with the transparent floor)."""

    lut = vtkLookupTable()
    lut.SetNumberOfTableValues(n)
    lut.SetRange(0.0, 1.0)
    for i, (r, g, b, a) in enumerate(heat_rgba(n)):
        lut.SetTableValue(i, float(r), float(g), float(b), float(a))
    lut.Build()
    return lut


def color_bar() -> vtkScalarBarActor:
    """A vertical colour bar, bottom right, labelled with what the colours mean."""

    lut = vtkLookupTable()  # opaque copy: the bar shows the colours, not the transparency
    lut.SetNumberOfTableValues(N_COLORS)
    lut.SetRange(0.0, 1.0)
    for i, (r, g, b, _a) in enumerate(heat_rgba(N_COLORS)):
        lut.SetTableValue(i, float(r), float(g), float(b), 1.0)
    lut.Build()
    bar = vtkScalarBarActor()
    bar.SetLookupTable(lut)
    bar.SetTitle(BAR_TITLE)
    bar.SetNumberOfLabels(3)
    bar.SetLabelFormat("%.1f")
    bar.SetOrientationToVertical()
    bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    bar.SetPosition(0.88, 0.06)
    bar.SetWidth(0.1)
    bar.SetHeight(0.4)
    bar.SetBarRatio(0.35)
    for tp in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
        tp.SetColor(0.9, 0.9, 0.9)
        tp.ShadowOff()
        tp.ItalicOff()
        tp.BoldOff()
        tp.SetFontSize(11)
    bar.UnconstrainedFontSizeOn()
    bar.PickableOff()
    bar.VisibilityOff()
    return bar


def merge_maps(maps: list[Volume]) -> Volume | None:
    """Several findings' crops on one scan grid pasted into one crop (maximum where they overlap),
    for "show all findings' maps". Crops on another grid (rotation/spacing) are left out."""
    maps = [m for m in maps if m is not None]
    if not maps:
        return None
    ref = maps[0]
    a = np.asarray(ref.affine, float)
    same = [m for m in maps if np.allclose(np.asarray(m.affine)[:3, :3], a[:3, :3], atol=1e-6)]
    origins = [np.rint(np.linalg.solve(a[:3, :3], np.asarray(m.affine)[:3, 3] - a[:3, 3]))[::-1].astype(int)
               for m in same]  # (z, y, x) voxel offset of each crop in the reference crop's frame
    lo = np.min(origins, axis=0)
    hi = np.max([o + np.asarray(m.shape) for o, m in zip(origins, same, strict=True)], axis=0)
    out = np.zeros(tuple(hi - lo), np.float32)
    for o, m in zip(origins, same, strict=True):
        sl = tuple(slice(int(s), int(s + n)) for s, n in zip(o - lo, m.shape, strict=True))
        out[sl] = np.maximum(out[sl], m.voxels.astype(np.float32))
    aff = a.copy()
    aff[:3, 3] = a[:3, :3] @ lo[::-1].astype(float) + a[:3, 3]
    return Volume(out, aff, ref.info)

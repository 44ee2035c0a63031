"""The work behind `nodulelens snapshot`: load, overlay, render each view offscreen, compose."""

from __future__ import annotations

from pathlib import Path

from inference.imaging.volume import Volume


def _load(path: str, series_uid: str | None):
    """(volume, phantom nodules or ())"""
    if path == "demo":
        from inference.phantom import demo_phantom

        ph = demo_phantom()
        return ph.volume, tuple(ph.nodules)
    from inference.imaging import load

    return load(path, series_uid=series_uid), ()


def _checked_out(out: str | Path, layout: str) -> Path:
    """The PNG path, checked before anything is loaded; typed errors name the fix."""
    from viewer.scene.capture import LAYOUTS
    from viewer.errors import OutputNotWritable, UnknownLayout

    out = Path(out)
    if not out.parent.is_dir():
        raise OutputNotWritable(out, f"the folder {out.parent} does not exist", "Create it or choose another --out")
    if out.suffix.lower() != ".png":
        raise OutputNotWritable(out, "a snapshot is a PNG image", "Give --out a name ending in .png")
    if layout not in LAYOUTS:
        raise UnknownLayout(layout, "no such layout", f"Choose one of {', '.join(LAYOUTS)}")
    return out


def render_snapshot(path: str, out: str | Path, findings_path: str | Path | None = None, layout: str = "2x2",
                    series_uid: str | None = None, size: int = 512, at: tuple[float, float, float] | None = None,
                    slab_mm: float | None = None, demo_truth: bool = False,
                    volume: Volume | None = None) -> Path:
    """Write the PNG and return its path. ``volume`` skips loading (``path`` is then a label)."""
    from viewer.scene.capture import LAYOUTS, compose, grab, offscreen_window, write_png
    from viewer.scene.overlays2d import BoxOverlay
    from viewer.scene.scene import Scene
    from viewer.scene.scheduler import ImmediateRenderer

    out = _checked_out(out, layout)
    nodules: tuple = ()
    if volume is None:
        volume, nodules = _load(path, series_uid)
    names = [n for row in LAYOUTS[layout] for n in row]
    windows = {n: offscreen_window(size, size) for n in names}
    scene = Scene(windows, ImmediateRenderer())
    scene.set_volume(volume, with_3d="3d" in names)
    if scene.view3d is not None:
        scene.view3d.set_interactive(False)  # a key image: full quality
    findings, saliency = [], {}
    if findings_path is not None:
        from inference.service.findings_file import load_saliency, read_findings

        scan = read_findings(findings_path)
        findings = sorted(scan.findings, key=lambda f: -f.score)
        saliency = scan.saliency
    elif demo_truth and nodules:
        from viewer.demo_truth import gaussian_saliency, truth_findings

        findings = truth_findings(nodules)
        scene.set_saliency(gaussian_saliency(volume, nodules))
    if findings:
        scene.set_boxes(BoxOverlay(f.finding_id, f.box.lo, f.box.hi) for f in findings)
        top = findings[0]
        if top.finding_id in saliency:
            scene.set_saliency(load_saliency(saliency[top.finding_id]))
        scene.select(top.finding_id)
    if slab_mm:
        scene.set_slab(slab_mm)
    if at is not None:
        scene.set_cursor(at)
    images = {n: grab(w) for n, w in windows.items()}
    for w in windows.values():
        w.Finalize()
    return write_png(compose(layout, images), out)

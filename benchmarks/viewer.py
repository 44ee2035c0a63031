"""Viewer benchmark on the 512x512x300 demo phantom, under Xvfb (Mesa llvmpipe) or a real display.

    .venv/bin/python benchmarks/viewer.py            # starts Xvfb itself when DISPLAY is unset

The phantom is built in a child process and handed over as a .npy file, so the GUI process's
peak RSS is that of the viewer with the scan open (as after `nodulelens open`), not the
generator's. Prints each figure next to its target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _make_phantom(out_dir: str) -> None:
    """Child process: build the demo phantom, write voxels, affine and nodule truth."""
    import numpy as np

    from inference.phantom import demo_phantom

    ph = demo_phantom()
    np.save(Path(out_dir) / "voxels.npy", ph.volume.voxels)
    np.save(Path(out_dir) / "affine.npy", ph.volume.affine)
    nodules = [{"center": list(n.center), "diameter_mm": n.diameter_mm} for n in ph.nodules]
    (Path(out_dir) / "nodules.json").write_text(json.dumps(nodules))


def _die_with_parent() -> None:
    """Xvfb (the child) ends when this process does, after its X clients (Qt, VTK) are gone."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start_xvfb() -> subprocess.Popen | None:
    """An Xvfb of our own when there is no display (it dies with this process)."""
    if os.environ.get("DISPLAY") or shutil.which("Xvfb") is None:
        return None
    for n in range(150, 200):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if os.name == "posix" else None)
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                os.environ["DISPLAY"] = f":{n}"
                return proc
            time.sleep(0.05)
        proc.kill()
    return None


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="slice steps to time (default 200)")
    parser.add_argument("--size", default="1600x1000", help="main window size (default 1600x1000)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="nodulelens-bench-")
    t = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--make-phantom", tmp], check=True)
    build_s = time.perf_counter() - t
    _start_xvfb()
    try:
        return _run(tmp, args, build_s)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _first_frames(app, win, volume) -> tuple[float, float]:
    """Seconds from the loader's `loaded` signal to the first axial frame, then to the first 3D frame."""
    axial_rw = win.view_widget("axial").GetRenderWindow()
    rw3d = win.view_widget("3d").GetRenderWindow()
    events: dict[str, float] = {}

    def mark(name, rw):
        def cb(*_):
            events.setdefault(name, time.perf_counter())
        return rw.AddObserver("EndEvent", cb)

    obs_a = mark("axial", axial_rw)
    obs_3 = mark("3d", rw3d)
    t_loaded = time.perf_counter()
    win._loaded(volume)  # what the loader thread's `loaded` signal calls
    while "axial" not in events or "3d" not in events:
        app.processEvents()
        if time.perf_counter() - t_loaded > 60:
            break
    first_axial = events.get("axial", float("nan")) - t_loaded
    t3d_start = events.get("axial", t_loaded)
    first_3d = events.get("3d", float("nan")) - t3d_start
    axial_rw.RemoveObserver(obs_a)
    rw3d.RemoveObserver(obs_3)
    return first_axial, first_3d


def _scroll(app, win, steps: int) -> dict:
    """Scroll the axial view `steps` wheel steps (turning every 50) with the overlays on."""
    scene = win.scene
    sched = win.scheduler
    sched.flush_all()
    times = []
    direction = 1
    renders0 = sched.render_count
    t_all = time.perf_counter()
    cpu0 = time.process_time()
    for i in range(steps):
        # one wheel step, then the event loop runs until the scrolled view is on screen (the
        # linked views' lazy renders happen inside this loop whenever their timer is due)
        t = time.perf_counter()
        scene.scroll("axial", direction)
        while sched._pending:
            app.processEvents()
        times.append(time.perf_counter() - t)
        if i % 50 == 49:
            direction = -direction
    total_s = time.perf_counter() - t_all
    cpu_ms = 1000 * (time.process_time() - cpu0) / steps
    sched.flush_all()
    axial_boxes = scene.views["axial"].boxes
    return {
        "times": times,
        "total_s": total_s,
        "cpu_ms": cpu_ms,
        "renders": sched.render_count - renders0,
        "boxes_drawn": axial_boxes.normal.actor.GetVisibility() or axial_boxes.selected.actor.GetVisibility(),
        "fps": 1.0 / _median(times),
    }


def _rotate(scene, rw3d) -> tuple[float, float]:
    """3D rotation at interactive quality (frames/s), then one full-quality still frame (s)."""
    v3 = scene.view3d
    v3.set_interactive(True)
    rot = []
    for _ in range(40):
        t = time.perf_counter()
        v3.rotate(5.0)
        rw3d.Render()
        rot.append(time.perf_counter() - t)
    v3.set_interactive(False)
    t = time.perf_counter()
    rw3d.Render()
    still_s = time.perf_counter() - t
    return 1.0 / _median(rot), still_s


def _run(tmp: str, args, build_s: float) -> int:
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from inference.imaging.volume import SeriesInfo, Volume
    from viewer.app import make_app
    from viewer.main_window import MainWindow
    from viewer.demo_truth import gaussian_saliency, truth_findings

    class Nodule:  # the truth as the demo overlays read it
        def __init__(self, d):
            self.center, self.diameter_mm = tuple(d["center"]), d["diameter_mm"]

    app = make_app()
    win = MainWindow()
    w, h = (int(v) for v in args.size.split("x"))
    win.resize(w, h)
    win.show()
    for _ in range(20):
        app.processEvents()
    volume = Volume(np.load(Path(tmp) / "voxels.npy"), np.load(Path(tmp) / "affine.npy"),
                    SeriesInfo(source="phantom:demo", series_description="demo phantom"))
    nodules = [Nodule(d) for d in json.loads((Path(tmp) / "nodules.json").read_text())]
    axial_rw = win.view_widget("axial").GetRenderWindow()
    rw3d = win.view_widget("3d").GetRenderWindow()
    first_axial, first_3d = _first_frames(app, win, volume)

    # overlays: boxes and saliency of the phantom's nodules, the second one selected
    win.set_findings(truth_findings(nodules))
    win.set_saliency(gaussian_saliency(volume, nodules))
    win.select_finding(win.findings[1].finding_id)
    for _ in range(10):
        app.processEvents()
    scroll = _scroll(app, win, args.steps)
    times = scroll["times"]
    scroll_fps = scroll["fps"]

    # 3D rotation at interactive quality
    rot_fps, still_s = _rotate(win.scene, rw3d)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux
    renderer = axial_rw.ReportCapabilities().splitlines()
    gl = next((ln.split(":", 1)[1].strip() for ln in renderer if "OpenGL renderer string" in ln), "?")
    mapper = type(win.scene.view3d.mapper).__name__
    win.close()
    QApplication.processEvents()

    print(f"viewer benchmark: demo phantom {volume.shape[2]}x{volume.shape[1]}x{volume.shape[0]}, "
          f"window {args.size}, OpenGL: {gl}; {os.cpu_count()} CPUs, load average {load:.1f}; "
          f"phantom built in {build_s:.1f} s (child process)")
    print(f"{'figure':48s} {'measured':>12s} {'target':>10s}  ok")
    rows = [
        (f"slice scrolling, boxes+saliency, median of {args.steps} (frames/s)", scroll_fps, ">= 60", scroll_fps >= 60),
        ("load finished -> first axial slice (s)", first_axial, "<= 1", first_axial <= 1),
        ("3D first frame (interactive quality) (s)", first_3d, "<= 2", first_3d <= 2),
        ("3D rotation, interactive quality (frames/s)", rot_fps, ">= 10", rot_fps >= 10),
        ("3D full-quality frame when still (s)", still_s, "-", True),
        ("GUI process peak RSS (GB)", rss_gb, "<= 1.5", rss_gb <= 1.5),
    ]
    for name, value, target, ok in rows:
        print(f"{name:48s} {value:12.3f} {target:>10s}  {'yes' if ok else 'NO'}")
    print(f"(scrolling: mean {args.steps / scroll['total_s']:.1f} frames/s over all {args.steps} steps, p90 step "
          f"{1000 * sorted(times)[int(0.9 * len(times))]:.1f} ms, {scroll['renders']} renders of the three slice "
          f"views, {scroll['cpu_ms']:.1f} ms of this process's CPU per step (Xvfb's not counted); boxes drawn on "
          f"axial: {bool(scroll['boxes_drawn'])}; 3D mapper {mapper})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--make-phantom":
        _make_phantom(sys.argv[2])
        sys.exit(0)
    sys.exit(main())

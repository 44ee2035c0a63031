"""Load benchmark: ``inference.imaging.load`` against SimpleITK's ImageSeriesReader on the same files.

    .venv/bin/python benchmarks/load.py [--runs 5] [--workdir DIR]

Series: ../shared/data/lidc/LIDC-IDRI-0002 (261 slices, 512x512) and a synthetic 512x512x300 series,
written by ``nodulelens demo --out DIR`` where that command exists, otherwise generated here from
LIDC-IDRI-0002's headers and pixels (new UIDs, 1 mm steps). SimpleITK runs with 2 global threads and
int16 output; its time includes GetGDCMSeriesFileNames (ours includes finding the series too).
Runs alternate between the two readers; files are in the page cache after the first (warm) run.

Memory: each reader runs once in a fresh child process; the figure is the growth of the process's
peak resident set (VmHWM) during the load, over the volume's bytes. For ours, tracemalloc's peak
(numpy and Python allocations) is printed as well. Goal: time ratio <= 1.0, peak <= 2x the volume.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LIDC2 = REPO.parent / "shared" / "data" / "lidc" / "LIDC-IDRI-0002"


def _vm(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def read_ours(folder: Path):
    from inference.imaging import load

    return load(folder).voxels


def read_sitk(folder: Path):
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    reader.SetOutputPixelType(sitk.sitkInt16)
    return reader.Execute()


def series_folder(root: Path) -> Path:
    """The folder that directly holds the .dcm files (SimpleITK does not search recursively)."""
    return next(root.rglob("*.dcm")).parent


def child(which: str, folder: Path) -> None:
    import tracemalloc

    import numpy as np  # noqa: F401 (imported first so imports are not part of the load's memory)
    import SimpleITK  # noqa: F401 (imported first so imports are not part of the load's memory)

    import inference.imaging  # noqa: F401 (imported first so imports are not part of the load's memory)

    base = _vm("VmRSS")
    traced = 0
    if which == "ours":
        tracemalloc.start()
        out = read_ours(folder)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        nbytes = out.nbytes
    else:
        img = read_sitk(folder)
        nbytes = img.GetNumberOfPixels() * 2
    print(json.dumps({"rss_growth": _vm("VmHWM") - base, "traced_peak": traced, "nbytes": nbytes}))


def memory(which: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", which, str(folder)], check=True,
                         capture_output=True, text=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic(workdir: Path, n: int = 300) -> Path:
    out = workdir / "synthetic_512x512x300"
    if out.exists() and len(list(out.rglob("*.dcm"))) >= n:
        return out
    if importlib.util.find_spec("viewer.cli.commands.demo") is not None:
        subprocess.run([sys.executable, "-m", "viewer.cli", "demo", "--out", str(out)], check=True, cwd=REPO)
        return out
    import pydicom
    from pydicom.uid import generate_uid

    out.mkdir(parents=True, exist_ok=True)
    src = sorted(series_folder(LIDC2).glob("*.dcm"))
    series_uid = generate_uid()
    z0 = -300.0
    for k in range(n):
        ds = pydicom.dcmread(src[k % len(src)])
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.ImagePositionPatient = [-175.5, -174.5, z0 + k * 1.0]
        ds.SliceLocation = z0 + k * 1.0
        ds.InstanceNumber = k + 1
        ds.SliceThickness = 1.0
        ds.save_as(out / f"{k:04d}.dcm")
    return out


def bench(name: str, folder: Path, runs: int) -> None:
    folder = series_folder(folder)
    read_ours(folder), read_sitk(folder)  # warm the page cache and imports
    t_ours, t_sitk = [], []
    for _ in range(runs):
        for fn, acc in ((read_ours, t_ours), (read_sitk, t_sitk)):
            t = time.perf_counter()
            fn(folder)
            acc.append(time.perf_counter() - t)
    mo, ms = statistics.median(t_ours), statistics.median(t_sitk)
    m_ours, m_sitk = memory("ours", folder), memory("sitk", folder)
    mb = 1 / 2**20
    vol = m_ours["nbytes"]
    print(f"\n{name}  ({vol * mb:.0f} MiB of int16 voxels, {runs} runs, medians)")
    print(f"  {'':26}{'ours':>10}{'SimpleITK':>12}{'ratio':>9}   goal")
    print(f"  {'time (s)':26}{mo:10.3f}{ms:12.3f}{mo / ms:9.2f}   <= 1.00")
    print(f"  {'peak RSS growth (MiB)':26}{m_ours['rss_growth'] * mb:10.0f}{m_sitk['rss_growth'] * mb:12.0f}")
    print(f"  {'peak RSS growth / volume':26}{m_ours['rss_growth'] / vol:10.2f}{m_sitk['rss_growth'] / vol:12.2f}"
          f"{'':9}   <= 2.00 (ours)")
    print(f"  {'tracemalloc peak / volume':26}{m_ours['traced_peak'] / vol:10.2f}{'-':>12}")
    print(f"  all runs ours: {', '.join(f'{t:.3f}' for t in t_ours)}")
    print(f"  all runs SimpleITK: {', '.join(f'{t:.3f}' for t in t_sitk)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None, help="where the synthetic series is written")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if not LIDC2.exists():
        sys.exit(f"{LIDC2} not found: the benchmark needs ../shared/data")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        bench("LIDC-IDRI-0002 (261 x 512 x 512)", LIDC2, args.runs)
        bench("synthetic 300 x 512 x 512", synthetic(work), args.runs)


if __name__ == "__main__":
    main()

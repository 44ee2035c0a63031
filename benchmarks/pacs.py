"""PACS benchmark: our listener's receive throughput against dcmtk's storescp, and the time to pull
LIDC-IDRI-0002 from a real Orthanc by C-GET and by WADO-RS.

    .venv/bin/python benchmarks/pacs.py [--runs 3] [--workdir DIR]

Receive: a 300-slice 512x512 CT series (LIDC-IDRI-0001's pixels and headers repeated with new UIDs
and positions, 1 mm steps) sent by dcmtk's ``storescu`` over loopback, once to ``storescp -od DIR``
and once to ``nodulelens listen --no-screen`` (every file fsync'd and renamed before the success
status; storescp does not fsync). Both dcmtk tools run with ``TCP_NODELAY=1`` (their default keeps
Nagle's algorithm on: ~40 ms per instance, whoever receives). The figure is the wall time of
``storescu``, runs alternating, median shown; goal: our throughput >= 0.8x storescp's.

Pull: Orthanc (temporary configuration and storage, loopback ports, DICOMweb plugin, HTTP basic auth) holds
LIDC-IDRI-0002 (262 instances); ``viewer.pacs.retrieve.pull`` fetches it into a fresh archive each
run (priors off), registered in a fresh store; the figure is the wall time of ``pull``. Orthanc runs
with ``TCP_NODELAY=1`` too (its DCMTK otherwise delays every C-GET sub-operation by ~40 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "viewer" / "pacs"))  # the Orthanc runner of the tests
SHARED = REPO.parent / "shared" / "data" / "lidc"
N_SLICES = 300


def make_series(out: Path) -> list[Path]:
    import pydicom
    from pydicom.uid import generate_uid

    src = sorted((SHARED / "LIDC-IDRI-0001").rglob("*.dcm"))
    heads = sorted((pydicom.dcmread(f) for f in src), key=lambda d: float(d.ImagePositionPatient[2]))
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(N_SLICES):
        ds = heads[i % len(heads)]
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PatientID = "BENCH-300"
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [ds.ImagePositionPatient[0], ds.ImagePositionPatient[1], -i * 1.0]
        ds.SliceThickness = 1.0
        path = out / f"{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


#: dcmtk leaves Nagle's algorithm on unless this is set; with it on, every C-STORE waits for the
#: peer's delayed ACK (~40 ms per instance), which would measure the TCP stack, not the receivers
DCMTK_ENV = dict(os.environ, TCP_NODELAY="1")


def storescu(port: int, called: str, files: list[Path]) -> float:
    t0 = time.perf_counter()
    subprocess.run(["storescu", "-aet", "BENCH", "-aec", called, "127.0.0.1", str(port), *map(str, files)],
                   check=True, capture_output=True, timeout=600, env=DCMTK_ENV)
    return time.perf_counter() - t0


def _wait_port(port: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise RuntimeError("the receiver exited at start")
        if subprocess.run(["echoscu", "-aet", "BENCH", "-aec", "ANY", "127.0.0.1", str(port)],
                          capture_output=True, timeout=30).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def receive_dcmtk(files: list[Path], work: Path) -> float:
    from pacs_orthanc import free_port

    port, out = free_port(), work / f"storescp-{time.monotonic_ns()}"
    out.mkdir()
    proc = subprocess.Popen(["storescp", "-aet", "ANY", "-od", str(out), str(port)], env=DCMTK_ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        return storescu(port, "ANY", files)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def receive_ours(files: list[Path], work: Path) -> float:
    from pacs_orthanc import free_port

    port, root = free_port(), work / f"listener-{time.monotonic_ns()}"
    root.mkdir()
    settings = root / "settings.json"
    settings.write_text(json.dumps({"pacs/local": {"ae_title": "ANY", "port": port, "archive": str(root / "a"),
                                                   "allowed_callers": ["BENCH"], "min_free_mb": 100}}))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "listen", "--settings", str(settings), "--db",
                             str(root / "s.db"), "--no-screen"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        seconds = storescu(port, "ANY", files)
        assert len(list((root / "a").rglob("*.dcm"))) == len(files)
        return seconds
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def durability_floor(files: list[Path], work: Path, n: int = 100) -> float:
    """Seconds per instance of what the listener must do before each success status, alone:
    write a temporary file, fsync it, rename it, fsync the folder (no DICOM, no network)."""
    data = files[0].read_bytes()
    folder = work / "floor"
    folder.mkdir()
    t0 = time.perf_counter()
    for i in range(n):
        tmp, final = folder / f".{i}.partial", folder / f"{i}.dcm"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fd = os.open(folder, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return (time.perf_counter() - t0) / n


def pull_times(runs: int, work: Path) -> dict[str, list[float]]:
    from dataclasses import replace

    from pacs_orthanc import PASSWORD, USER, Orthanc, free_port

    from viewer.pacs.nodes import Auth, LocalAE, Node, PacsConfig
    from viewer.pacs.retrieve import pull
    from viewer.review.store import Store

    files = sorted((SHARED / "LIDC-IDRI-0002").rglob("*.dcm"))
    import pydicom
    study = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    pacs = Orthanc(work / "orthanc", {"nodulelens": ("NODULELENS", free_port())})
    pacs.start()
    out: dict[str, list[float]] = {"C-GET": [], "WADO-RS": []}
    try:
        pacs.upload(files)
        node = Node("orthanc", ae_title=pacs.ae_title, port=pacs.dicom_port, web_url=pacs.web_url,
                    auth=Auth.BASIC, username=USER, secret=PASSWORD)
        base = PacsConfig(LocalAE(ae_title="NODULELENS", min_free_mb=100), (node,))
        for i in range(runs):
            for how, web in (("C-GET", False), ("WADO-RS", True)):
                root = work / f"pull-{how}-{i}"
                cfg = replace(base, local=replace(base.local, archive=str(root / "archive")))
                with Store(root / "s.db") as store:
                    t0 = time.perf_counter()
                    result = pull(cfg, node, study, store, priors_years=0, prefer_web=web)
                    out[how].append(time.perf_counter() - t0)
                assert result.current.n_instances == len(files), result
    finally:
        pacs.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--no-pull", action="store_true", help="only the receive benchmark")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        files = make_series(work / "series")
        mb = sum(f.stat().st_size for f in files) / 2**20
        print(f"series: {len(files)} slices, {mb:.0f} MiB")
        times: dict[str, list[float]] = {"storescp": [], "nodulelens listen": []}
        for _ in range(args.runs):
            times["storescp"].append(receive_dcmtk(files, work))
            times["nodulelens listen"].append(receive_ours(files, work))
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, v in times.items():
            print(f"receive, {k:<18}: median {med[k]:.2f} s = {len(files) / med[k]:6.1f} inst/s, "
                  f"{mb / med[k]:6.1f} MiB/s  (runs: {', '.join(f'{x:.2f}' for x in v)})")
        ratio = med["storescp"] / med["nodulelens listen"]
        print(f"receive throughput, ours / storescp: {ratio:.2f}x (goal >= 0.80x)")
        floor = durability_floor(files, work)
        print(f"durability alone (write + fsync + rename + folder fsync, {files[0].stat().st_size // 1024} KiB): "
              f"{floor * 1000:.1f} ms/instance = at most {1 / floor:.0f} inst/s on this disk; storescp does not fsync")
        pulls = {} if args.no_pull else pull_times(args.runs, work)
        for how, v in pulls.items():
            print(f"pull LIDC-IDRI-0002 by {how:<8}: median {statistics.median(v):.2f} s "
                  f"(runs: {', '.join(f'{x:.2f}' for x in v)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

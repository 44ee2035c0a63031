"""Time and size of each export format for a reviewed LIDC-IDRI-0001 study (one accepted AI nodule,
one reviewer-added nodule, a rejected AI finding), as the export tests build it.

Prints, per format: wall time of ``export_study`` (after the scan is loaded) and the bytes written,
and the size a whole-series float Parametric Map would have without the Deflated transfer syntax.

Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/export.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    scan = Path(args.data) / "lidc" / "LIDC-IDRI-0001"
    if not scan.is_dir():
        print(f"no LIDC-IDRI-0001 under {args.data}: nothing to measure", file=sys.stderr)
        return 1
    # benchmarks/viewer.py would shadow the viewer package: import from the repository root
    sys.path[:] = [str(ROOT), str(ROOT / "tests" / "viewer" / "export")] + [
        p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    from export_helpers import (ADDED_CENTER, NODULE_CENTER, NODULE_DIAMETER, gaussian_saliency, make_study,
                                read_dicom_volume, sphere_mask)

    from inference.domain.saliency import SaliencyMethod
    from inference.service.findings_file import SaliencyMap
    from viewer.export.exporter import ExportInputs, export_study

    volume = read_dicom_volume(scan)
    study = make_study(volume)
    masks = {"f1": sphere_mask(volume, NODULE_CENTER, NODULE_DIAMETER), "r1": sphere_mask(volume, ADDED_CENTER, 6.5)}
    saliency = {"f1": SaliencyMap(gaussian_saliency(volume, NODULE_CENTER, 6.0), SaliencyMethod.OCCLUSION)}
    inputs = ExportInputs(study, volume, masks, saliency)
    print(f"LIDC-IDRI-0001: {volume.shape[0]} slices of {volume.shape[1]}x{volume.shape[2]}")
    print(f"{'format':<18}{'seconds':>9}{'files':>7}{'bytes':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, kwargs in (("sr", {}), ("seg", {}), ("pmap", {}), ("pdf", {}), ("sc", {}), ("json", {}),
                            ("sr", {"deidentify": True}), ("sr", {"deidentify": True, "with_ct": True})):
            name = fmt + "".join(f"+{k}" for k in kwargs)
            out = Path(tmp) / name / ("export.json" if fmt == "json" else "")
            start = time.perf_counter()
            result = export_study(inputs, fmt, out, **kwargs)
            seconds = time.perf_counter() - start
            size = sum(p.stat().st_size for p in result.files)
            print(f"{name:<18}{seconds:>9.2f}{len(result.files):>7}{size:>12,}")
    raw = volume.shape[0] * volume.shape[1] * volume.shape[2] * 4
    print(f"a whole-series float32 Parametric Map uncompressed would hold {raw:,} bytes of pixel data")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

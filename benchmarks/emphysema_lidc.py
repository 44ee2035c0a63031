"""Print %LAA-950 (emphysema index) of the real LIDC scans in ../shared/data.

Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/emphysema_lidc.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from inference.imaging import load
from inference.imaging.emphysema import laa_percent

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lidc"


def main() -> int:
    for name in ("LIDC-IDRI-0001", "LIDC-IDRI-0002"):
        path = DATA / name
        if not path.exists():
            print(f"{name}: not found at {path}")
            continue
        vol = load(path)
        t = time.perf_counter()
        m = laa_percent(vol)
        info = vol.info
        print(f"{name}: %LAA-950 = {m.percent:.2f} % of {m.lung_volume_ml:.0f} ml lung "
              f"({m.low_voxels} of {m.lung_voxels} voxels) -> emphysema "
              f"{'present' if m.present else 'absent'} (cut-off {m.present_from_percent:g} %); "
              f"kernel {info.convolution_kernel or '?'}, {info.kvp or '?'} kVp; "
              f"header age {info.patient_age_years}, sex {info.patient_sex or '?'}; "
              f"{time.perf_counter() - t:.1f} s incl. lung mask")
    return 0


if __name__ == "__main__":
    sys.exit(main())

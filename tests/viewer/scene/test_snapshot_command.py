"""`nodulelens snapshot` end to end on a real LIDC scan, with a findings file."""

from __future__ import annotations

import numpy as np
import pytest
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkPNGReader

from inference.domain.finding import Box3D, Finding, ModelInfo
from viewer.cli import main

pytestmark = pytest.mark.gui
LUNA_NODULE = (56.21, 86.34, -115.87)  # LIDC-IDRI-0001, diameter 23.35 mm (../shared/data/README.md)


def read_png(path):
    r = vtkPNGReader()
    r.SetFileName(str(path))
    r.Update()
    img = r.GetOutput()
    w, h, _ = img.GetDimensions()
    return vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)[::-1, :, :3]


def test_snapshot_of_lidc_with_a_finding(lidc1, tmp_path):
    from inference.service.findings_file import ScanFindings, write_findings

    finding = Finding("f1", LUNA_NODULE, Box3D.around(LUNA_NODULE, 28.0), 0.93, diameter_mm=23.35)
    findings = write_findings(ScanFindings((finding,), ModelInfo("test", "1", "0" * 64), 0.5), tmp_path / "f.json")
    out = tmp_path / "shot.png"
    assert main(["snapshot", str(lidc1), "--out", str(out), "--findings", str(findings), "--size", "256"]) == 0
    img = read_png(out)
    assert img.shape == (2 * 256 + 2, 2 * 256 + 2, 3)
    r, g, b = (img[..., i].astype(int) for i in range(3))
    box = (r > 230) & (g > 190) & (g < 240) & (b < 40)
    tiles = {"axial": box[:256, :256], "coronal": box[:256, 258:], "sagittal": box[258:, :256]}
    for name, tile in tiles.items():
        rows, cols = np.nonzero(tile)
        assert rows.size > 50, name
        # the views are centred on the selected finding: the box is around the crosshair
        centre = np.array([(cols.min() + cols.max()) / 2, (rows.min() + rows.max()) / 2])
        cyan = (b[:256, :256] > r[:256, :256] + 60) if name == "axial" else None
        if cyan is not None:
            cross = np.array([np.argmax(cyan.sum(axis=0)), np.argmax(cyan.sum(axis=1))])
            assert np.all(np.abs(centre - cross) <= 2)
    # the nodule is on the patient's left, posterior: screen right, lower half on axial
    rows, cols = np.nonzero(tiles["axial"])
    assert cols.mean() > 128 and rows.mean() > 128


def test_snapshot_errors_are_one_line_with_status_2(tmp_path, capsys):
    assert main(["snapshot", str(tmp_path / "missing"), "--out", str(tmp_path / "x.png")]) == 2
    assert "missing" in capsys.readouterr().err
    assert main(["snapshot", "demo", "--out", str(tmp_path / "no" / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "--out" in err
    assert main(["snapshot", "demo", "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in capsys.readouterr().err

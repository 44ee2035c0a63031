"""A folder with two series: the chooser lists both, preselects the likely axial CT, opens it."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.gui


def _dicom_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".xml"))


def test_two_series_open_the_chooser_then_the_chosen_one(window, qtbot, tmp_path, lidc1, lidc2):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, f in enumerate(_dicom_files(lidc1)):
        os.symlink(f, mixed / f"a{i:04d}.dcm")
    for i, f in enumerate(_dicom_files(lidc2)[:8]):
        os.symlink(f, mixed / f"b{i:04d}.dcm")
    window.open_path(mixed)
    qtbot.waitUntil(lambda: window.series_dialog is not None and window.series_dialog.isVisible(), timeout=60000)
    dialog = window.series_dialog
    assert dialog.table.rowCount() == 2
    chosen = dialog.chosen()
    assert chosen.slice_count >= 100  # the full LIDC-IDRI-0001 series, not the 8-slice one
    assert dialog.table.item(dialog.table.selectionModel().selectedRows()[0].row(), 1).text() == str(chosen.slice_count)
    with qtbot.waitSignal(window.volume_loaded, timeout=120000):
        dialog.accept()
    assert window.volume.info.series_instance_uid == chosen.uid
    assert window.volume.shape[0] == chosen.slice_count

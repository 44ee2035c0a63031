"""Where a review store keeps its saliency maps: beside the store file, owned by that store.

``<store file>.saliency/<series UID>/F001.npz`` — two stores in one folder keep separate maps (a
shared ``<folder>/saliency/`` let one store's screening overwrite the other's files). The folder is
private like the store (0700): the maps are crops of the patient's scan. Used by the GUI's
detection, ``nodulelens screen``, the PACS listener and the Ray driver.
"""

from __future__ import annotations

import os
from pathlib import Path

SUFFIX = ".saliency"
FOLDER_MODE = 0o700


def saliency_root(store_path: str | Path, create: bool = True) -> Path:
    """``<store file>.saliency`` (created 0700 unless ``create`` is False)."""
    store = Path(store_path).expanduser().absolute()
    root = store.with_name(store.name + SUFFIX)
    if create:
        _private_dir(root)
    return root


def series_saliency_dir(store_path: str | Path, series_uid: str) -> Path:
    """The folder of one series' maps (created 0700). The UID is a folder name: anything but
    letters, digits, '.', '-' and '_' becomes '_' so that no header value can point elsewhere."""
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in series_uid).strip(".") or "_"
    folder = saliency_root(store_path) / safe
    _private_dir(folder)
    return folder


def _private_dir(path: Path) -> None:
    if not path.is_dir():
        path.mkdir(parents=True, mode=FOLDER_MODE, exist_ok=True)
    if path.stat().st_mode & 0o777 != FOLDER_MODE:
        os.chmod(path, FOLDER_MODE)

"""Loads every shown finding's saliency map from the store's files into the window, so the scene
can draw the selected finding's map (or all of them) in every view, and names their method
(recorded in each file; see :func:`inference.service.findings_file.load_saliency_map`) in the
display dock's legend. Thin: reading and caching only; what is drawn is
:meth:`viewer.scene.scene.Scene.set_saliency_maps`' business."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap


class SaliencyLoader:
    """Reads each finding's ``.npz`` once (cache by path) when the window's findings change."""

    def __init__(self, window: Any, store: Any) -> None:
        self.window = window
        self.store = store
        self.cache: dict[str, SaliencyMap] = {}
        self.problems: list[str] = []
        window.findings_shown.connect(self.reload)

    def reload(self) -> None:
        from inference.service.findings_file import load_saliency_map
        from viewer.scene.heat import legend

        volume = self.window.volume
        if volume is None or self.store is None:
            return
        shown = {f.finding_id for f in self.window.findings}
        maps: dict[str, SaliencyMap] = {}
        for stored in self.store.stored_findings(volume.info.series_instance_uid):
            fid, path = stored.finding.finding_id, stored.saliency_path
            if fid not in shown or not path:
                continue
            if path not in self.cache:
                if not Path(path).is_file():
                    continue
                try:
                    self.cache[path] = load_saliency_map(path, stored.model)
                except Exception as exc:  # a damaged map must not stop the review
                    self.problems.append(f"saliency map {path} could not be read: {exc}")
                    continue
            maps[fid] = self.cache[path]
        volumes: dict[str, Volume] = {fid: m.volume for fid, m in maps.items()}
        self.window.set_saliency_maps(volumes)
        self.window.controls.show_saliency_legend(legend(m.method for m in maps.values()))


def install_saliency_loader(window: Any, review: Any) -> SaliencyLoader | None:
    """For the app: maps from the review's store (None when the app runs without a store). The
    window keeps the loader: Qt holds a bound method's object only weakly, so a loader nobody
    kept would be collected and no map (nor its method) would ever be shown."""
    store = getattr(review, "store", None)
    if store is None:
        return None
    window.saliency_loader = SaliencyLoader(window, store)
    return window.saliency_loader

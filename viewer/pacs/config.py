"""The PACS section of the app's settings (``pacs/local`` and ``pacs/nodes`` keys).

It goes through the same backends as :mod:`viewer.review.settings` (QSettings in the GUI, the
owner-only JSON file for the CLI), so both see the same nodes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import platformdirs

from viewer.pacs.errors import NodeConfigError
from viewer.pacs.nodes import LocalAE, Node, PacsConfig
from viewer.review.settings import APP_NAME, Backend, JsonBackend

LOCAL_KEY = "pacs/local"
NODES_KEY = "pacs/nodes"


def default_archive() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "archive"


def _decode(value: Any) -> Any:
    if isinstance(value, str):  # QSettings may hand back the JSON text
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class PacsSettings:
    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend if backend is not None else JsonBackend()

    def load(self) -> PacsConfig:
        raw_local = _decode(self.backend.value(LOCAL_KEY)) or {}
        raw_nodes = _decode(self.backend.value(NODES_KEY)) or []
        try:
            local = LocalAE.from_json(raw_local) if isinstance(raw_local, dict) else LocalAE()
            nodes = tuple(Node.from_json(n) for n in raw_nodes if isinstance(n, dict))
        except (TypeError, ValueError) as exc:
            raise NodeConfigError(getattr(self.backend, "path", "settings"),
                                  f"has an unreadable PACS section ({exc})",
                                  "Fix or remove the 'pacs/...' entries of the settings file") from exc
        if not local.archive:
            local = replace(local, archive=str(default_archive()))
        return PacsConfig(local, nodes)

    def save_local(self, local: LocalAE) -> None:
        self.backend.setValue(LOCAL_KEY, local.to_json())

    def add_node(self, node: Node, *, replace_existing: bool = False) -> None:
        cfg = self.load()
        if any(n.name == node.name for n in cfg.nodes) and not replace_existing:
            raise NodeConfigError(node.name, "is already configured",
                                  "Remove it first, or use --replace")
        nodes = [n for n in cfg.nodes if n.name != node.name] + [node]
        self.backend.setValue(NODES_KEY, [n.to_json() for n in nodes])

    def remove_node(self, name: str) -> None:
        cfg = self.load()
        cfg.node(name)  # raises UnknownNode
        self.backend.setValue(NODES_KEY, [n.to_json() for n in cfg.nodes if n.name != name])

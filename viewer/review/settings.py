"""Reviewer settings without Qt: the reviewer's name and where the store lives.

The GUI keeps the values in QSettings and the CLI in a small JSON file; both go through
:class:`ReviewSettings`, which takes any object with ``value(key)`` and ``setValue(key, value)``
(QSettings has exactly those). Store location, first match wins: an explicit ``--db``, the
``NODULELENS_DB`` environment variable, the settings value, the platform's user data folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from viewer.review.errors import NoReviewer

APP_NAME = "NoduleLens"
REVIEWER_KEY = "review/reviewer"
STORE_KEY = "review/store_path"
MAX_NAME = 128


class Backend(Protocol):
    def value(self, key: str) -> Any: ...
    def setValue(self, key: str, value: Any) -> None: ...


class JsonBackend:
    """A JSON file as a settings backend (CLI, tests); written atomically, owner-only."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else Path(platformdirs.user_config_dir(APP_NAME)) / "settings.json"

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def value(self, key: str) -> Any:
        return self._load().get(key)

    def setValue(self, key: str, value: Any) -> None:
        data = self._load()
        data[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, self.path)


def validate_reviewer(name: str) -> str:
    """A reviewer name as it will be stored: trimmed, non-empty, one line, not too long."""
    clean = " ".join(str(name or "").split())
    if not clean:
        raise NoReviewer("settings", "the reviewer name is empty",
                         "Enter your name (it is recorded with every decision)")
    if len(clean) > MAX_NAME:
        raise NoReviewer("settings", f"the reviewer name is longer than {MAX_NAME} characters",
                         "Enter a shorter name or initials")
    return clean


class ReviewSettings:
    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend if backend is not None else JsonBackend()

    @property
    def reviewer(self) -> str:
        """The stored reviewer name, or "" on first run (the GUI then asks for it)."""
        v = self.backend.value(REVIEWER_KEY)
        return " ".join(str(v).split()) if v else ""

    def set_reviewer(self, name: str) -> str:
        clean = validate_reviewer(name)
        self.backend.setValue(REVIEWER_KEY, clean)
        return clean

    def require_reviewer(self) -> str:
        name = self.reviewer
        if not name:
            raise NoReviewer("settings", "no reviewer name is set",
                             "Set it in the first-run prompt (every decision names its reviewer)")
        return name

    @property
    def store_path(self) -> str:
        v = self.backend.value(STORE_KEY)
        return str(v) if v else ""

    def set_store_path(self, path: str | Path) -> None:
        self.backend.setValue(STORE_KEY, str(Path(path).expanduser().absolute()))


def default_store_path(explicit: str | Path | None = None, settings: ReviewSettings | None = None) -> Path:
    """Where the store is: ``--db``, then NODULELENS_DB, then settings, then the user data folder."""
    if explicit:
        return Path(explicit).expanduser().absolute()
    env = os.environ.get("NODULELENS_DB")
    if env:
        return Path(env).expanduser().absolute()
    if settings is not None and settings.store_path:
        return Path(settings.store_path)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "nodulelens.db"

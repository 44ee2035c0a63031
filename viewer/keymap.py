"""Every keyboard shortcut of the window in one table, remappable from the settings (Qt-free).

Actions are known by name (``accept``, ``reset_3d``, …). :data:`WINDOW_KEYS` are the keys of the
window on its own; :data:`REVIEW_KEYS` are added (and win) when the review is installed, which
moves the window's R / N / P to Shift+R / Shift+N / Shift+P. The settings override either: in the
app's settings file (QSettings, ``~/.config/NoduleLens/NoduleLens.conf`` on Linux) a ``[keys]``
section with ``accept=Y`` or ``help=F1, ?`` (a list gives several keys; an empty value unbinds).
:class:`viewer.key_bindings.KeyBinder` is the one place that puts these keys on ``QAction``\\ s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

Keys = tuple[str, ...]

#: settings key prefix: ``keys/<action name>``
SETTINGS_GROUP = "keys"

WINDOW_KEYS: dict[str, Keys] = {
    "open_folder": ("Ctrl+O",), "open_file": ("Ctrl+Shift+O",), "open_demo": (), "quit": ("Ctrl+Q",),
    "layout_2x2": ("F5",), "layout_single": ("F6",), "layout_axial3d": ("F7",),
    "fit": ("F",), "zoom_to_finding": ("Z",), "reset_3d": ("R",),
    "preset_lung": ("1",), "preset_mediastinum": ("2",), "preset_bone": ("3",), "preset_soft_tissue": ("4",),
    "slab": ("M",), "saliency": ("H",),
    "slice_up": ("Up",), "slice_down": ("Down",), "page_up": ("PgUp",), "page_down": ("PgDown",),
    "next_finding": ("N",), "previous_finding": ("P",),
    "detect": ("Ctrl+D",), "cancel_detection": (), "export": ("Ctrl+E",),
}

REVIEW_KEYS: dict[str, Keys] = {
    "accept": ("A",), "reject": ("R",), "edit": ("E",), "add_here": ("I",), "add_tool": ("D",),
    "comment": ("C",), "next_undecided": ("N",), "previous_undecided": ("P",),
    "undo": ("Ctrl+Z",), "redo": ("Ctrl+Shift+Z",), "sign_off": ("Ctrl+Return",),
    "sign_off_without_ai": ("Ctrl+Alt+Return",), "reopen": (),
    "next_study": ("Ctrl+Shift+N",), "help": ("F1", "?"), "reviewer": (),
    "reset_3d": ("Shift+R",), "next_finding": ("Shift+N",), "previous_finding": ("Shift+P",),
}


def parse_keys(value: object) -> Keys | None:
    """A settings value as keys: a string (``"A"``; ``""`` unbinds) or a list of strings;
    None when the value is absent."""
    if value is None:
        return None
    if isinstance(value, str):
        items: Iterable[object] = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise TypeError(f"keys must be a string or a list of strings, not {type(value).__name__}")
    return tuple(k for k in (" ".join(str(i).split()) for i in items) if k)


@dataclass
class KeyMap:
    """Defaults (window, then review when installed) with per-action overrides from settings."""

    overrides: dict[str, Keys] = field(default_factory=dict)
    review: bool = False
    extra: dict[str, Keys] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, lookup: Callable[[str], object], names: Iterable[str] = ()) -> KeyMap:
        """Overrides read with ``lookup("keys/<name>")`` for every known action and ``names``."""
        overrides: dict[str, Keys] = {}
        for name in {*WINDOW_KEYS, *REVIEW_KEYS, *names}:
            keys = parse_keys(lookup(f"{SETTINGS_GROUP}/{name}"))
            if keys is not None:
                overrides[name] = keys
        return cls(overrides)

    def add_defaults(self, defaults: Mapping[str, Keys]) -> None:
        """Default keys of actions added by a plug-in (its own docks and menus)."""
        self.extra.update(defaults)

    def keys(self, name: str) -> Keys:
        if name in self.overrides:
            return self.overrides[name]
        if self.review and name in REVIEW_KEYS:
            return REVIEW_KEYS[name]
        return self.extra.get(name, WINDOW_KEYS.get(name, ()))

    def conflicts(self, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Keys bound to more than one of ``names`` (Qt then triggers none of them): key → names."""
        by_key: dict[str, list[str]] = {}
        for name in sorted(set(names)):
            for key in self.keys(name):
                by_key.setdefault(key.lower(), []).append(name)
        return {key: tuple(n) for key, n in by_key.items() if len(n) > 1}

"""The one place that puts keyboard shortcuts on actions: names → keys from a :class:`KeyMap`.

The window owns one :class:`KeyBinder`; every action that has a key is registered by name
(``window.add_action(menu, action, name="accept")``) and gets its keys from the key map, so the
defaults, the review's moved keys and the user's ``[keys]`` settings are all applied here.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtGui import QAction, QKeySequence

from viewer.keymap import KeyMap, Keys


class KeyBinder:
    def __init__(self, keymap: KeyMap | None = None) -> None:
        self.keymap = keymap or KeyMap()
        self.actions: dict[str, QAction] = {}

    def register(self, name: str, action: QAction, default_keys: Keys | None = None) -> None:
        """Bind ``action`` under ``name``; ``default_keys`` for an action the key map does not know."""
        if default_keys is not None and not self.keymap.keys(name):
            self.keymap.add_defaults({name: default_keys})
        self.actions[name] = action
        self._apply(name)

    def set_keymap(self, keymap: KeyMap) -> None:
        """Replace the key map (keeping the review layer and plug-in defaults) and rebind."""
        keymap.review = self.keymap.review
        keymap.add_defaults(self.keymap.extra)
        self.keymap = keymap
        self.rebind()

    def use_review_keys(self) -> None:
        self.keymap.review = True
        self.rebind()

    def rebind(self) -> None:
        for name in self.actions:
            self._apply(name)

    def keys_of(self, name: str) -> Keys:
        return self.keymap.keys(name)

    def conflicts(self) -> Mapping[str, tuple[str, ...]]:
        return self.keymap.conflicts(self.actions)

    def _apply(self, name: str) -> None:
        self.actions[name].setShortcuts([QKeySequence(k) for k in self.keymap.keys(name)])

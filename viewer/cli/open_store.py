"""Opening the review store from a command: what the store did on opening is said on stderr.

A store replays the pending-actions journal beside it when it opens (decisions a crashed or
disk-full viewer could not write); the GUI lists what it replayed in Messages, the commands print it
here, so a replay is never silent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from viewer.review.store import Store


def open_store(path: str | Path, *, read_only: bool = False, err: TextIO | None = None) -> Store:
    store = Store(path, read_only=read_only)
    for note in store.journal_notes:
        print(f"nodulelens: {note}", file=err or sys.stderr)
    return store

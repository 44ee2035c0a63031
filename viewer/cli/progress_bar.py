"""A one-line terminal progress bar for long commands (detect, models add). Torch-free, Qt-free."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``bar(fraction, message)``: redraws in place on a terminal, prints every 10 % otherwise."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._t0 = time.monotonic()

    def __call__(self, fraction: float, message: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        elapsed = time.monotonic() - self._t0
        if self.tty:
            filled = int(round(fraction * self.width))
            line = (f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                    f"{fraction * 100:3.0f}% {elapsed:5.1f}s {message[:40]:<40}")
            self.stream.write(line)
            self.stream.flush()
            return
        decile = int(fraction * 10)
        if decile > self._last_decile:
            self._last_decile = decile
            self.stream.write(f"{self.label}: {fraction * 100:3.0f}% {elapsed:6.1f}s {message}\n")
            self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

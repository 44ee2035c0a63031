"""The progress display of ``nodulelens screen``: a tqdm bar of scans with done / failed / rate / ETA.

The figures are the run's own (:class:`viewer.review.screen_runs.RunFigures`, the same numbers the
store keeps for the worklist). On a terminal the bar redraws in place and log lines print above
it; otherwise (a log file, CI) a figures line is printed at every tenth of the run.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from viewer.review.screen_runs import RunFigures
from viewer.review.screening import Outcome


class ScreenBar:
    def __init__(self, total: int, skipped: int = 0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total = total
        self.skipped = skipped
        self._last_decile = -1
        self.bar = tqdm(total=total, unit="scan", desc="screen", file=self.stream, dynamic_ncols=True,
                        mininterval=0.5, disable=not self.tty,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total} [{elapsed}<{remaining}]{postfix}")
        if skipped:
            self.bar.set_postfix_str(f"{skipped} already stored")

    def write(self, line: str) -> None:
        """A log line, printed above the bar."""
        if self.tty:
            tqdm.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def scan_progress(self, fraction: float, message: str = "") -> None:
        """Progress inside the run (fraction of all scans), from the single-process path."""
        if self.tty:
            self.bar.n = round(min(1.0, max(0.0, fraction)) * self.total, 2)
            self.bar.refresh()

    def result(self, _outcome: Outcome, figures: RunFigures) -> None:
        """One more scan stored (or failed): the bar and its figures."""
        if self.tty:
            self.bar.total = figures.total  # less when another screener stored some of this run's series
            self.bar.n = figures.processed
            self.bar.set_postfix_str(_postfix(figures), refresh=True)
            return
        decile = int(10 * figures.processed / max(1, figures.total))
        if decile > self._last_decile:
            self._last_decile = decile
            print(f"progress: {figures.line()}", file=self.stream, flush=True)

    def close(self) -> None:
        self.bar.close()


def _postfix(f: RunFigures) -> str:
    rate = f"{f.per_minute:.1f}/min" if f.per_minute is not None else "-/min"
    eta = f"ETA {f.eta_s:.0f}s" if f.eta_s is not None else "ETA -"
    return f"done {f.done} failed {f.failed} {rate} {eta}"

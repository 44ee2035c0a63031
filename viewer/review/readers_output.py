"""Writing a :class:`~viewer.review.readers.ReaderReport`: CSV tables, a JSON summary, the FROC
plot (matplotlib, Agg backend: no display needed) and the lines the command prints."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from viewer.review.readers import DetectionComparison, Performance, ReaderReport, Spread


def _s(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _spread(sp: Spread) -> dict:
    return {"n": sp.n, "median_s": sp.median, "q1_s": sp.q1, "q3_s": sp.q3}


def _perf(p: Performance) -> dict:
    return {"label": p.label, "hits": p.hits, "nodules": p.n_nodules, "sensitivity": p.sensitivity,
            "false_positives": p.false_positives, "scans": p.n_scans, "fps_per_scan": p.fps_per_scan}


def to_dict(report: ReaderReport) -> dict:
    return {
        "series": report.n_series,
        "readers": [{"reader": r.reader, "decision_time_per_finding": _spread(r.finding_times),
                     "reading_time_per_study": _spread(r.study_times),
                     "decided_without_shown_event": r.no_shown,
                     "score_bands": [{"band": b.label, "accepted": b.accepted, "rejected": b.rejected,
                                      "accept_rate": b.accept_rate} for b in r.bands]}
                    for r in report.readers],
        "detection": [{"group": c.group, "ai_alone": _perf(c.ai), "readers_final": _perf(c.readers)}
                      for c in report.comparisons],
    }


def write_report(report: ReaderReport, out: str | Path) -> list[Path]:
    """Write readers.csv, score_bands.csv, report.json and, with a reference, detection.csv and
    froc.png into ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "readers.csv", out / "score_bands.csv", out / "report.json"]
    with open(paths[0], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["reader", "what", "n", "median_s", "q1_s", "q3_s"])
        for r in report.readers:
            for what, sp in (("decision time per finding", r.finding_times),
                             ("reading time per study", r.study_times)):
                w.writerow([r.reader, what, sp.n, _s(sp.median), _s(sp.q1), _s(sp.q3)])
    with open(paths[1], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["reader", "score_band", "accepted", "rejected", "accept_rate"])
        for r in report.readers:
            for b in r.bands:
                w.writerow([r.reader, b.label, b.accepted, b.rejected, _s(b.accept_rate, 3)])
    paths[2].write_text(json.dumps(to_dict(report), indent=2) + "\n", encoding="utf-8")
    if report.comparisons:
        det = out / "detection.csv"
        with open(det, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["group", "result", "hits", "nodules", "sensitivity", "false_positives", "scans",
                        "fps_per_scan"])
            for c in report.comparisons:
                for p in (c.ai, c.readers):
                    w.writerow([c.group, p.label, p.hits, p.n_nodules, _s(p.sensitivity, 3),
                                p.false_positives, p.n_scans, _s(p.fps_per_scan, 3)])
        png = out / "froc.png"
        plot_froc(report.comparisons[0], png)
        paths += [det, png]
    return paths


def plot_froc(c: DetectionComparison, path: Path) -> None:
    """FROC of the AI alone and of the readers' final result, with both operating points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for r, colour, name in ((c.ai_froc, "tab:blue", "AI alone (all stored candidates)"),
                            (c.readers_froc, "tab:orange", "readers' final result (by AI score)")):
        xs = [0.0, *r.fps_per_scan.tolist()]
        ys = [0.0, *r.sensitivity.tolist()]
        ax.step(xs, ys, where="post", color=colour, label=name)
    for p, colour, marker in ((c.ai, "tab:blue", "o"), (c.readers, "tab:orange", "s")):
        if p.sensitivity is not None:
            ax.plot([p.fps_per_scan], [p.sensitivity], marker, color=colour, ms=9, mec="black",
                    label=f"{p.label}: {p.sensitivity:.2f} at {p.fps_per_scan:.2f} FP/scan")
    top = max([1.0, c.ai_froc.fps_per_scan.max(initial=0.0), c.readers_froc.fps_per_scan.max(initial=0.0)])
    ax.set_xlim(-0.02 * top, 1.1 * top)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("false positives per scan")
    ax.set_ylabel("sensitivity")
    n, k = c.ai.n_nodules, c.ai.n_scans
    ax.set_title(f"FROC, {c.group}: {n} reference nodule{'' if n == 1 else 's'} in {k} scan{'' if k == 1 else 's'}",
                 fontsize=10)
    ax.grid(True, color="0.9")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary_lines(report: ReaderReport) -> list[str]:
    lines = [f"{report.n_series} screened series in the store"]
    for r in report.readers:
        ft, st = r.finding_times, r.study_times
        lines.append(f"{r.reader}: decision time per finding median {_s(ft.median)} s "
                     f"(IQR {_s(ft.q1)}-{_s(ft.q3)}, n={ft.n}); reading time per study median "
                     f"{_s(st.median)} s (IQR {_s(st.q1)}-{_s(st.q3)}, n={st.n})")
        if r.no_shown:
            lines.append(f"  {r.no_shown} finding(s) decided without a 'shown' event by {r.reader}: not timed")
        for b in r.bands:
            if b.decided:
                lines.append(f"  AI score {b.label}: {b.accepted} accepted, {b.rejected} rejected "
                             f"(accept rate {_s(b.accept_rate, 2)})")
    for c in report.comparisons:
        for p in (c.ai, c.readers):
            lines.append(f"{c.group}, {p.label}: sensitivity {_s(p.sensitivity, 3) or 'n/a'} "
                         f"({p.hits}/{p.n_nodules}), {p.fps_per_scan:.2f} FP/scan "
                         f"({p.false_positives} in {p.n_scans} scans)")
    return lines

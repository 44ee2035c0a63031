"""``nodulelens detect PATH --out findings.json``: the detection pipeline, headless.

Runs the same worker process as the GUI (torch stays out of this process), shows a progress bar,
and writes a findings file (``inference.service.findings_file``, schema version 1) with saliency
maps in ``--saliency DIR`` when given. Every warning about the scan (the loader's: repairs, clipped
values) and the result (the worker's) is printed on stderr as ``WARNING: …``, counted on the result
line and written into the findings file: a scan read with a repair is never reported as plainly clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "find nodules in a scan and write a findings file (JSON, world mm)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="DICOM folder or file, NIfTI (.nii/.nii.gz) or MetaImage (.mha/.mhd)")
    parser.add_argument("--out", required=True, help="findings file to write (JSON)")
    parser.add_argument("--model", default=None,
                        help="model id (see `nodulelens models list`); default: the installed default")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="auto = CUDA, then Apple MPS, then CPU (default: auto)")
    parser.add_argument("--saliency", metavar="DIR", default=None,
                        help="also write a saliency map per finding (.npz; the model card's method) into DIR")
    parser.add_argument("--saliency-top", type=int, default=10, metavar="N",
                        help="explain only the N highest-scoring findings (default 10)")
    parser.add_argument("--series", default=None, metavar="UID",
                        help="SeriesInstanceUID to read when PATH holds several series")
    parser.add_argument("--no-analysis", action="store_true",
                        help="skip measurement, type, risk and Lung-RADS per finding")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for the worker (default: torch's choice)")
    parser.add_argument("--threshold", type=_score, default=None, metavar="SCORE",
                        help="operating point: report findings scoring at least SCORE (0..1; default: the "
                             "model card's); prints the card's expected sensitivity and FP/scan there")
    parser.add_argument("--floor", type=_score, default=None, metavar="SCORE",
                        help="also keep up to 30 candidates below the operating point down to SCORE, so a "
                             "viewer can lower the point later (default: none)")


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value:g} is not a score in 0..1")
    return value


def expected_at(model_id: str, threshold: float) -> list[str]:
    """The model card's expected sensitivity and FP/scan at ``threshold``, one line per data set."""
    from inference.service.installed import resolve_model
    from inference.training.operating_table import OperatingTableError
    from viewer.review.operating_point import card_table, readout_lines

    try:
        table = card_table(resolve_model(model_id) or model_id)
    except OperatingTableError as exc:
        return [str(exc)]
    return readout_lines(table, threshold)


def run(args: argparse.Namespace) -> int:
    from inference.service.client import InferenceClient
    from inference.service.findings_file import ScanFindings, write_findings
    from viewer.cli.progress_bar import ProgressBar
    from viewer.review.screening import detection_warnings

    out = Path(args.out)
    bar = ProgressBar("detect")
    with InferenceClient(model=args.model, device=args.device, torch_threads=args.threads) as client:
        bar(0.0, "starting the inference worker")
        ready = client.start()
        try:
            reply = client.detect(args.path, series_uid=args.series, analyze=not args.no_analysis,
                                  saliency=args.saliency is not None,
                                  saliency_dir=args.saliency, saliency_top=args.saliency_top,
                                  progress=bar, threshold=args.threshold, floor=args.floor)
        finally:
            bar.done()
    info = reply.info
    warnings = detection_warnings(reply)
    timings = (("load_model", ready.load_seconds),) + reply.timings
    scan = ScanFindings(
        findings=reply.findings, model=reply.model, threshold=reply.threshold, device=reply.device,
        study_instance_uid=info.study_instance_uid, series_instance_uid=info.series_instance_uid,
        frame_of_reference_uid=info.frame_of_reference_uid, source=str(args.path),
        timings=timings, saliency_files=reply.saliency_files, warnings=warnings)
    write_findings(scan, out)
    for w in warnings:
        print(f"WARNING: {args.path}: {w}", file=sys.stderr)
    above = sum(f.score >= reply.threshold for f in reply.findings)
    below = f" (+{len(reply.findings) - above} below it, kept)" if len(reply.findings) > above else ""
    print(f"{above} finding(s) at threshold {reply.threshold:g}{below} "
          f"({reply.model.model_id} {reply.model.version}, {reply.device}, "
          f"{sum(t for _, t in reply.timings):.1f} s) → {out}")
    if warnings:
        print(f"  {len(warnings)} WARNING(S) about this scan or its result: on stderr and in 'warnings' of {out}")
    for line in expected_at(reply.model.model_id, reply.threshold):
        print(f"  expected at {reply.threshold:g}: {line}")
    for f in reply.findings[:10]:
        x, y, z = f.center
        d = "" if f.diameter_mm is None else f", ~{f.diameter_mm:.0f} mm"
        print(f"  {f.finding_id}  score {f.score:.3f}  at ({x:.1f}, {y:.1f}, {z:.1f}) mm LPS{d}")
    if len(reply.findings) > 10:
        print(f"  … and {len(reply.findings) - 10} more in {out}")
    return 0

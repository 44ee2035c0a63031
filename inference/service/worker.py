"""The inference worker process: loads one model once, then answers requests until told to stop.

Started by :class:`inference.service.client.InferenceClient` with the ``spawn`` start method (a
fresh interpreter: no forked copy of the GUI's Qt state, safe with CUDA). torch lives only here.
It listens on no port: it talks through the pipe it was given, reads scans from shared memory or
from disk, and writes saliency maps as files. The cancel event is polled between stages and at
every progress report, so a cancel lands within one progress step.
"""

from __future__ import annotations

import os
import signal
import time
import traceback as tb
from multiprocessing import shared_memory
from typing import TYPE_CHECKING, Any

import numpy as np

from inference.domain.finding import Finding
from inference.domain.progress import Cancelled, IsCancelled, Progress, check_cancelled
from inference.imaging.coverage import lungs_cut_off, one_lung_only
from inference.imaging.extent import check_lungs, check_screenable
from inference.imaging.lung_mask import lung_mask
from inference.imaging.volume import Volume
from inference.service.operating import detect_at
from inference.service.protocol import (CancelledReply, DetectReply, DetectRequest, ErrorReply,
                                        ProgressMessage, Ready, ScanPath, Shutdown, VolumeInSharedMemory)

if TYPE_CHECKING:
    from inference.detection.detector import Detector


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return "out of memory" in str(exc).lower()


def error_reply(exc: BaseException, request_id: int | None, fatal: bool = False) -> ErrorReply:
    oom = _is_out_of_memory(exc)
    return ErrorReply(
        request_id=request_id,
        error_type=f"{type(exc).__module__}:{type(exc).__qualname__}",
        message=str(exc) or type(exc).__name__,
        traceback="".join(tb.format_exception(exc))[-8000:],
        path=getattr(exc, "path", None) if isinstance(getattr(exc, "path", None), str) else None,
        problem=getattr(exc, "problem", None), fix=getattr(exc, "fix", None),
        fatal=fatal or oom, out_of_memory=oom)


def load_detector(model: str | None, device: str) -> Detector:
    """The detector for a model id or folder (user-installed models first, then the
    repository's), built by the class registered for its manifest's architecture."""
    from inference.detection.detector import load_detector as build
    from inference.service.installed import resolve_model

    return build(resolve_model(model), device)


class Runtime:
    """The loaded model and the per-request pipeline: scan → findings (+ analysis, + saliency)."""

    def __init__(self, model: str | None, device: str, cancelled: IsCancelled = lambda: False) -> None:
        from inference.detection.detector import pick_device

        self._cancelled_flag = cancelled
        t0 = time.perf_counter()
        self.device = pick_device(device)
        self.detector = load_detector(model, self.device)
        self.load_seconds = time.perf_counter() - t0

    # -- one request ---------------------------------------------------------------------------
    def handle(self, req: DetectRequest, progress: Progress) -> DetectReply:
        timings: dict[str, float] = {}
        warnings: list[str] = []

        def stage(lo: float, hi: float) -> Progress:
            def report(fraction: float = 0.0, message: str = "") -> None:
                progress(lo + (hi - lo) * min(1.0, max(0.0, float(fraction))), message)
            return report

        t = time.perf_counter()
        progress(0.0, "reading scan")
        volume, source = self._volume(req.scan, stage(0.0, 0.08))
        timings["read"] = time.perf_counter() - t
        check_screenable(volume, source)

        # one lung mask per scan: checked here (no aerated lung: refused before detection runs;
        # little of it, lungs cut off at an end, one lung alone: warnings), then shared by every
        # finding's analysis
        t = time.perf_counter()
        progress(0.08, "finding the lungs")
        lungs = lung_mask(volume)
        warnings += [w for w in (check_lungs(volume, lungs, source), lungs_cut_off(volume, lungs),
                                   one_lung_only(volume, lungs)) if w]
        timings["lungs"] = time.perf_counter() - t

        t = time.perf_counter()
        findings, threshold = detect_at(self.detector, volume, req.threshold, req.floor,
                                        progress=stage(0.1, 0.6), cancelled=self._cancelled_flag)
        timings["detect"] = time.perf_counter() - t

        if req.analyze and findings:
            t = time.perf_counter()
            findings = self._analyze(volume, findings, threshold, lungs, stage(0.6, 0.75), warnings)
            timings["analyze"] = time.perf_counter() - t

        saliency_files: list[tuple[str, str]] = []
        if req.saliency and findings and req.saliency_top != 0:
            t = time.perf_counter()
            top = [f for f in findings if f.score >= threshold][: req.saliency_top]  # presented ones only
            saliency_files = self._explain(volume, top, req.saliency_dir or ".", stage(0.75, 1.0),
                                           warnings)
            timings["saliency"] = time.perf_counter() - t
        progress(1.0, f"{len(findings)} finding(s)")
        return DetectReply(
            request_id=req.request_id, findings=tuple(findings), info=volume.info, source=source,
            model=self.detector.model_info, threshold=threshold,
            device=self.device, saliency_files=tuple(saliency_files),
            timings=tuple(timings.items()), warnings=tuple(warnings))

    def _volume(self, scan: VolumeInSharedMemory | ScanPath,
                progress: Progress) -> tuple[Volume, str]:
        if isinstance(scan, ScanPath):
            from inference.imaging import load

            kwargs: dict[str, Any] = {"progress": progress}
            if scan.series_uid:
                kwargs["series_uid"] = scan.series_uid
            volume = load(scan.path, **kwargs)
            return volume, scan.path
        shm = shared_memory.SharedMemory(name=scan.voxels.name)
        try:
            view = np.ndarray(scan.voxels.shape, dtype=np.dtype(scan.voxels.dtype), buffer=shm.buf)
            voxels = np.array(view)  # own copy: the client may unlink the block once we reply
            del view
        finally:
            shm.close()
        return Volume(voxels, np.asarray(scan.affine), scan.info), scan.info.source

    def _analyze(self, volume: Volume, findings: list[Finding], threshold: float, mask: np.ndarray,
                 progress: Progress, warnings: list[str]) -> list[Finding]:
        """Measure, type and score every finding; its box becomes the segmented nodule's box. The
        Brock nodule count is the number of findings at or above the operating point (the nodules
        the reader is shown), not the sub-threshold candidates kept for a lower point. ``mask`` is
        the scan's one lung mask (computed by :meth:`handle`), shared by every finding's analysis."""
        from inference.nodules import analyze, clinical_from_series

        self._check_cancel()
        clinical = clinical_from_series(volume.info)
        count = max(1, sum(f.score >= threshold for f in findings))
        out = []
        for i, f in enumerate(findings):
            self._check_cancel()
            try:
                result = analyze(volume, f.center, f.box, clinical=clinical,
                                 nodule_count=count, lung_mask=mask)
                out.append(f.evolve(analysis=result.analysis, box=result.world_box(volume),
                                    diameter_mm=result.analysis.measurement.mean_diameter_mm))
            except Exception as exc:  # one unmeasurable finding must not lose the others
                if _is_out_of_memory(exc):
                    raise
                warnings.append(f"{f.finding_id}: not measured ({exc})")
                out.append(f)
            progress((i + 1) / len(findings), f"measured {i + 1}/{len(findings)}")
        return out

    def _explain(self, volume: Volume, findings: list[Finding], out_dir: str,
                 progress: Progress, warnings: list[str]) -> list[tuple[str, str]]:
        from inference.detection.registry import ModelError
        from inference.saliency.explain import explain_with_method
        from inference.service.findings_file import save_saliency

        if not self.detector.explains:
            warnings.append(f"no saliency maps: model {self.detector.model_info.model_id} "
                            f"({self.detector.manifest.architecture}) has no saliency method")
            return []
        try:
            method, maps = explain_with_method(self.detector, volume, findings, progress=progress,
                                               cancelled=self._cancelled_flag)
        except ModelError as exc:  # a manifest with a bad saliency setting: the findings stay useful
            warnings.append(f"no saliency maps ({exc})")
            return []
        os.makedirs(out_dir, exist_ok=True)
        files = []
        for f in findings:
            if f.finding_id in maps:
                path = save_saliency(maps[f.finding_id], os.path.join(out_dir, f"{f.finding_id}.npz"),
                                     method=method)
                files.append((f.finding_id, str(path)))
        return files

    def _check_cancel(self) -> None:
        check_cancelled(self._cancelled_flag, "the request")


def main(conn: Any, cancel_event: Any, model: str | None, device: str,
         torch_threads: int | None = None) -> None:
    """Worker entry point (runs in the spawned process)."""
    # Ctrl-C in a terminal reaches the whole process group: the client decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if torch_threads:
        import torch
        torch.set_num_threads(int(torch_threads))
    try:
        runtime = Runtime(model, device, cancel_event.is_set)
    except BaseException as exc:  # any failure is reported to the client, then exit
        conn.send(error_reply(exc, None, fatal=True))
        conn.close()
        return
    conn.send(Ready(pid=os.getpid(), model=runtime.detector.model_info, device=runtime.device,
                    threshold=float(runtime.detector.threshold), load_seconds=runtime.load_seconds))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # the client went away
        if isinstance(msg, Shutdown):
            return
        if not isinstance(msg, DetectRequest):
            continue
        rid = msg.request_id

        def progress(fraction: float, message: str = "", _rid: int = rid) -> None:
            check_cancelled(cancel_event.is_set, "the request")
            conn.send(ProgressMessage(_rid, fraction, message))

        try:
            reply: Any = runtime.handle(msg, progress)
        except BaseException as exc:  # every failure becomes a reply
            if isinstance(exc, Cancelled) or cancel_event.is_set():
                reply = CancelledReply(rid)
            else:
                reply = error_reply(exc, rid)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return
        if isinstance(reply, ErrorReply) and reply.fatal:
            return

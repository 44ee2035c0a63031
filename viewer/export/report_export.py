"""The ``pdf`` and ``sc`` formats: the Lung-RADS PDF report (as a file and as a DICOM Encapsulated
PDF) and the key images as DICOM Secondary Capture, from the same export plan as the SR."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap
from viewer.export.documents import encapsulated_pdf, secondary_captures
from viewer.export.key_images import KeyImage, render
from viewer.export.pdf_report import TITLE, ReportContext, build_pdf
from viewer.export.plan import ExportPlan
from viewer.export.source import SourceSeries


def key_images(plan: ExportPlan, volume: Volume, saliency: Mapping[str, SaliencyMap]) -> list[KeyImage]:
    """One key image per reported nodule; saliency only on AI findings (it explains the AI)."""
    ai_maps = {n.finding_id: saliency[n.finding_id] for n in plan.nodules
               if not n.added_by_reviewer and n.finding_id in saliency}
    return [render(volume, n, ai_maps) for n in plan.nodules]


def model_card(plan: ExportPlan) -> tuple[Mapping[str, Any] | None, str]:
    """(first evaluation of the model's manifest, its intended use), when the model is installed."""
    m = plan.study.model
    if m is None:
        return None, ""
    from inference.detection.registry import ModelError, load_manifest

    try:
        manifest = load_manifest(m.model_id)
    except (ModelError, OSError, ValueError):
        return None, ""
    evaluation = manifest.evaluation[0] if manifest.evaluation else None
    return evaluation, manifest.intended_use


def write_pdf_report(plan: ExportPlan, source: SourceSeries, saliency: Mapping[str, SaliencyMap], folder: Path,
                     deid: Any | None) -> list[Path]:
    """``report.pdf`` and ``report.dcm`` (Encapsulated PDF) in ``folder``."""
    from viewer.export.exporter import write_objects

    card, use = model_card(plan)
    context = ReportContext(source.datasets[0], len(source.datasets), card, use, deidentified=deid is not None)
    pdf = build_pdf(plan, context, key_images(plan, source.volume, saliency))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    return [path] + write_objects([("report", encapsulated_pdf(pdf, plan, source, TITLE))], folder, deid)


def write_secondary_captures(plan: ExportPlan, source: SourceSeries, saliency: Mapping[str, SaliencyMap],
                             folder: Path, deid: Any | None) -> list[Path]:
    """``key_<n>.dcm`` per reported nodule in ``folder``."""
    from viewer.export.exporter import write_objects

    images = key_images(plan, source.volume, saliency)
    scs = secondary_captures(images, source)
    return write_objects([(f"key_{i + 1}", ds) for i, ds in enumerate(scs)], folder, deid)

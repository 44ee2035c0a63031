"""Export of a reviewed study: DICOM SR (TID 1500), SEG, saliency Parametric Maps, the Lung-RADS PDF
report (+ Encapsulated PDF), Secondary Capture key images, LUNA16 CSV and JSON, with optional
de-identification. Qt-free; used by ``nodulelens export`` and the GUI.

Entry point: ``export_study(ExportInputs(study, volume, masks, saliency), "sr", out_dir)``.
Names are imported lazily so that ``viewer.export.errors`` stays cheap to import.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "ExportFormat": "viewer.export.exporter",
    "ExportInputs": "viewer.export.exporter",
    "ExportResult": "viewer.export.exporter",
    "export_study": "viewer.export.exporter",
    "inputs_from_store": "viewer.export.from_store",
    "export_from_store": "viewer.export.from_store",
    "ExportPlan": "viewer.export.plan",
    "Comparison": "viewer.export.plan",
    "build_plan": "viewer.export.plan",
    "ExportError": "viewer.export.errors",
    "UnsignedExportWarning": "viewer.export.sr",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'viewer.export' has no attribute {name!r}")
    return getattr(import_module(module), name)

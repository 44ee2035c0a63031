"""The findings file: one versioned JSON document per scan, plus saliency maps next to it.

Schema ``"nodulelens.findings"``, version 1 (JSON Schema: ``resources/schemas/findings-v1.schema.json``)::

    {
      "schema": "nodulelens.findings", "version": 1,
      "created": "2026-11-24T10:00:00+00:00",            # UTC, ISO 8601
      "scan": {"study_instance_uid": "...", "series_instance_uid": "...",
               "frame_of_reference_uid": "...", "source": "../shared/data/lidc/LIDC-IDRI-0001"},
      "model": {"id": "...", "version": "...", "manifest_sha256": "...", "name": "...",
                "threshold": 0.5},                      # the operating point findings passed
      "device": "cpu",
      "timings": {"load": 1.2, "detect": 20.5, ...},     # wall-clock seconds per stage
      "warnings": ["values ... clipped to the int16 range", ...],  # about the scan and the result
      "findings": [
        {"id": "F1", "center_mm": [x, y, z], "box_mm": {"lo": [x, y, z], "hi": [x, y, z]},
         "score": 0.93, "source": "ai", "diameter_mm": 21.0 | null,
         "analysis": {...} | null,                      # inference.domain.analysis_codec.to_dict()
         "saliency": "F1.npz" | null}                   # relative to the JSON file's folder
      ]
    }

``warnings`` (optional; files without it read as none) are the loader's warnings about the scan
(repairs it made, values it clipped) and the worker's about the result: a reader of the file must
see them, as a reader of ``detect``'s output does.

All coordinates are world LPS mm (DICOM patient frame). A saliency file is a compressed ``.npz``
holding ``voxels`` (uint8, 0..255 = saliency 0..1, indexed z, y, x), ``affine`` (4x4, index
(x, y, z, 1) → LPS mm) — a crop on the scan's grid — and ``method`` (a text: the
:class:`~inference.domain.saliency.SaliencyMethod` that made it, ``occlusion`` / ``grad-cam``).
Files written before ``method`` existed read as ``unknown``, unless the reader passes the model
that wrote them and that very card (same manifest sha256) is installed: :func:`load_saliency_map`.

:func:`read_findings` validates the document and raises a :class:`FindingsFileError` subclass
that names the file and the fix.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from inference.domain import analysis_codec
from inference.domain.finding import Box3D, Finding, FindingSource, ModelInfo
from inference.domain.saliency import SaliencyMethod
from inference.imaging.volume import Volume
from inference.errors import ActionableError
from inference.service.errors import ServiceError

SCHEMA = "nodulelens.findings"
VERSION = 1


class FindingsFileError(ServiceError, ActionableError):
    """A findings file (or a saliency file it references) cannot be read."""

    @property
    def path(self) -> str:
        return self.subject


class NotAFindingsFile(FindingsFileError):
    """Not JSON, or JSON of some other kind."""


class UnsupportedFindingsVersion(FindingsFileError):
    """A findings file of a schema version this program does not read."""


class InvalidFindings(FindingsFileError):
    """A findings file with missing or malformed fields."""


@dataclass(frozen=True, slots=True)
class ScanFindings:
    """What one findings file holds: the scan's identity, the model, and its findings."""

    findings: tuple[Finding, ...]
    model: ModelInfo
    threshold: float
    device: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    source: str = ""
    timings: tuple[tuple[str, float], ...] = ()
    #: finding id → saliency file (absolute after reading; as given when writing)
    saliency_files: tuple[tuple[str, str], ...] = ()
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    #: the loader's warnings about the scan, then the worker's about the result
    warnings: tuple[str, ...] = ()

    @property
    def saliency(self) -> dict[str, str]:
        return dict(self.saliency_files)


# -- saliency files ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class SaliencyMap:
    """A saliency map with the method that made it: the label travels with the map."""

    volume: Volume  # float32 0..1 crop on the scan's grid
    method: SaliencyMethod


def save_saliency(volume: Volume, path: str | Path, *, method: SaliencyMethod) -> Path:
    """Write a 0..1 saliency Volume as a compressed ``.npz`` of uint8 0..255 voxels + affine,
    with the ``method`` that made it."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    v = np.asarray(volume.voxels)
    if v.dtype == np.uint8:
        q = v
    else:
        q = np.rint(np.clip(np.nan_to_num(v.astype(np.float32)), 0.0, 1.0) * 255.0).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, voxels=q, affine=np.asarray(volume.affine, np.float64),
                        method=np.asarray(SaliencyMethod(method).value))
    os.replace(tmp, path)
    return path


def load_saliency(path: str | Path) -> Volume:
    """Read a saliency file back as a float32 0..1 Volume (quantised to steps of 1/255)."""
    return load_saliency_map(path).volume


def load_saliency_map(path: str | Path, model: ModelInfo | None = None) -> SaliencyMap:
    """Read a saliency file with its method. A file without one (written before it was recorded)
    is ``UNKNOWN``, unless ``model`` (the model that wrote it) is given and its card is installed
    unchanged (same manifest sha256): then that card's method, which is the one that ran."""
    path = Path(path)
    fix = "write it again with `nodulelens detect ... --saliency DIR`"
    if not path.is_file():
        raise InvalidFindings(path, "saliency file not found", fix)
    try:
        with np.load(path, allow_pickle=False) as data:
            voxels, affine = data["voxels"], data["affine"]
            recorded = data["method"] if "method" in data.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidFindings(path, f"not a saliency .npz file ({exc})", fix) from exc
    if voxels.dtype != np.uint8 or voxels.ndim != 3 or affine.shape != (4, 4):
        raise InvalidFindings(path, "saliency file needs 3D uint8 'voxels' and a 4x4 'affine'", fix)
    if recorded is not None and (recorded.ndim != 0 or recorded.dtype.kind != "U"):
        raise InvalidFindings(path, "saliency file's 'method' must be one text", fix)
    method = SaliencyMethod.from_file(None if recorded is None else str(recorded))
    if recorded is None and model is not None:
        from inference.detection.registry import card_saliency_method

        method = card_saliency_method(model)
    try:
        return SaliencyMap(Volume(voxels.astype(np.float32) / 255.0, affine), method)
    except ValueError as exc:
        raise InvalidFindings(path, f"bad saliency geometry ({exc})", fix) from exc


# -- writing ----------------------------------------------------------------------------------
def _finite(values: Any, n: int = 3) -> list[float]:
    out = [float(v) for v in values]
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise ValueError(f"expected {n} finite numbers, got {values}")
    return out


def to_json_dict(scan: ScanFindings, base_dir: str | Path | None = None) -> dict:
    """The JSON document for ``scan``; saliency paths are made relative to ``base_dir``."""
    sal = scan.saliency
    findings = []
    for f in scan.findings:
        s = sal.get(f.finding_id)
        if s is not None and base_dir is not None:
            s = os.path.relpath(s, base_dir)
        findings.append({
            "id": f.finding_id,
            "center_mm": _finite(f.center),
            "box_mm": {"lo": _finite(f.box.lo), "hi": _finite(f.box.hi)},
            "score": float(f.score),
            "source": f.source.value,
            "diameter_mm": None if f.diameter_mm is None else float(f.diameter_mm),
            "analysis": None if f.analysis is None else analysis_codec.to_dict(f.analysis),
            "saliency": None if s is None else str(s).replace(os.sep, "/"),
        })
    m = scan.model
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "created": scan.created,
        "scan": {
            "study_instance_uid": scan.study_instance_uid,
            "series_instance_uid": scan.series_instance_uid,
            "frame_of_reference_uid": scan.frame_of_reference_uid,
            "source": scan.source,
        },
        "model": {"id": m.model_id, "version": m.version, "manifest_sha256": m.manifest_sha256,
                  "name": m.name, "threshold": float(scan.threshold)},
        "device": scan.device,
        "timings": {k: round(float(v), 4) for k, v in scan.timings},
        "warnings": [str(w) for w in scan.warnings],
        "findings": findings,
    }


def write_findings(scan: ScanFindings, path: str | Path) -> Path:
    """Write ``scan`` as a findings file (atomically: a crash leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = to_json_dict(scan, base_dir=path.parent.resolve())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# -- reading ----------------------------------------------------------------------------------
_FIX = "write it again with `nodulelens detect SCAN --out FILE`"


def _get(obj: Any, key: str, kind: type | tuple, path: Path, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InvalidFindings(path, f"missing field '{where}{key}'", _FIX)
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise InvalidFindings(path, f"field '{where}{key}' has the wrong type "
                                    f"({type(value).__name__})", _FIX)
    return value


def _point(obj: Any, key: str, path: Path, where: str) -> tuple[float, float, float]:
    value = _get(obj, key, list, path, where)
    if len(value) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                  and math.isfinite(v) for v in value):
        raise InvalidFindings(path, f"field '{where}{key}' must be 3 finite numbers (x, y, z mm)", _FIX)
    return (float(value[0]), float(value[1]), float(value[2]))


def _finding(d: Any, i: int, path: Path) -> tuple[Finding, str | None]:
    where = f"findings[{i}]."
    fid = _get(d, "id", str, path, where)
    center = _point(d, "center_mm", path, where)
    box = _get(d, "box_mm", dict, path, where)
    lo, hi = _point(box, "lo", path, where + "box_mm."), _point(box, "hi", path, where + "box_mm.")
    score = _get(d, "score", (int, float), path, where)
    source = d.get("source", "ai")
    diameter = d.get("diameter_mm")
    if diameter is not None and (not isinstance(diameter, (int, float)) or isinstance(diameter, bool)):
        raise InvalidFindings(path, f"field '{where}diameter_mm' must be a number or null", _FIX)
    saliency = d.get("saliency")
    if saliency is not None and not isinstance(saliency, str):
        raise InvalidFindings(path, f"field '{where}saliency' must be a file name or null", _FIX)
    analysis = d.get("analysis")
    try:
        finding = Finding(fid, center, Box3D(lo, hi), float(score), FindingSource(source),
                          None if diameter is None else float(diameter),
                          None if analysis is None else analysis_codec.from_dict(analysis))
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidFindings(path, f"{where[:-1]} is invalid: {exc}", _FIX) from exc
    return finding, saliency


def read_findings(path: str | Path) -> ScanFindings:
    """Read and validate a findings file. Saliency paths come back absolute."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotAFindingsFile(path, "file not found", "check the path, or " + _FIX) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise NotAFindingsFile(path, f"cannot read it as text ({exc})", _FIX) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAFindingsFile(path, f"not valid JSON (line {exc.lineno}: {exc.msg})", _FIX) from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise NotAFindingsFile(path, f"not a NoduleLens findings file (no \"schema\": \"{SCHEMA}\")",
                               "give the JSON file that `nodulelens detect --out` wrote")
    version = doc.get("version")
    if version != VERSION:
        raise UnsupportedFindingsVersion(
            path, f"findings schema version {version!r}; this NoduleLens reads version {VERSION}",
            "update NoduleLens, or " + _FIX)
    scan = _get(doc, "scan", dict, path, "")
    model = _get(doc, "model", dict, path, "")
    threshold = _get(model, "threshold", (int, float), path, "model.")
    raw_findings = _get(doc, "findings", list, path, "")
    timings = doc.get("timings", {})
    if not isinstance(timings, dict) or not all(isinstance(v, (int, float)) for v in timings.values()):
        raise InvalidFindings(path, "field 'timings' must map stage names to seconds", _FIX)
    warnings = doc.get("warnings", [])  # absent in files written before it existed
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise InvalidFindings(path, "field 'warnings' must be a list of texts", _FIX)
    findings, saliency = [], []
    base = path.parent.resolve()
    for i, d in enumerate(raw_findings):
        f, s = _finding(d, i, path)
        findings.append(f)
        if s is not None:
            saliency.append((f.finding_id, str((base / s).resolve())))
    ids = [f.finding_id for f in findings]
    if len(set(ids)) != len(ids):
        raise InvalidFindings(path, "two findings share one id", _FIX)
    info = ModelInfo(_get(model, "id", str, path, "model."), _get(model, "version", str, path, "model."),
                     _get(model, "manifest_sha256", str, path, "model."), str(model.get("name", "")),
                     float(threshold))
    return ScanFindings(
        findings=tuple(findings), model=info, threshold=float(threshold),
        device=str(doc.get("device", "")),
        study_instance_uid=str(scan.get("study_instance_uid", "")),
        series_instance_uid=_get(scan, "series_instance_uid", str, path, "scan."),
        frame_of_reference_uid=str(scan.get("frame_of_reference_uid", "")),
        source=str(scan.get("source", "")),
        timings=tuple((str(k), float(v)) for k, v in timings.items()),
        saliency_files=tuple(saliency), created=str(doc.get("created", "")), warnings=tuple(warnings))

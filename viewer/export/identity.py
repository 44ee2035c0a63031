"""Who made an export and how its objects are named: equipment attributes, UIDs, person names.

Which findings are reported, and their numbers, live in the export plan (plan.py).

Tracking UIDs are derived from the study and the finding id, so the SR, the SEG and the
Parametric Maps of one export (and any later re-export) name each nodule with the same UID.
"""

from __future__ import annotations

from importlib import metadata

from pydicom.uid import generate_uid

from inference.domain.finding import ModelInfo
from viewer.review.followup_export import nodule_uid
from viewer.review.model import ReviewedStudy

MANUFACTURER = "NoduleLens"
MODEL_NAME = "NoduleLens"
SR_SERIES_NUMBER = 9001
SEG_SERIES_NUMBER = 9002
PMAP_SERIES_NUMBER = 9003


def software_version() -> str:
    try:
        return metadata.version("nodulelens")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def device_serial(study: ReviewedStudy) -> str:
    """The software has no serial number; the model id and its manifest hash identify it."""
    if study.model is None:
        return "none"
    return f"{study.model.model_id}:{study.model.manifest_sha256[:12]}"[:64]


def tracking_uid(study: ReviewedStudy, finding_id: str) -> str:
    """The finding's UID when it is first seen in this study (a follow-up keeps the prior's:
    ``viewer.review.followup_export.tracking_uid``, the same derivation)."""
    return nodule_uid(study.study_instance_uid, study.series_instance_uid, finding_id)


def device_uid(model: ModelInfo) -> str:
    """A stable UID for one model version (derived from its manifest hash)."""
    return generate_uid(entropy_srcs=["nodulelens-model", model.model_id, model.version,
                                      model.manifest_sha256])


_TITLES = {"dr", "dr.", "prof", "prof.", "mr", "mr.", "mrs", "mrs.", "ms", "ms."}


def person_name(text: str) -> str:
    """A DICOM person name (``Family^Given^Middle^Prefix``) from what a reviewer typed.

    "Jane Doe" → "Doe^Jane"; "Doe, Jane" → "Doe^Jane"; "Dr. Jane A. Doe" → "Doe^Jane^A.^Dr.";
    a name already in DICOM form is kept; a single word is the family name. The free text itself
    stays where a display name is wanted (PDF, JSON)."""
    text = " ".join(text.split())
    if not text or "^" in text:
        return text[:64]
    prefix = ""
    words = text.replace(",", " , ").split()
    if words and words[0].lower() in _TITLES:
        prefix = words.pop(0)
    if "," in words:
        cut = words.index(",")
        family, rest = " ".join(words[:cut]), [w for w in words[cut + 1:] if w != ","]
    else:
        words = [w for w in words if w != ","]
        family, rest = (words[-1], words[:-1]) if words else ("", [])
    given = rest[0] if rest else ""
    middle = " ".join(rest[1:])
    parts = [family, given, middle, prefix]
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)[:64]

"""Series-level metadata (:class:`SeriesInfo`) from the header of a series' first file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from pydicom.dataset import Dataset

from inference.imaging.dicom_headers import SliceHeader, read_dataset_header
from inference.imaging.errors import CorruptFile
from inference.imaging.volume import SeriesInfo

_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$")
_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _float(ds: Dataset, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _date(text: str) -> date | None:
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text.strip())
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def patient_age_years(age: str, birth: str, study: str) -> float | None:
    """PatientAge ('061Y', '006M', ...) in years, else study date minus birth date, else None."""
    m = _AGE.match(age or "")
    if m:
        return round(int(m[1]) * _DAYS[m[2]] / 365.25, 2)
    b, s = _date(birth or ""), _date(study or "")
    if b and s and s >= b:
        return round((s - b).days / 365.25, 2)
    return None


def series_info(planes: Sequence[SliceHeader], source: str, warnings: tuple[str, ...]) -> SeriesInfo:
    """Raises :class:`CorruptFile` where a header value of the first file cannot be decoded."""
    first = planes[0]
    ds = read_dataset_header(first.path)
    try:
        return _series_info(ds, planes, source, warnings)
    except Exception as exc:  # pydicom decodes values lazily and raises many types on damaged bytes
        raise CorruptFile(first.path, f"a header value cannot be decoded ({type(exc).__name__}: {exc})",
                          "The file is damaged: copy it again from the source, or remove it") from exc


def _series_info(ds: Dataset, planes: Sequence[SliceHeader], source: str, warnings: tuple[str, ...]) -> SeriesInfo:
    first = planes[0]
    number = first.series_number
    birth, study = _text(ds, "PatientBirthDate"), _text(ds, "StudyDate")
    sex = _text(ds, "PatientSex").upper()
    kernel = ds.get("ConvolutionKernel")
    if kernel is not None and not isinstance(kernel, str):
        kernel = "\\".join(str(k) for k in kernel)
    return SeriesInfo(
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        series_instance_uid=first.series_instance_uid,
        frame_of_reference_uid=_text(ds, "FrameOfReferenceUID"),
        sop_class_uid=first.sop_class_uid,
        sop_instance_uids=tuple(p.sop_instance_uid for p in planes),
        source_files=tuple(p.path for p in planes),
        modality=first.modality,
        series_description=first.series_description,
        series_number=number,
        study_description=_text(ds, "StudyDescription"),
        study_date=study,
        study_id=_text(ds, "StudyID"),
        accession_number=_text(ds, "AccessionNumber"),
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        patient_birth_date=birth,
        patient_sex=sex if sex in ("M", "F", "O") else "",
        patient_age_years=patient_age_years(_text(ds, "PatientAge"), birth, study),
        manufacturer=_text(ds, "Manufacturer"),
        manufacturer_model=_text(ds, "ManufacturerModelName"),
        kvp=_float(ds, "KVP"),
        convolution_kernel=str(kernel or "").strip(),
        slice_thickness_mm=first.slice_thickness,
        source=source,
        warnings=warnings,
    )

"""What a search asks for and what it finds, independent of DIMSE or DICOMweb."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from viewer.pacs.errors import PacsError

_DATE_RANGE = re.compile(r"^(\d{8})?(-)?(\d{8})?$")


@dataclass(frozen=True, slots=True)
class StudyQuery:
    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""  # DICOM range: "20240101", "20240101-", "-20231231", "20200101-20231231"
    modality: str = ""
    study_uid: str = ""
    limit: int = 200

    def __post_init__(self) -> None:
        if self.study_date and not _DATE_RANGE.match(self.study_date):
            raise PacsError(self.study_date, "is not a DICOM date or date range",
                            "Use YYYYMMDD, YYYYMMDD-, -YYYYMMDD or YYYYMMDD-YYYYMMDD")
        if not 0 < self.limit <= 10_000:
            raise PacsError(str(self.limit), "is not a sensible result limit", "Use 1 to 10000")

    def identifier(self) -> Dataset:
        """The C-FIND identifier (study level) with the keys we want returned."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.PatientID = self.patient_id
        ds.PatientName = self.patient_name
        ds.StudyDate = self.study_date
        ds.ModalitiesInStudy = self.modality
        ds.StudyInstanceUID = self.study_uid
        ds.StudyDescription = ""
        ds.AccessionNumber = ""
        ds.NumberOfStudyRelatedInstances = ""
        ds.StudyTime = ""
        return ds

    def qido_params(self) -> dict[str, str]:
        params = {"PatientID": self.patient_id, "PatientName": self.patient_name,
                  "StudyDate": self.study_date, "ModalitiesInStudy": self.modality,
                  "StudyInstanceUID": self.study_uid}
        return {k: v for k, v in params.items() if v}


@dataclass(frozen=True, slots=True)
class SeriesHit:
    series_uid: str
    modality: str
    description: str = ""
    number: str = ""
    n_instances: int = 0


@dataclass(frozen=True, slots=True)
class StudyHit:
    study_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    description: str = ""
    modalities: str = ""
    n_instances: int = 0
    series: tuple[SeriesHit, ...] = field(default_factory=tuple)

    def line(self) -> str:
        return (f"{self.study_date or '--------'}  {self.patient_id:<16} {self.patient_name:<24} "
                f"{self.modalities or '?':<6} {self.study_uid}  {self.description}")


def _int(v: object) -> int:
    try:
        return int(str(v))
    except (TypeError, ValueError):
        return 0


def study_from_dataset(ds: Dataset, series: tuple[SeriesHit, ...] = ()) -> StudyHit:
    mods = ds.get("ModalitiesInStudy", "")
    mods_text = "\\".join(str(m) for m in mods) if isinstance(mods, MultiValue) else str(mods or "")
    if not mods_text and series:
        mods_text = "\\".join(sorted({s.modality for s in series if s.modality}))
    return StudyHit(study_uid=str(ds.get("StudyInstanceUID", "")), patient_id=str(ds.get("PatientID", "")),
                    patient_name=str(ds.get("PatientName", "")), study_date=str(ds.get("StudyDate", "")),
                    description=str(ds.get("StudyDescription", "")), modalities=mods_text,
                    n_instances=_int(ds.get("NumberOfStudyRelatedInstances", 0)), series=series)


def series_from_dataset(ds: Dataset) -> SeriesHit:
    return SeriesHit(series_uid=str(ds.get("SeriesInstanceUID", "")), modality=str(ds.get("Modality", "")),
                     description=str(ds.get("SeriesDescription", "")), number=str(ds.get("SeriesNumber", "")),
                     n_instances=_int(ds.get("NumberOfSeriesRelatedInstances", 0)))


def priors_range(study_date: str, years: int) -> str:
    """The DICOM date range of priors: ``years`` before ``study_date`` up to the day before it."""
    try:
        d = date(int(study_date[:4]), int(study_date[4:6]), int(study_date[6:8]))
    except (ValueError, IndexError):
        return f"-{study_date}" if study_date else ""
    start = d.replace(year=d.year - years) if not (d.month == 2 and d.day == 29) else \
        d.replace(year=d.year - years, day=28)
    end = d - timedelta(days=1)
    return f"{start:%Y%m%d}-{end:%Y%m%d}"

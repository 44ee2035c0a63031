"""The patient timeline in the store: a patient's studies in time order and the prior of an exam.

A patient is PatientID plus IssuerOfPatientID (when the header has one). Studies are ordered by
StudyDate, then StudyTime. The prior of an exam is the most recent earlier study of the patient
that has a CT series in the store, unless the reader chose another (:func:`choose_prior`: an
audited, append-only choice; choosing ``None`` goes back to the automatic prior). Two studies on
the same date are a :class:`SameDayStudies` warning (their StudyTime orders them; a same-day
study is never the prior). Qt-free.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inference.longitudinal.errors import DifferentPatient, PriorNotEarlier, PriorUnavailable, SameDayStudies
from viewer.review.store import Store, _iso, utcnow


@dataclass(frozen=True, slots=True)
class TimelineStudy:
    """One study of the patient with its (first) CT series in the store; ``series_uid`` '' = no CT series."""

    study_uid: str
    series_uid: str
    scan_path: str
    study_date: str  # YYYYMMDD
    study_time: str  # HHMMSS[.ffffff]
    patient_id: str
    issuer_of_patient_id: str = ""

    @property
    def has_ct(self) -> bool:
        return bool(self.series_uid)

    @property
    def order_key(self) -> tuple[str, str]:
        return (self.study_date, self.study_time)


def record_study_header(store: Store, study_uid: str, dicom_file: str | Path) -> None:
    """Copy StudyDate, StudyTime, PatientID and IssuerOfPatientID of a study's file into the store."""
    import pydicom

    ds = pydicom.dcmread(str(dicom_file), stop_before_pixels=True,
                         specific_tags=["StudyDate", "StudyTime", "PatientID", "IssuerOfPatientID", "PatientName"])
    values = (str(ds.get("StudyDate", "") or ""), str(ds.get("StudyTime", "") or ""),
              str(ds.get("IssuerOfPatientID", "") or ""), str(ds.get("PatientID", "") or ""), study_uid)

    def tx(c: sqlite3.Connection) -> None:
        c.execute("UPDATE studies SET study_date=?, study_time=?, issuer_of_patient_id=?, "
                  "patient_id=CASE WHEN patient_id='' THEN ? ELSE patient_id END WHERE study_uid=?", values)
    store.transaction("recording the study date", tx)


def _study_of(store: Store, series_or_study: str) -> dict:
    row = store.series_row(series_or_study)
    rows = store.query("SELECT * FROM studies WHERE study_uid=?", (row["study_uid"],))
    return {**rows[0], "series_uid": row["series_uid"], "scan_path": row["scan_path"]}


def patient_timeline(store: Store, patient_id: str, issuer: str = "") -> tuple[list[TimelineStudy], list[str]]:
    """(the patient's studies oldest first, warnings such as two studies on the same date)."""
    rows = store.query(
        "SELECT s.*, (SELECT series_uid FROM series WHERE study_uid=s.study_uid ORDER BY created_at LIMIT 1) "
        "AS series_uid, (SELECT scan_path FROM series WHERE study_uid=s.study_uid ORDER BY created_at LIMIT 1) "
        "AS scan_path FROM studies s WHERE s.patient_id=? AND s.issuer_of_patient_id=? "
        "ORDER BY s.study_date, s.study_time, s.created_at", (patient_id, issuer))
    studies = [TimelineStudy(r["study_uid"], r["series_uid"] or "", r["scan_path"] or "", r["study_date"],
                             r["study_time"], r["patient_id"], r["issuer_of_patient_id"]) for r in rows]
    warnings = []
    for a, b in zip(studies, studies[1:], strict=False):
        if a.study_date and a.study_date == b.study_date:
            warnings.append(str(SameDayStudies(
                f"patient {patient_id}: studies {a.study_uid} and {b.study_uid} share the date {a.study_date}; "
                "ordered by StudyTime, and neither is the other's prior. Choose a prior by hand if needed")))
    return studies, warnings


def _chosen_prior(store: Store, series_uid: str) -> tuple[bool, str | None]:
    rows = store.query("SELECT prior_series_uid FROM prior_choices WHERE series_uid=? ORDER BY seq DESC LIMIT 1",
                       (series_uid,))
    return (False, None) if not rows else (rows[0]["prior_series_uid"] is not None, rows[0]["prior_series_uid"])


def prior_of(store: Store, series_or_study: str) -> TimelineStudy | None:
    """The exam's prior: the reader's choice, else the most recent earlier study with a CT series."""
    me = _study_of(store, series_or_study)
    chosen, uid = _chosen_prior(store, me["series_uid"])
    if chosen and uid:
        return study_for(store, uid)
    studies, _ = patient_timeline(store, me["patient_id"], me["issuer_of_patient_id"])
    if not me["patient_id"] or not me["study_date"]:
        return None
    earlier = [s for s in studies if s.has_ct and s.study_date and s.study_date < me["study_date"]]
    return earlier[-1] if earlier else None


def study_for(store: Store, series_or_study: str) -> TimelineStudy:
    r = _study_of(store, series_or_study)
    return TimelineStudy(r["study_uid"], r["series_uid"], r["scan_path"], r["study_date"], r["study_time"],
                         r["patient_id"], r["issuer_of_patient_id"])


def check_prior(store: Store, current: TimelineStudy, prior: TimelineStudy) -> None:
    """Refuse a prior that cannot be one: another patient, no CT series, files gone, not earlier (typed errors)."""
    if (current.patient_id, current.issuer_of_patient_id) != (prior.patient_id, prior.issuer_of_patient_id) \
            and current.patient_id and prior.patient_id:
        raise DifferentPatient(prior.study_uid, f"belongs to patient '{prior.patient_id}', the current exam to "
                                                f"'{current.patient_id}'", "Choose a prior study of the same patient")
    if not prior.has_ct:
        raise PriorUnavailable(prior.study_uid, "has no CT series in the store",
                               "Import or screen the prior's CT series, or choose another prior")
    if not Path(prior.scan_path).exists():
        raise PriorUnavailable(prior.scan_path, f"(the prior study {prior.study_uid}) is gone: moved or deleted",
                               "Put the files back, or screen them at their new place so the store knows it")
    if prior.study_date and current.study_date and prior.order_key >= current.order_key:
        raise PriorNotEarlier(prior.study_uid, f"was taken on {prior.study_date}, not before the current exam "
                                               f"({current.study_date})", "Choose an earlier study as the prior")


def choose_prior(store: Store, series_uid: str, prior_series_uid: str | None, reviewer: str) -> None:
    """The reader picks the prior (``None``: back to the automatic choice); audited, append-only."""
    if prior_series_uid is not None:
        store.series_row(prior_series_uid)  # raises UnknownStudy for a series the store does not hold
    at = _iso(utcnow())

    def tx(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO prior_choices (series_uid, prior_series_uid, reviewer, at) VALUES (?,?,?,?)",
                  (series_uid, prior_series_uid, reviewer, at))
        store.append_audit(c, reviewer, "choose_prior", series_uid, detail={"prior_series_uid": prior_series_uid})
    store.transaction("saving the choice of prior", tx)

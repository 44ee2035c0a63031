"""Typed errors and warnings of follow-up comparison; each names the study and what to do.

Every error leaves the current exam readable as a baseline: the caller catches
:class:`LongitudinalError`, shows it and goes on without a comparison.
"""

from __future__ import annotations

from inference.errors import ActionableError


class LongitudinalError(ActionableError):
    """Base class: the prior cannot be compared with the current exam."""


class DifferentPatient(LongitudinalError):
    """The prior belongs to another patient (PatientID / IssuerOfPatientID differ)."""


class PriorNotEarlier(LongitudinalError):
    """The 'prior' was taken after the current exam, or on the same day."""


class NoCommonLungs(LongitudinalError):
    """One of the scans shows no lungs, or the two share too little lung (e.g. a head CT)."""


class RegistrationFailed(LongitudinalError):
    """The prior could not be aligned with the current exam well enough to match nodules."""


class PriorUnavailable(LongitudinalError):
    """The prior's files are gone (moved or deleted), or the prior study has no CT series."""


class LongitudinalWarning(UserWarning):
    """Something the reader should know about the comparison; the comparison still stands."""


class SameDayStudies(LongitudinalWarning):
    """Two studies of the patient carry the same StudyDate: their order comes from StudyTime."""

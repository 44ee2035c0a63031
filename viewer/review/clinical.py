"""Clinical inputs of a study: what the patient panel shows and the store keeps. Qt-free.

Age and sex come from the DICOM header when it has them; the reader confirms or overrides them and
enters smoking, family and personal cancer history; emphysema is *measured* on the CT (%LAA-950,
:mod:`inference.imaging.emphysema`) and the reader may overrule the measurement; spiculation is the
reader's call per finding. Every change is one appended row in ``clinical_inputs`` plus an audit
row (``clinical_inputs``) in the same transaction; the latest row is the study's inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from inference.nodules.brock import ClinicalInputs
from viewer.review.errors import ReviewError

if TYPE_CHECKING:
    import sqlite3

    from viewer.review.store import Store

EMPHYSEMA_PRESENT_PERCENT = 5.0  # the same cut-off as inference.imaging.emphysema (cited there)


class Sex(Enum):
    MALE = "M"
    FEMALE = "F"


class SmokingStatus(Enum):
    NEVER = "never"
    FORMER = "former"
    CURRENT = "current"


class InputSource(Enum):
    """Where the value of an input comes from (shown beside it, exported with it)."""

    DICOM_HEADER = "DICOM header"
    READER = "reader"
    MEASURED = "measured on the CT"
    DEFAULT = "model default"
    NOT_GIVEN = "not given"


@dataclass(frozen=True, slots=True)
class PatientInputs:
    """The study's clinical inputs; ``None`` = not given. ``spiculation``: (finding id, spiculated)."""

    age_years: float | None = None
    sex: Sex | None = None
    smoking: SmokingStatus | None = None
    pack_years: float | None = None
    family_history: bool | None = None
    cancer_history: bool | None = None
    emphysema_laa_percent: float | None = None  # measured %LAA-950
    emphysema_reader: bool | None = None  # the reader's call, overrules the measurement
    spiculation: tuple[tuple[str, bool], ...] = ()
    #: the DICOM header's age and sex, kept to tell header values from the reader's
    header_age_years: float | None = None
    header_sex: Sex | None = None

    def __post_init__(self) -> None:
        if self.age_years is not None and not 0.0 < float(self.age_years) < 130.0:
            raise ReviewError("clinical inputs", f"age {self.age_years} years is out of range",
                              "Enter the patient's age in years (1-129) or leave it empty")
        if self.pack_years is not None and not 0.0 <= float(self.pack_years) <= 300.0:
            raise ReviewError("clinical inputs", f"{self.pack_years} pack-years is out of range",
                              "Enter pack-years between 0 and 300 or leave it empty")
        if self.pack_years and self.smoking is SmokingStatus.NEVER:
            raise ReviewError("clinical inputs", f"a never-smoker with {self.pack_years} pack-years",
                              "Set the smoking status to former or current, or pack-years to 0")
        if self.emphysema_laa_percent is not None and not 0.0 <= self.emphysema_laa_percent <= 100.0:
            raise ReviewError("clinical inputs", f"%LAA-950 of {self.emphysema_laa_percent}",
                              "A percentage of lung voxels lies within 0..100")
        object.__setattr__(self, "spiculation", tuple(sorted(dict(self.spiculation).items())))

    # -- derived -----------------------------------------------------------------------------
    @property
    def emphysema(self) -> bool | None:
        """The reader's call, else the measurement against the 5 % cut-off, else unknown."""
        if self.emphysema_reader is not None:
            return self.emphysema_reader
        if self.emphysema_laa_percent is not None:
            return self.emphysema_laa_percent >= EMPHYSEMA_PRESENT_PERCENT
        return None

    def spiculated(self, finding_id: str) -> bool | None:
        return dict(self.spiculation).get(finding_id)

    def with_spiculation(self, finding_id: str, value: bool | None) -> "PatientInputs":
        d = dict(self.spiculation)
        if value is None:
            d.pop(finding_id, None)
        else:
            d[finding_id] = bool(value)
        return replace(self, spiculation=tuple(d.items()))

    def sources(self) -> dict[str, InputSource]:
        """Where each input's value comes from."""
        def given(v: object) -> InputSource:
            return InputSource.NOT_GIVEN if v is None else InputSource.READER

        age = (InputSource.DEFAULT if self.age_years is None else InputSource.DICOM_HEADER
               if self.age_years == self.header_age_years else InputSource.READER)
        sex = (InputSource.DEFAULT if self.sex is None else InputSource.DICOM_HEADER
               if self.sex is self.header_sex else InputSource.READER)
        emph = (InputSource.READER if self.emphysema_reader is not None else InputSource.MEASURED
                if self.emphysema_laa_percent is not None else InputSource.DEFAULT)
        return {"age_years": age, "sex": sex, "smoking": given(self.smoking),
                "pack_years": given(self.pack_years),
                "family_history": InputSource.DEFAULT if self.family_history is None else InputSource.READER,
                "cancer_history": given(self.cancer_history), "emphysema": emph}

    def clinical_for(self, finding_id: str | None = None) -> ClinicalInputs:
        """The Brock model's inputs for one finding (spiculation is per finding)."""
        return ClinicalInputs(age_years=self.age_years, sex=self.sex.value if self.sex else None,
                              family_history=self.family_history, emphysema=self.emphysema,
                              spiculation=self.spiculated(finding_id) if finding_id else None)

    # -- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"age_years": self.age_years, "sex": self.sex.value if self.sex else None,
                "smoking": self.smoking.value if self.smoking else None, "pack_years": self.pack_years,
                "family_history": self.family_history, "cancer_history": self.cancer_history,
                "emphysema_laa_percent": self.emphysema_laa_percent,
                "emphysema_reader": self.emphysema_reader, "emphysema": self.emphysema,
                "spiculation": dict(self.spiculation), "header_age_years": self.header_age_years,
                "header_sex": self.header_sex.value if self.header_sex else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PatientInputs":
        return cls(age_years=d.get("age_years"), sex=Sex(d["sex"]) if d.get("sex") else None,
                   smoking=SmokingStatus(d["smoking"]) if d.get("smoking") else None,
                   pack_years=d.get("pack_years"), family_history=d.get("family_history"),
                   cancer_history=d.get("cancer_history"),
                   emphysema_laa_percent=d.get("emphysema_laa_percent"),
                   emphysema_reader=d.get("emphysema_reader"),
                   spiculation=tuple((d.get("spiculation") or {}).items()),
                   header_age_years=d.get("header_age_years"),
                   header_sex=Sex(d["header_sex"]) if d.get("header_sex") else None)

    @classmethod
    def from_header(cls, info: Any) -> "PatientInputs":
        """Age and sex from a :class:`~inference.imaging.SeriesInfo` (DICOM header), if present."""
        age = getattr(info, "patient_age_years", None)
        age = float(age) if age is not None and 0.0 < float(age) < 130.0 else None
        text = getattr(info, "patient_sex", "") or ""
        sex = Sex(text) if text in ("M", "F") else None
        return cls(age_years=age, sex=sex, header_age_years=age, header_sex=sex)


@dataclass(frozen=True, slots=True)
class StoredInputs:
    inputs: PatientInputs
    actor: str
    at: datetime
    seq: int


# -- store --------------------------------------------------------------------------------------
def save_inputs(store: "Store", uid_or_path: str, inputs: PatientInputs, actor: str) -> StoredInputs:
    """Append the study's inputs (and an audit row naming what changed) in one transaction."""
    from viewer.review.store import _iso, utcnow

    series_uid = store.series_row(uid_or_path)["series_uid"]
    before = load_inputs(store, series_uid)
    old = before.inputs.to_dict() if before else {}
    new = inputs.to_dict()
    changed = sorted(k for k in new if old.get(k) != new[k])
    at = utcnow()

    def tx(c: "sqlite3.Connection") -> int:
        cur = c.execute("INSERT INTO clinical_inputs (series_uid, at, actor, inputs) VALUES (?,?,?,?)",
                        (series_uid, _iso(at), actor, json.dumps(new)))
        store.append_audit(c, actor, "clinical_inputs", series_uid,
                     detail={"seq": cur.lastrowid, "changed": changed}, at=at)
        return int(cur.lastrowid or 0)
    seq = store.transaction("saving the clinical inputs", tx)
    return StoredInputs(inputs, actor, at, seq)


def load_inputs(store: "Store", uid_or_path: str) -> StoredInputs | None:
    """The study's latest inputs, or None when none were ever saved."""
    series_uid = store.series_row(uid_or_path)["series_uid"]
    rows = store.query("SELECT * FROM clinical_inputs WHERE series_uid=? ORDER BY seq DESC LIMIT 1",
                       (series_uid,))
    if not rows:
        return None
    r = rows[0]
    return StoredInputs(PatientInputs.from_dict(json.loads(r["inputs"])), r["actor"],
                        datetime.fromisoformat(r["at"]), int(r["seq"]))


def input_history(store: "Store", uid_or_path: str) -> list[StoredInputs]:
    """Every saved version of the study's inputs, oldest first (the audit of the panel)."""
    series_uid = store.series_row(uid_or_path)["series_uid"]
    return [StoredInputs(PatientInputs.from_dict(json.loads(r["inputs"])), r["actor"],
                         datetime.fromisoformat(r["at"]), int(r["seq"]))
            for r in store.query("SELECT * FROM clinical_inputs WHERE series_uid=? ORDER BY seq",
                                 (series_uid,))]

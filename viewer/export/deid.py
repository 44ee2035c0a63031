"""De-identification of the DICOM outputs of one export (PS3.15 basic profile; see deid_profile).

One :class:`Deidentifier` is used for all objects of an export (SR, SEG, Parametric Maps), so a
UID that appears in several of them is replaced by the same new UID everywhere and the references
between them keep working. References to the source CT instances are remapped with the same
table; :attr:`Deidentifier.uid_map` holds it (old → new) for a caller that also de-identifies the
CT with it. It is never written into the outputs or the report.

:class:`DeidReport` lists, per object, every attribute that was removed, emptied or replaced
(keyword and path, never the original value).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID_dictionary

from viewer.export import deid_profile as profile

_ACTION_WORD = {"X": "removed", "Z": "emptied", "D": "replaced with a dummy value",
                "U": "UID remapped", "P": "private attribute removed"}


#: what a de-identified export says in place of the reader's free-text reason for a read without AI
REASON_REMOVED = "free text removed by de-identification"


@dataclass(frozen=True, slots=True)
class DeidEntry:
    obj: str  # which output ("SR", "SEG", "PM f1")
    path: str  # e.g. "ContentSequence[0].PersonName"
    action: str  # PS3.15 action code: X, Z, D, U or P

    def to_dict(self) -> dict:
        return {"object": self.obj, "attribute": self.path, "action": self.action,
                "meaning": _ACTION_WORD[self.action]}


@dataclass(slots=True)
class DeidReport:
    entries: list[DeidEntry] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(e.action == action for e in self.entries)

    def to_dict(self) -> dict:
        return {
            "profile": [f"DCM {c}: {m}" for c, m in profile.METHOD_CODES],
            "uids_remapped_consistently": True,
            "summary": {_ACTION_WORD[a]: self.count(a) for a in _ACTION_WORD},
            "entries": [e.to_dict() for e in self.entries],
        }

    def to_text(self) -> str:
        lines = ["De-identification report (DICOM PS3.15 basic profile)",
                 *(f"  applied: DCM {c} {m}" for c, m in profile.METHOD_CODES),
                 *(f"  {n} attribute(s) {w}" for a, w in _ACTION_WORD.items()
                   if (n := self.count(a))), ""]
        lines += [f"{e.obj}\t{e.path}\t{_ACTION_WORD[e.action]}" for e in self.entries]
        return "\n".join(lines) + "\n"

    def write(self, path: str | Path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, indent=2)


class Deidentifier:
    """Applies the profile to datasets; keeps one UID table for all of them."""

    def __init__(self, patient_pseudonym: str = "", uid_map: Mapping[str, str] | None = None) -> None:
        """``uid_map`` continues the table of an earlier export (e.g. to de-identify the source
        CT so that it matches the de-identified SR/SEG/Parametric Maps)."""
        self.patient_pseudonym = patient_pseudonym
        self.uid_map: dict[str, str] = dict(uid_map or {})
        self._issued: set[str] = set(self.uid_map.values())
        self.report = DeidReport()

    def new_uid(self, old: str) -> str:
        """The replacement of ``old``; a UID this table issued is its own replacement (an item
        shared by two places of one dataset is visited twice and must not be remapped again)."""
        if old in self._issued:
            return old
        if old not in self.uid_map:
            self.uid_map[old] = str(hd.UID())
            self._issued.add(self.uid_map[old])
        return self.uid_map[old]

    def apply(self, ds: Dataset, label: str) -> Dataset:
        """A de-identified copy of ``ds`` (the input is left as it was)."""
        out = copy.deepcopy(ds)
        self._walk(out, label, "")
        if getattr(out, "file_meta", None) is not None and "MediaStorageSOPInstanceUID" in out.file_meta:
            out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        if self.patient_pseudonym:
            out.PatientID = self.patient_pseudonym
            out.PatientName = self.patient_pseudonym
        out.PatientIdentityRemoved = "YES"
        out.DeidentificationMethod = ["PS3.15 basic profile", "clean structured content",
                                      "retain device identity", "UIDs remapped"]
        codes = []
        for value, meaning in profile.METHOD_CODES:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
            codes.append(item)
        out.DeidentificationMethodCodeSequence = DicomSequence(codes)
        out.LongitudinalTemporalInformationModified = "MODIFIED"
        return out

    # -- the walk ---------------------------------------------------------------------------------
    def _walk(self, ds: Dataset, label: str, prefix: str) -> None:
        clean_text = _is_identifying_text_item(ds)
        for elem in list(ds):
            tag = elem.tag
            path = f"{prefix}{elem.keyword or str(tag)}"
            if tag.is_private:
                del ds[tag]
                self._log(label, path, "P")
                continue
            keyword = elem.keyword or keyword_for_tag(tag)
            action = profile.ACTIONS.get(keyword)
            if keyword == "TextValue" and clean_text:
                action = "D"
            if action is not None and not (action == "Z" and _is_empty(elem.value)):
                self._act(ds, elem, action, label, path)
                continue
            if elem.VR == "UI" and keyword not in profile.KEEP_UIDS:
                self._remap(elem, label, path)
            elif elem.VR == "SQ":
                for i, item in enumerate(elem.value):
                    self._walk(item, label, f"{path}[{i}].")

    def _act(self, ds: Dataset, elem: DataElement, action: str, label: str, path: str) -> None:
        if action == "X":
            del ds[elem.tag]
        elif action == "Z":
            elem.value = DicomSequence([]) if elem.VR == "SQ" else ""
        else:  # D
            elem.value = profile.DUMMY.get(elem.VR, "REMOVED")
        self._log(label, path, action)

    def _remap(self, elem: DataElement, label: str, path: str) -> None:
        values = elem.value if isinstance(elem.value, (list, tuple)) or elem.VM > 1 else [elem.value]
        new = []
        changed = False
        for v in values:
            v = str(v)
            if not v or v in UID_dictionary or v in self._issued:
                new.append(v)
            else:
                new.append(self.new_uid(v))
                changed = True
        if changed:
            elem.value = new if len(new) > 1 else new[0]
            self._log(label, path, "U")

    def _log(self, label: str, path: str, action: str) -> None:
        self.report.entries.append(DeidEntry(label, path, action))


def _is_empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, (list, DicomSequence)) and len(value) == 0)


def _is_identifying_text_item(ds: Dataset) -> bool:
    if getattr(ds, "ValueType", None) != "TEXT" or "ConceptNameCodeSequence" not in ds:
        return False
    name = ds.ConceptNameCodeSequence[0]
    if name.CodingSchemeDesignator == "99NDLNS":
        return name.CodeValue in profile.CLEAN_PRIVATE_TEXT_CONCEPTS
    return name.CodingSchemeDesignator == "DCM" and name.CodeValue in profile.CLEAN_TEXT_CONCEPTS

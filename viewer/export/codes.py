"""Coded concepts of the exports, and NoduleLens' private coding scheme ``99NDLNS``.

Standard codes come from DICOM (DCM), SNOMED CT (SCT), LOINC (LN) and UCUM. Concepts that have no
standard code (Lung-RADS categories, the reviewer's decision, the detector's score, the nodule
type values) use the private scheme below, which every SR declares in its Coding Scheme
Identification Sequence. The scheme is documented here and in the README:

=================  ====================================================================
code (99NDLNS)     meaning
=================  ====================================================================
LDCT               Low dose CT of chest (procedure reported, next to LOINC 24627-2)
NODTYPE            Nodule type (values SOLID, PARTSOLID, GGN)
LUNGRADS           Lung-RADS v2022 category (values LR0, LR1, LR2, LR3, LR4A, LR4B, LR4X)
AISCORE            AI detection score (0..1, unit 1)
REVDEC             Reviewer decision (values ACCEPTED, ADDED, EDITED)
SOLIDDIAM          Solid component diameter (mm; part-solid nodules)
MEANDIAM           Mean diameter (mean of long and short axis, mm)
NODCOUNT           Nodules reported (report qualitative evaluations; unit {nodules})
AICOUNT            AI findings reviewed (report qualitative evaluations)
AIREJECT           AI findings rejected by the reviewer (ditto)
NONODULE           No lung nodule reported (exam finding of a report without nodules)
READSTATE          Read state (TEXT: signed off / preliminary, undecided findings, read without AI and why)
=================  ====================================================================
"""

from __future__ import annotations

from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from inference.domain.nodule import LungRads, NoduleType, Side, Zone

SCHEME = "99NDLNS"
SCHEME_NAME = "NoduleLens private codes"
SCHEME_VERSION = "1"
SCHEME_RESPONSIBLE = "NoduleLens project"


def private(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value=value, meaning=meaning, scheme_designator=SCHEME)


def coding_scheme_identification() -> Dataset:
    """The item that declares ``99NDLNS`` on an SR (Coding Scheme Identification Sequence)."""
    item = Dataset()
    item.CodingSchemeDesignator = SCHEME
    item.CodingSchemeName = SCHEME_NAME
    item.CodingSchemeVersion = SCHEME_VERSION
    item.CodingSchemeResponsibleOrganization = SCHEME_RESPONSIBLE
    return item


# -- procedure and finding ---------------------------------------------------------------------
CT_CHEST = CodedConcept("24627-2", "LN", "CT Chest")
LOW_DOSE_CT_CHEST = private("LDCT", "Low dose CT of chest")
NODULE = CodedConcept.from_code(codes.SCT.Nodule)
LUNG = CodedConcept.from_code(codes.SCT.Lung)
LATERALITY = {Side.RIGHT: codes.SCT.Right, Side.LEFT: codes.SCT.Left}
ZONE_SITE = {
    Zone.UPPER: codes.SCT.UpperZoneOfLung,
    Zone.MIDDLE: codes.SCT.MiddleZoneOfLung,
    Zone.LOWER: codes.SCT.LowerZoneOfLung,
}

# -- measurements (UCUM units) -----------------------------------------------------------------
# meanings as OHIF's bidirectional reader matches them ("Long Axis", "Short Axis")
LONG_AXIS = CodedConcept(codes.SCT.LongAxis.value, "SCT", "Long Axis")
SHORT_AXIS = CodedConcept(codes.SCT.ShortAxis.value, "SCT", "Short Axis")
MEAN_DIAMETER = private("MEANDIAM", "Mean diameter")
DIAMETER = CodedConcept.from_code(codes.SCT.Diameter)
VOLUME = CodedConcept.from_code(codes.SCT.Volume)
SOLID_DIAMETER = private("SOLIDDIAM", "Solid component diameter")
MALIGNANCY_RISK = CodedConcept.from_code(codes.DCM.ProbabilityOfCancer)
AI_SCORE = private("AISCORE", "AI detection score")
MM = CodedConcept("mm", "UCUM", "millimeter")
MM3 = CodedConcept("mm3", "UCUM", "cubic millimeter")
PERCENT = CodedConcept("%", "UCUM", "percent")
NO_UNIT = CodedConcept("1", "UCUM", "no units")

# -- qualitative evaluations -------------------------------------------------------------------
NODULE_TYPE = private("NODTYPE", "Nodule type")
NODULE_TYPE_VALUE = {
    NoduleType.SOLID: private("SOLID", "Solid"),
    NoduleType.PART_SOLID: private("PARTSOLID", "Part-solid"),
    NoduleType.GROUND_GLASS: private("GGN", "Ground-glass"),
}
LUNG_RADS = private("LUNGRADS", "Lung-RADS v2022 category")
LUNG_RADS_VALUE = {c: private(f"LR{c.value}", f"Lung-RADS {c.value}") for c in LungRads}
REVIEW_DECISION = private("REVDEC", "Reviewer decision")
DECISION_ACCEPTED = private("ACCEPTED", "Accepted AI finding")
DECISION_ADDED = private("ADDED", "Added by reviewer")
DECISION_EDITED = private("EDITED", "AI finding accepted after editing")

# -- exam items (TID 1500 qualitative evaluations) ---------------------------------------------
NODULES_REPORTED = private("NODCOUNT", "Nodules reported")
AI_FINDINGS_REVIEWED = private("AICOUNT", "AI findings reviewed")
AI_FINDINGS_REJECTED = private("AIREJECT", "AI findings rejected by the reviewer")
COUNT_NODULES = CodedConcept("{nodules}", "UCUM", "nodules")
COUNT_FINDINGS = CodedConcept("{findings}", "UCUM", "findings")

FINDING = CodedConcept("121071", "DCM", "Finding")
NO_NODULE = private("NONODULE", "No lung nodule reported")
MANAGEMENT = CodedConcept("121075", "DCM", "Recommendation")
READ_STATE = private("READSTATE", "Read state")

# -- saliency parametric map -------------------------------------------------------------------
SALIENCY = CodedConcept.from_code(codes.DCM.Saliency)

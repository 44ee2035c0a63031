"""De-identified exports through the store (``nodulelens export --deidentify [--with-ct]``): the
study's UID map persists in the store, so separate exports refer to the same UIDs, the objects lie
on the de-identified CT, and nothing of PS3.15's basic profile is left."""

from __future__ import annotations
from inference.domain.nodule import LungRads

from pathlib import Path

import pydicom
import pytest
from export_helpers import NODULE_CENTER, dciodvfy_errors
from test_export_readers import _node
from test_export_report import _text

from viewer.cli import main
from viewer.review.model import RejectReason

#: PS3.15 Table E.1-1 attributes (basic profile) that must be gone (X) or empty (Z) in every output
#: (written out here from the standard, independently of viewer/export/deid_profile.py)
MUST_BE_ABSENT = (
    "ContributionDateTime", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "StationName", "OperatorsName", "PerformingPhysicianName", "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord", "PatientAge", "PatientSize", "PatientWeight", "PatientAddress",
    "OtherPatientIDs", "OtherPatientNames", "OtherPatientIDsSequence", "PatientComments",
    "AdditionalPatientHistory", "EthnicGroup", "Occupation", "StudyDescription", "SeriesDescription",
    "SeriesDate", "SeriesTime", "AcquisitionDate", "AcquisitionTime",
    "InstanceCreationDate", "InstanceCreationTime", "ProtocolName", "RequestAttributesSequence",
    "ReferencedStudySequence", "ReferencedPatientSequence", "ImageComments", "DerivationDescription",
    "TimezoneOffsetFromUTC", "PerformedProcedureStepStartDate", "PerformedProcedureStepDescription",
    "RequestingPhysician", "MedicalRecordLocator", "ResponsiblePerson", "SmokingStatus",
)
MUST_BE_EMPTY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                 "AccessionNumber", "StudyID", "ReferringPhysicianName", "ContentCreatorName",
                 "AcquisitionDateTime")  # X/Z/D: type 2 in the Encapsulated PDF, so emptied


@pytest.fixture(scope="module")
def exports(tmp_path_factory, lidc1, lidc1_volume, study, saliency) -> dict[str, Path]:
    """Three separate de-identified exports of one study from one store: SR with the CT, PDF, SR."""
    from inference.service.findings_file import save_saliency
    from viewer.review.session import ReviewSession
    from viewer.review.store import Store

    root = tmp_path_factory.mktemp("deid_store")
    db = root / "review.db"
    info = lidc1_volume.info
    f1, f2 = study.findings[0].finding, study.findings[1].finding
    with Store(db) as store:
        store.add_series(info.study_instance_uid, info.series_instance_uid, str(lidc1), actor="test")
        store.record_screening(info.series_instance_uid, [f1, f2], study.model, flagged=True,
                               highest_lung_rads=LungRads("4B"), highest_risk=0.42,
                               saliency_paths={"f1": str(save_saliency(saliency["f1"].volume, root / "f1.npz",
                                                                        method=saliency["f1"].method))})
        session = ReviewSession(store, info.series_instance_uid, "Jane Doe", current_model=study.model.model_id)
        session.accept("f1")
        session.reject("f2", RejectReason.VESSEL)
        session.sign_off()
    uid = info.study_instance_uid
    for name, args in (("a", ["--format", "sr", "--with-ct"]), ("b", ["--format", "pdf"]),
                       ("c", ["--format", "sr"])):
        assert main(["export", uid, "--db", str(db), "--deidentify", "--out", str(root / name), *args]) == 0
    return {"root": root, "db": db}


def _dcm(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.dcm"))


def test_separate_exports_refer_to_the_same_uids(exports) -> None:
    a = pydicom.dcmread(exports["root"] / "a" / "sr.dcm")
    c = pydicom.dcmread(exports["root"] / "c" / "sr.dcm")
    pdf = pydicom.dcmread(exports["root"] / "b" / "report.dcm", stop_before_pixels=True)
    assert a.StudyInstanceUID == c.StudyInstanceUID == pdf.StudyInstanceUID

    def evidence(ds) -> set[str]:
        return {s.ReferencedSOPInstanceUID for st in ds.CurrentRequestedProcedureEvidenceSequence
                for se in st.ReferencedSeriesSequence for s in se.ReferencedSOPSequence}

    ct = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in _dcm(exports["root"] / "a" / "ct")}
    assert len(ct) == 133
    assert ct <= evidence(a) and ct <= evidence(c)  # both SRs cite the same de-identified CT
    assert {s.ReferencedSOPInstanceUID for s in pdf.SourceInstanceSequence} <= ct
    seg_a = pydicom.dcmread(exports["root"] / "a" / "seg.dcm", stop_before_pixels=True)
    seg_c = pydicom.dcmread(exports["root"] / "c" / "seg.dcm", stop_before_pixels=True)
    assert seg_a.SegmentSequence[0].TrackingUID == seg_c.SegmentSequence[0].TrackingUID
    assert seg_a.FrameOfReferenceUID == seg_c.FrameOfReferenceUID


def test_the_map_lives_in_the_store_and_never_in_an_output(exports, lidc1_volume) -> None:
    from viewer.review import deid_map
    from viewer.review.store import Store

    with Store(exports["db"], read_only=True) as store:
        mapping = deid_map.uid_map(store, lidc1_volume.info.study_instance_uid)
    info = lidc1_volume.info
    assert mapping[info.study_instance_uid] and mapping[info.frame_of_reference_uid]
    assert set(info.sop_instance_uids) <= set(mapping)
    secrets = [info.study_instance_uid, info.series_instance_uid, info.frame_of_reference_uid,
               *info.sop_instance_uids[::15], "LIDC-IDRI-0001", "Jane Doe", "Doe^Jane", "Doe"]
    pdfs = list(exports["root"].rglob("*.pdf"))
    assert pdfs
    for path in exports["root"].rglob("*"):
        if path.is_file() and path.suffix in (".dcm", ".json", ".pdf"):
            # a PDF's text is compressed: read it as text
            blob = _text(path).encode() if path.suffix == ".pdf" else path.read_bytes()
            if path.suffix == ".pdf":  # no patient block, no sign-off date
                words = b" ".join(blob.split())
                assert b"2000-01-01" not in words and b"signed off by the reviewing radiologist." in words
            for secret in secrets:
                assert secret.encode() not in blob, f"{secret} left in {path}"


def test_no_basic_profile_attribute_is_left_in_any_output(exports) -> None:
    files = _dcm(exports["root"] / "a")[:4] + _dcm(exports["root"] / "a" / "ct")[::40]
    files += _dcm(exports["root"] / "b") + _dcm(exports["root"] / "c")
    assert any(p.name == "report.dcm" for p in files) and any("ct" in p.parts for p in files)
    for path in files:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        found: list[str] = []

        def visit(d, elem, found=found) -> None:
            if elem.tag.is_private:
                found.append(f"private {elem.tag}")
            elif elem.keyword in MUST_BE_ABSENT:
                found.append(elem.keyword)
            elif elem.keyword in MUST_BE_EMPTY and elem.value not in ("", None):
                found.append(f"{elem.keyword}={elem.value!r}")

        ds.walk(visit)
        assert found == [], f"{path.name}: {found}"
        assert ds.PatientIdentityRemoved == "YES"


def test_every_deidentified_object_validates(exports, lidc1_volume) -> None:
    for name in ("sr.dcm", "seg.dcm", "pm_f1.dcm"):
        assert dciodvfy_errors(exports["root"] / "a" / name) == [], name
    assert dciodvfy_errors(exports["root"] / "b" / "report.dcm") == []
    source_errors = set(dciodvfy_errors(Path(lidc1_volume.info.source_files[0])))
    ct = _dcm(exports["root"] / "a" / "ct")[0]
    assert set(dciodvfy_errors(ct)) <= source_errors  # de-identification adds no error to the CT


def test_the_deidentified_seg_lies_on_the_deidentified_ct(exports) -> None:
    folder = exports["root"] / "a"
    seg = pydicom.dcmread(folder / "seg.dcm", stop_before_pixels=True)
    ct = [pydicom.dcmread(p, stop_before_pixels=True) for p in _dcm(folder / "ct")]
    assert {c.SeriesInstanceUID for c in ct} == {seg.ReferencedSeriesSequence[0].SeriesInstanceUID}
    assert {c.FrameOfReferenceUID for c in ct} == {seg.FrameOfReferenceUID}
    sources = {f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
               for f in seg.PerFrameFunctionalGroupsSequence}
    assert sources <= {c.SOPInstanceUID for c in ct}
    got = _node("seg", folder / "seg.dcm", folder / "ct")  # OHIF's reader, on the de-identified CT
    assert len(got["segments"]) == 1
    world = got["centroids"]["1"]["world"]
    assert sum((a - b) ** 2 for a, b in zip((world["x"], world["y"], world["z"]), NODULE_CENTER,
                                            strict=True)) ** 0.5 < 2.0

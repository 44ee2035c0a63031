"""De-identification: every DICOM output stays valid, UIDs are remapped consistently, nothing of
the patient or the people is left, and the report lists what was done."""

from __future__ import annotations

import json

import highdicom as hd
import pydicom
import pytest
from export_helpers import dciodvfy_errors

from viewer.export.exporter import ExportInputs, export_study


@pytest.fixture(scope="module")
def deidentified(tmp_path_factory, study, lidc1_volume, masks, saliency):
    out = tmp_path_factory.mktemp("deid") / "sr"
    result = export_study(ExportInputs(study, lidc1_volume, masks, saliency), "sr", out, deidentify=True)
    return result, {p.stem: p for p in result.files}


def test_every_deidentified_object_passes_dciodvfy(deidentified) -> None:
    _, files = deidentified
    dicom = [p for p in files.values() if p.suffix == ".dcm"]
    assert sorted(p.stem for p in dicom) == ["pm_f1", "seg", "sr"]
    for path in dicom:
        assert dciodvfy_errors(path) == [], path.name


def test_no_original_uid_or_identity_is_left(deidentified, lidc1_volume, study) -> None:
    _, files = deidentified
    secrets = [lidc1_volume.info.study_instance_uid, lidc1_volume.info.series_instance_uid,
               lidc1_volume.info.frame_of_reference_uid, *lidc1_volume.info.sop_instance_uids[::10],
               "LIDC-IDRI-0001", "Doe^Jane", "Test Hospital"]
    for path in files.values():
        blob = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in blob, f"{secret} left in {path.name}"
    for name in ("sr", "seg", "pm_f1"):
        ds = pydicom.dcmread(files[name], stop_before_pixels=True)
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.PatientID == "" and ds.PatientName == ""
        assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113104", "113109"]


def test_uids_are_remapped_consistently_across_sr_seg_and_maps(deidentified) -> None:
    _, files = deidentified
    sr = hd.sr.srread(files["sr"])
    seg = pydicom.dcmread(files["seg"], stop_before_pixels=True)
    pm = pydicom.dcmread(files["pm_f1"], stop_before_pixels=True)
    assert sr.StudyInstanceUID == seg.StudyInstanceUID == pm.StudyInstanceUID
    assert seg.FrameOfReferenceUID == pm.FrameOfReferenceUID
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == pm.ReferencedSeriesSequence[0].SeriesInstanceUID
    groups = {g.tracking_identifier.rsplit(":", 1)[-1]: g
              for g in sr.content.get_volumetric_roi_measurement_groups()}
    g = groups["Nodule 1 (f1)"]
    assert g.referenced_segment.referenced_sop_instance_uid == seg.SOPInstanceUID
    assert g.tracking_uid == seg.SegmentSequence[0].TrackingUID
    evidence = {s.ReferencedSOPInstanceUID for st in sr.CurrentRequestedProcedureEvidenceSequence
                for se in st.ReferencedSeriesSequence for s in se.ReferencedSOPSequence}
    seg_sources = {r.ReferencedSOPInstanceUID for r in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert seg_sources <= evidence and {seg.SOPInstanceUID, pm.SOPInstanceUID} <= evidence
    meta = pydicom.dcmread(files["sr"], stop_before_pixels=True).file_meta
    assert meta.MediaStorageSOPInstanceUID == sr.SOPInstanceUID


def test_the_report_says_what_was_removed(deidentified) -> None:
    result, files = deidentified
    report = json.loads(files["deidentification"].read_text())
    assert report["uids_remapped_consistently"] is True
    done = {(e["object"], e["attribute"]): e["action"] for e in report["entries"]}
    assert done[("sr", "PatientID")] == "Z"
    assert done[("sr", "InstitutionName")] == "X"
    assert done[("sr", "VerifyingObserverSequence[0].VerifyingObserverName")] == "D"
    assert done[("seg", "StudyInstanceUID")] == "U"
    assert any(k[0] == "sr" and k[1].endswith("PersonName") for k in done)
    assert report["summary"]["UID remapped"] > 133
    assert result.deid_report is not None and "basic profile" in result.deid_report.to_text().lower()
    assert "LIDC-IDRI-0001" not in files["deidentification"].read_text()


def test_a_deidentified_json_and_csv_carry_no_names_or_paths(tmp_path, study) -> None:
    res = export_study(ExportInputs(study), "json", tmp_path / "e.json", deidentify=True)
    text = (tmp_path / "e.json").read_text()
    assert "Doe^Jane" not in text and study.study_instance_uid not in text and "LIDC" not in text
    assert json.loads(text)["study"]["reviewer"] == "reviewer 1"
    assert res.files[-1].name == "e.json.deidentification.json"  # beside its own export
    export_study(ExportInputs(study), "csv", tmp_path / "c.csv", deidentify=True)
    assert study.series_instance_uid not in (tmp_path / "c.csv").read_text()


def test_the_uid_table_de_identifies_the_source_ct_to_match(deidentified, lidc1_volume) -> None:
    from viewer.export.deid import Deidentifier

    result, files = deidentified
    ct = pydicom.dcmread(lidc1_volume.info.source_files[60])
    anon = Deidentifier(uid_map=result.uid_map).apply(ct, "CT")
    sr = pydicom.dcmread(files["sr"], stop_before_pixels=True)
    seg = pydicom.dcmread(files["seg"], stop_before_pixels=True)
    evidence = {s.ReferencedSOPInstanceUID: se.SeriesInstanceUID
                for st in sr.CurrentRequestedProcedureEvidenceSequence
                for se in st.ReferencedSeriesSequence for s in se.ReferencedSOPSequence}
    assert evidence[anon.SOPInstanceUID] == anon.SeriesInstanceUID
    assert anon.StudyInstanceUID == sr.StudyInstanceUID
    assert anon.FrameOfReferenceUID == seg.FrameOfReferenceUID
    assert anon.PatientID == "" and "CTP" not in str(anon)  # private tags gone
    assert ct.SOPInstanceUID == lidc1_volume.info.sop_instance_uids[60]  # input left as it was
